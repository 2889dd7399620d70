/*
 * auth.c — asynchronous login checks; see auth.h.
 *
 * Requests go to a small pool of worker threads through a mutex-protected
 * list; results come back through a pipe that the event loop watches, so
 * every callback runs on the loop thread.
 *
 * Identical logins in flight share one verification: a job whose login
 * cache digest (login, password, stored hash) equals that of a job still
 * being verified is not queued but waits on it as a follower.  When the
 * leader's verdict comes back each follower takes the same password
 * verdict with its own precheck (address, senders) and is counted,
 * logged and answered as if it had been verified alone.  A thousand
 * sessions of one application logging in together cost one Argon2id
 * instead of a thousand (issue 18).  Unknown logins (the dummy hash)
 * share alike: sharing tells nothing about a login's existence.
 *
 * The followers of a leader are not bounded: each is a login already held
 * in memory (one per session at most), none waits longer than its own
 * verification would have (its leader is ahead of it in the queue), and
 * a wrong password shared still counts once per login toward lockouts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "auth/auth.h"
#include "auth/auth_metrics.h"
#include "auth/auth_cache.h"
#include "auth/lockout.h"
#include "auth/policy.h"
#include "auth/policy_text.h"
#include "auth/users.h"
#include "conf/conf.h"
#include "lib/log.h"

#define AUTH_WORKERS	2
#define AUTH_INFLIGHT	256	/* buckets of leaders, by digest[0] */

struct auth_job {
	struct auth_job		*next;
	char			 hash[crypto_pwhash_STRBYTES];
	char			 password[AUTH_PASS_MAX + 1];
	size_t			 passlen;
	int			 precheck_ok;	/* user known, address allowed */
	int			 from_refused;	/* known, but not from there */
	int			 locked;	/* lockout: not even verified */
	int			 cached;	/* same password verified lately */
	int			 verified;	/* a worker ran Argon2id for it */
	int			 good;		/* its password verdict, whatever
						   the precheck */
	struct auth_job		*followers;	/* leader: identical logins */
	struct auth_job		*inflight_next;	/* leader: in A.inflight */
	int			 indexed;	/* leader: in A.inflight */
	unsigned char		 digest[AUTH_CACHE_DIGEST];
	struct sockaddr_storage	 peer;
	char			 login[AUTH_USER_MAX + 1];	/* as tried */
	struct auth_reply	 reply;
	auth_login_cb		 cb;
	void			*arg;
};

static struct {
	struct event_base	*base;
	struct users		*users;
	pthread_t		 threads[AUTH_WORKERS];
	int			 nthreads;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct auth_job		*todo, *todo_tail;
	struct auth_job		*inflight[AUTH_INFLIGHT];	/* loop only */
	int			 stopping;
	int			 pipe[2];	/* workers → loop: job pointers */
	struct event		*ev_done;
	char			 dummy_hash[crypto_pwhash_STRBYTES];
	int			 fail_closed;	/* lockouts, store down */
	uint64_t		 alert_failures;	/* alert auth-failures */
	time_t			 alert_window;
} A = { .pipe = { -1, -1 } };

