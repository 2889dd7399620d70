/*
 * queue_load.c — opening the spool at start: create it if needed, clean
 * what a crash left half-written, move unreadable envelopes to corrupt/,
 * and index every committed message for the scheduler.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "queue/queue_id.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

/* Indexed by queue_new itself, then per turn of the event loop. */
#define LOAD_FIRST	2000
#define LOAD_BATCH	500

static int
idlist_add(struct qidlist *l, const char *id)
{
	char	(*nv)[QUEUE_ID_SIZE];
	size_t	 ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 1024;
		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	memcpy(l->v[l->n++], id, QUEUE_ID_SIZE);
	return 0;
}

static int
idcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
idlist_has(const struct qidlist *l, const char *id)
{
	return l->n > 0 &&
	    bsearch(id, l->v, l->n, sizeof(l->v[0]), idcmp) != NULL;
}

/* mkdir -p PATH with MODE for the parts it creates; 0 or -1. */
static int
mkdir_p(const char *path, mode_t mode)
{
	char	 buf[4096];
	size_t	 i, len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		buf[i] = path[i];
	}
	return 0;
}

static int
open_dir(int parent, const char *name)
{
	if (mkdirat(parent, name, 0700) == -1 && errno != EEXIST)
		return -1;
	return openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The suffix of NAME after a queue ID, or NULL when it is not ID.suffix. */
static const char *
id_suffix(const char *name, char id[QUEUE_ID_SIZE])
{
	if (strlen(name) <= QUEUE_ID_LEN || name[QUEUE_ID_LEN] != '.')
		return NULL;
	memcpy(id, name, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = '\0';
	return queue_id_valid(id) ? name + QUEUE_ID_LEN : NULL;
}

static int
has_suffix(const char *name, const char *suffix)
{
	size_t	 n = strlen(name), s = strlen(suffix);

	return n >= s && strcmp(name + n - s, suffix) == 0;
}

/* Reads queue/: removes temporary files, lists .msg and .env IDs. */
static int
load_scan(struct queue *q, struct qidlist *msgs, struct qidlist *envs)
{
	DIR		*d;
	struct dirent	*de;
	const char	*suffix;
	char		 id[QUEUE_ID_SIZE];
	int		 fd, rv = 0;

	if ((fd = dup(q->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		suffix = id_suffix(de->d_name, id);
		if (has_suffix(de->d_name, ".tmp")) {
			log_info("msgid=%s event=cleanup file=%s "
			    "reason=half-written", suffix ? id : "-",
			    de->d_name);
			if (unlinkat(q->dirfd, de->d_name, 0) == -1)
				log_warn("queue: unlink %s", de->d_name);
		} else if (suffix != NULL && strcmp(suffix, ".msg") == 0)
			rv |= idlist_add(msgs, id);
		else if (suffix != NULL && strcmp(suffix, ".env") == 0)
			rv |= idlist_add(envs, id);
		else
			log_warnx("queue: unknown file %s in the spool, left "
			    "alone", de->d_name);
	}
	closedir(d);
	if (msgs->n > 1)
		qsort(msgs->v, msgs->n, sizeof(msgs->v[0]), idcmp);
	if (envs->n > 1)
		qsort(envs->v, envs->n, sizeof(envs->v[0]), idcmp);
	return rv;
}

void
queue_corrupt(struct queue *q, const char *id, const char *why)
{
	char	 name[QUEUE_ID_SIZE + 8];

	log_warnx("msgid=%s event=corrupt moved=corrupt/ reason=%s",
	    id, log_q(why));
	snprintf(name, sizeof(name), "%s.env", id);
	if (renameat(q->dirfd, name, q->corruptfd, name) == -1 &&
	    errno != ENOENT)
		log_warn("msgid=%s event=error step=corrupt file=%s", id, name);
	snprintf(name, sizeof(name), "%s.msg", id);
	if (renameat(q->dirfd, name, q->corruptfd, name) == -1 &&
	    errno != ENOENT)
		log_warn("msgid=%s event=error step=corrupt file=%s", id, name);
	if (fsync(q->corruptfd) == -1 || fsync(q->dirfd) == -1)
		log_warn("queue: fsync after moving %s aside", id);
}

/* Indexes one committed message; 0, or -1 when out of memory. */
static int
load_one(struct queue *q, const char *id)
{
	struct queue_env	 qe;
	struct qmsg		*m;
	const char		*why;

	if (queue_env_read(q->dirfd, id, &qe, &why) == -1) {
		if (why == NULL) {	/* left for the next start */
			log_warn("msgid=%s event=error step=load", id);
			return 0;
		}
		queue_corrupt(q, id, why);
		return 0;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		queue_env_free(&qe);
		return -1;
	}
	memcpy(m->id, id, sizeof(m->id));
	m->attempts = qe.attempts;
	m->created = qe.env.created;
	m->next_try = qe.next_try;
	m->hold = qe.hold;
	queue_env_free(&qe);
	if (qheap_push(&q->heap, m) == -1) {
		free(m);
		return -1;
	}
	return 0;
}

/* Indexes up to MAX more envelopes of q->loading; 0 or -1. */
static int
load_some(struct queue *q, size_t max)
{
	for (; max > 0 && q->loadpos < q->loading.n; max--)
		if (load_one(q, q->loading.v[q->loadpos++]) == -1)
			return -1;
	return 0;
}

static void
load_done(struct queue *q)
{
	log_info("queue: %zu messages in %s", q->heap.n + q->nflights,
	    q->conf->queue_dir);
	queue_load_free(q);
}

void
queue_load_free(struct queue *q)
{
	if (q->ev_load != NULL)
		event_free(q->ev_load);
	q->ev_load = NULL;
	free(q->loading.v);
	memset(&q->loading, 0, sizeof(q->loading));
	q->loadpos = 0;
}

static void
load_tick(evutil_socket_t fd, short ev, void *arg)
{
	static const struct timeval	 zero = { 0, 0 };
	struct queue			*q = arg;

	(void)fd;
	(void)ev;
	if (load_some(q, LOAD_BATCH) == -1)
		fatal("queue: loading the spool");
	queue_sched_kick(q);
	if (q->loadpos == q->loading.n)
		load_done(q);
	else if (evtimer_add(q->ev_load, &zero) == -1)
		fatalx("queue: evtimer_add");
}

/* Removes orphan messages, moves lone envelopes aside, keeps the rest. */
static void
load_pair(struct queue *q, const struct qidlist *msgs, struct qidlist *envs)
{
	char	 name[QUEUE_ID_SIZE + 8];
	size_t	 i, n = 0;

	for (i = 0; i < msgs->n; i++) {
		if (idlist_has(envs, msgs->v[i]))
			continue;
		log_info("msgid=%s event=cleanup file=%s.msg "
		    "reason=no-envelope", msgs->v[i], msgs->v[i]);
		snprintf(name, sizeof(name), "%s.msg", msgs->v[i]);
		if (unlinkat(q->dirfd, name, 0) == -1)
			log_warn("queue: unlink %s", name);
	}
	for (i = 0; i < envs->n; i++) {
		if (!idlist_has(msgs, envs->v[i]))
			queue_corrupt(q, envs->v[i], "no message file");
		else if (n++ != i)
			memcpy(envs->v[n - 1], envs->v[i], QUEUE_ID_SIZE);
	}
	envs->n = n;
}

static int
load_index(struct queue *q, struct qidlist *msgs, struct qidlist *envs)
{
	static const struct timeval	 zero = { 0, 0 };

	load_pair(q, msgs, envs);
	q->loading = *envs;
	memset(envs, 0, sizeof(*envs));
	if (load_some(q, LOAD_FIRST) == -1)
		return -1;
	if (q->loadpos == q->loading.n) {
		load_done(q);
		return 0;
	}
	log_info("queue: indexing %zu more messages in the background",
	    q->loading.n - q->loadpos);
	if ((q->ev_load = evtimer_new(q->base, load_tick, q)) == NULL ||
	    evtimer_add(q->ev_load, &zero) == -1)
		return -1;
	return 0;
}

int
queue_load(struct queue *q)
{
	struct qidlist	 msgs = { 0 }, envs = { 0 };
	int		 top, rv = -1;

	if (mkdir_p(q->conf->queue_dir, 0700) == -1 ||
	    (top = open(q->conf->queue_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		log_warn("queue: %s", q->conf->queue_dir);
		return -1;
	}
	q->dirfd = open_dir(top, "queue");
	q->corruptfd = open_dir(top, "corrupt");
	if (q->dirfd == -1 || q->corruptfd == -1 || fsync(top) == -1) {
		log_warn("queue: %s/queue or corrupt", q->conf->queue_dir);
		close(top);
		return -1;
	}
	close(top);
	if (load_scan(q, &msgs, &envs) == -1 || fsync(q->dirfd) == -1 ||
	    load_index(q, &msgs, &envs) == -1)
		log_warn("queue: loading %s", q->conf->queue_dir);
	else
		rv = 0;
	free(msgs.v);
	free(envs.v);
	return rv;
}