static void
job_free(struct auth_job *j)
{
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* A job dropped unanswered (shutdown), with the logins waiting on it. */
static void
job_free_all(struct auth_job *j)
{
	struct auth_job	*f, *next;

	for (f = j->followers; f != NULL; f = next) {
		next = f->next;
		job_free(f);
	}
	job_free(j);
}

/*
 * The index of leaders in flight (loop thread only): queued or being
 * verified, their result not yet taken from the pipe.
 */
static struct auth_job *
inflight_find(const unsigned char digest[AUTH_CACHE_DIGEST])
{
	struct auth_job	*l;

	for (l = A.inflight[digest[0] % AUTH_INFLIGHT]; l != NULL;
	    l = l->inflight_next)
		if (sodium_memcmp(l->digest, digest, AUTH_CACHE_DIGEST) == 0)
			return l;
	return NULL;
}

static void
inflight_add(struct auth_job *l)
{
	struct auth_job	**b = &A.inflight[l->digest[0] % AUTH_INFLIGHT];

	l->inflight_next = *b;
	*b = l;
	l->indexed = 1;
}

static void
inflight_remove(struct auth_job *l)
{
	struct auth_job	**p;

	if (!l->indexed)
		return;
	for (p = &A.inflight[l->digest[0] % AUTH_INFLIGHT]; *p != l;
	    p = &(*p)->inflight_next)
		if (*p == NULL)
			fatalx("auth: leader missing from the index");
	*p = l->inflight_next;
	l->inflight_next = NULL;
	l->indexed = 0;
}

/*
 * Forget every leader (users reloaded, shutdown): later logins start
 * their own verification; the followers already waiting stay with their
 * leader and are answered with it.
 */
static void
inflight_forget(void)
{
	struct auth_job	*l, *next;
	size_t		 i;

	for (i = 0; i < AUTH_INFLIGHT; i++) {
		for (l = A.inflight[i]; l != NULL; l = next) {
			next = l->inflight_next;
			l->inflight_next = NULL;
			l->indexed = 0;
		}
		A.inflight[i] = NULL;
	}
}

static void *
auth_worker(void *unused)
{
	(void)unused;
	for (;;) {
		struct auth_job	*j;
		int		 good;

		pthread_mutex_lock(&A.lock);
		while (A.todo == NULL && !A.stopping)
			pthread_cond_wait(&A.cond, &A.lock);
		if (A.stopping) {
			pthread_mutex_unlock(&A.lock);
			return NULL;
		}
		j = A.todo;
		if ((A.todo = j->next) == NULL)
			A.todo_tail = NULL;
		pthread_mutex_unlock(&A.lock);

		/* Always pay for one verification: no timing oracle. */
		good = crypto_pwhash_str_verify(j->hash, j->password,
		    j->passlen) == 0;
		sodium_memzero(j->password, sizeof(j->password));
		j->verified = 1;
		j->good = good;
		j->reply.ok = good && j->precheck_ok;
		if (write(A.pipe[1], &j, sizeof(j)) != sizeof(j))
			fatal("auth: result pipe");
	}
}

/* The answer to the smtp role, once everything is counted. */
static void
auth_answer(void *arg)
{
	struct auth_job	*j = arg;

	if (j->reply.ok == 1 && !j->cached)
		auth_cache_store(j->digest, time(NULL));
	if (j->reply.ok != 1)
		j->reply.senders[0] = '\0';
	j->cb(j->arg, &j->reply);
	job_free(j);
}

/*
 * Log what the smtp role cannot know; count failures for lockouts, then
 * answer (after the store has the failure: a refusal means it counted).
 */
static void
auth_account(struct auth_job *j)
{
	char	 ip[64];

	if (j->locked) {
		auth_metrics_inc(AM_AUTH_LOCKED);
		j->reply.ok = AUTH_LOCKED;
		log_info("auth: event=auth result=locked ip=%s user=%s",
		    policy_addr((struct sockaddr *)&j->peer, ip, sizeof(ip)),
		    log_q(j->login));
		auth_answer(j);
		return;
	}
	if (j->reply.ok) {
		auth_metrics_inc(AM_AUTH_OK);
		lockout_success((struct sockaddr *)&j->peer, j->login);
		auth_answer(j);
		return;
	}
	auth_metrics_inc(j->from_refused ? AM_AUTH_FROM_REFUSED :
	    j->precheck_ok ? AM_AUTH_BAD_PASSWORD : AM_AUTH_UNKNOWN_USER);
	auth_metrics_failure(A.alert_failures, A.alert_window, time(NULL));
	if (j->from_refused)
		log_info("auth: event=auth result=fail ip=%s "
		    "reason=from user=%s", policy_addr((struct sockaddr *)
		    &j->peer, ip, sizeof(ip)), log_q(j->login));
	if (j->from_refused)
		lockout_fail_addr((struct sockaddr *)&j->peer, j->login,
		    auth_answer, j);
	else
		lockout_fail((struct sockaddr *)&j->peer, j->login,
		    auth_answer, j);
}

/*
 * A job back from the workers (or answered from the loop): it, then every
 * identical login that waited on its verification, each with its own
 * precheck and its own accounting.
 */
static void
auth_done(struct auth_job *j)
{
	struct auth_job	*f, *next, *waited = NULL;
	int		 good = j->good;

	if (j->verified) {
		auth_metrics_inc(AM_AUTH_VERIFICATIONS);
		inflight_remove(j);
	}
	for (f = j->followers; f != NULL; f = next) {	/* arrival order */
		next = f->next;
		f->next = waited;
		waited = f;
	}
	j->followers = NULL;
	auth_account(j);	/* may free j */
	for (f = waited; f != NULL; f = next) {
		next = f->next;
		f->next = NULL;
		f->reply.ok = good && f->precheck_ok;
		auth_account(f);
	}
}

static void
auth_on_done(evutil_socket_t fd, short what, void *unused)
{
	struct auth_job	*jobs[64];
	ssize_t		 n;
	size_t		 i;

	(void)what;
	(void)unused;
	n = read(fd, jobs, sizeof(jobs));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || n % sizeof(jobs[0]) != 0)
		fatalx("auth: result pipe broken");
	for (i = 0; i < (size_t)n / sizeof(jobs[0]); i++)
		auth_done(jobs[i]);
}

int
auth_init(struct event_base *base, const struct conf *conf, struct users *users)
{
	static const char dummy[] = "not a password";
	int	 i;

	A.base = base;
	A.stopping = 0;	/* a second auth_init after auth_shutdown (tests) */
	A.alert_failures = conf->alert_auth_failures;
	A.alert_window = conf->alert_auth_window;
	if (auth_cache_init() == -1)
		return -1;
	lockout_init(conf);
	policy_init(conf, users);
	A.fail_closed = conf->state_fail_lockouts;
	A.users = users;
	/* Same cost as "submitctl passwd" writes: t=3, m=64 MiB. */
	if (crypto_pwhash_str_alg(A.dummy_hash, dummy, sizeof(dummy) - 1, 3,
	    64UL * 1024 * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		log_warnx("auth: cannot make the dummy hash");
		return -1;
	}
	if (pipe2(A.pipe, O_CLOEXEC) == -1) {
		log_warn("auth: pipe");
		return -1;
	}
	if (fcntl(A.pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    (A.ev_done = event_new(base, A.pipe[0], EV_READ | EV_PERSIST,
	    auth_on_done, NULL)) == NULL || event_add(A.ev_done, NULL) == -1) {
		log_warn("auth: event");
		return -1;
	}
	pthread_mutex_init(&A.lock, NULL);
	pthread_cond_init(&A.cond, NULL);
	for (i = 0; i < AUTH_WORKERS; i++) {
		if (pthread_create(&A.threads[i], NULL, auth_worker, NULL) != 0) {
			log_warnx("auth: cannot start worker thread");
			return -1;
		}
		A.nthreads++;
	}
	return 0;
}

void
auth_reload(const struct conf *conf, struct users *users)
{
	struct users	*old = A.users;

	/* Jobs hold copies (hash, login), never pointers into the table. */
	lockout_init(conf);
	policy_init(conf, users);
	A.users = users;
	auth_cache_clear();
	inflight_forget();
	users_free(old);
}

void
auth_shutdown(void)
{
	int	 i;

	pthread_mutex_lock(&A.lock);
	A.stopping = 1;
	pthread_cond_broadcast(&A.cond);
	pthread_mutex_unlock(&A.lock);
	for (i = 0; i < A.nthreads; i++)
		pthread_join(A.threads[i], NULL);
	A.nthreads = 0;
	inflight_forget();
	while (A.todo) {
		struct auth_job	*j = A.todo;

		A.todo = j->next;
		job_free_all(j);
	}
	A.todo_tail = NULL;
	/* Answers the loop has not taken yet: dropped too. */
	if (A.pipe[0] != -1) {
		struct auth_job	*jobs[64];
		ssize_t		 n;
		size_t		 k;

		while ((n = read(A.pipe[0], jobs, sizeof(jobs))) > 0)
			for (k = 0; k < (size_t)n / sizeof(jobs[0]); k++)
				job_free_all(jobs[k]);
	}
	if (A.ev_done)
		event_free(A.ev_done);
	A.ev_done = NULL;
	if (A.pipe[0] != -1) {
		close(A.pipe[0]);
		close(A.pipe[1]);
		A.pipe[0] = A.pipe[1] = -1;
	}
	auth_cache_clear();
	users_free(A.users);
	A.users = NULL;
}

/* Is PEER inside the user's from= list (empty list: anywhere)? */
static int
auth_from_allowed(const struct user_entry *u, const struct sockaddr *peer)
{
	size_t	 i;

	if (u->nfrom == 0)
		return 1;
	for (i = 0; i < u->nfrom; i++)
		if (conf_cidr_match(&u->from[i], peer))
			return 1;
	return 0;
}

static void	auth_lockout_checked(void *, int, int, int64_t, int64_t);

int
auth_login(const char *user, const char *password, const struct sockaddr *peer,
    auth_login_cb cb, void *arg)
{
	struct auth_job		*j;
	const struct user_entry	*u;
	size_t			 len = strlen(password);
	int			 trusted;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->cb = cb;
	j->arg = arg;
	if (len > AUTH_PASS_MAX)
		len = AUTH_PASS_MAX;	/* fails anyway: hash was made of <= MAX */
	memcpy(j->password, password, len);
	j->passlen = len;
	/* The reply names the login only as the table has it: never echoed. */
	snprintf(j->login, sizeof(j->login), "%s", user);
	memcpy(&j->peer, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	/* Inside the account's own from= range: never locked out. */
	u = users_find(A.users, user);
	trusted = u != NULL && u->nfrom != 0 && auth_from_allowed(u, peer);
	lockout_check(peer, user, trusted, auth_lockout_checked, j);
	return 0;
}

/* The lockout's answer to a login: refused at once, or on to the check. */
static void
auth_lockout_checked(void *arg, int locked, int down, int64_t now,
    int64_t until)
{
	struct auth_job		*j = arg, *l;
	const struct user_entry	*u;

	(void)now;
	(void)until;
	if (locked || (down && A.fail_closed)) {
		/* Answered from the loop, never inside the caller. */
		j->locked = 1;
		if (write(A.pipe[1], &j, sizeof(j)) != sizeof(j))
			fatal("auth: result pipe");
		return;
	}

	u = users_find(A.users, j->login);
	if (u != NULL && strlen(u->hash) < sizeof(j->hash)) {
		memcpy(j->hash, u->hash, strlen(u->hash) + 1);
		j->precheck_ok = auth_from_allowed(u,
		    (const struct sockaddr *)&j->peer);
		j->from_refused = !j->precheck_ok;
		snprintf(j->reply.user, sizeof(j->reply.user), "%s", u->name);
		if (snprintf(j->reply.senders, sizeof(j->reply.senders), "%s",
		    u->senders) >= (int)sizeof(j->reply.senders))
			j->precheck_ok = 0;
	} else
		memcpy(j->hash, A.dummy_hash, sizeof(j->hash));

	/* A password that passed Argon2id moments ago passes again. */
	auth_cache_digest(j->login, j->password, j->passlen, j->hash, j->digest);
	if (u != NULL && auth_cache_hit(j->digest, time(NULL))) {
		j->cached = 1;
		sodium_memzero(j->password, sizeof(j->password));
		j->reply.ok = j->precheck_ok;
		if (write(A.pipe[1], &j, sizeof(j)) != sizeof(j))
			fatal("auth: result pipe");
		return;
	}

	/* The same login is being verified: wait for its verdict. */
	if ((l = inflight_find(j->digest)) != NULL) {
		sodium_memzero(j->password, sizeof(j->password));
		j->next = l->followers;
		l->followers = j;
		return;
	}
	inflight_add(j);

	pthread_mutex_lock(&A.lock);
	if (A.todo_tail)
		A.todo_tail->next = j;
	else
		A.todo = j;
	A.todo_tail = j;
	pthread_cond_signal(&A.cond);
	pthread_mutex_unlock(&A.lock);
}
