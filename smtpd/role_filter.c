/*
 * role_filter.c — the filter role (issue 16): asks rspamd about each
 * message before the queue commits it.  It is the only process that opens
 * a connection to rspamd, and it holds nothing worth stealing: no key, no
 * password hash, no upstream secret, no spool.  The queue role passes it
 * the message as a read-only fd and the envelope; it sends both to
 * rspamd's /checkv2 over HTTP/1.1 (libcurl's multi interface, driven by
 * this role's libevent loop: TCP, or rspamd's unix socket), and answers
 * with rspamd's verdict (proto/rspamd.h) or a failure.  What the verdict
 * does to the message is the queue role's decision (smtpd/queue_filter.c).
 *
 * Every check runs on the event loop with its own deadline (curl's
 * CURLOPT_TIMEOUT): a slow rspamd delays only the message it is scanning.
 * curl speaks http:// only here (no redirect, no proxy, no name lookup:
 * the address is numeric or a socket path), so it opens no file once the
 * sandbox is on.
 *
 * With a unix socket, the role is chrooted in the socket's directory
 * rather than /var/empty and connects to the socket's name there.
 *
 * libcurl is loaded by this role alone, at its start (dlopen, before the
 * chroot and the sandbox), not linked into submitd: linked, it and the ~30
 * libraries it needs (GnuTLS, Kerberos, LDAP, libssh2, librtmp, nghttp2,
 * p11-kit, ...) were mapped and relocated by every role, ~2 MiB of private
 * memory each, for a role that runs only with a filter statement (issue
 * 18).  <curl/curl.h> gives the types; C below is every function of
 * libcurl this file calls.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <dlfcn.h>
#include <event2/event.h>

#include "conf/conf.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "lib/sandbox.h"
#include "proto/rspamd.h"
#include "smtpd/roles.h"

#define FILTER_HEADERS_MAX	(16 * 1024)	/* rspamd's reply headers */
#define FILTER_LIBCURL		"libcurl.so.4"	/* Debian's libcurl4 */

static struct {
	CURLcode	 (*global_init)(long);
	CURLM		*(*multi_init)(void);
	CURLMcode	 (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode	 (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	 (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode	 (*multi_socket_action)(CURLM *, curl_socket_t, int,
			    int *);
	CURLMcode	 (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	void		 (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
} C;

static void
curl_load(void)
{
#define SYM(n)	{ "curl_" #n, (void **)&C.n }
	static const struct {
		const char	*name;
		void		**fn;
	} syms[] = {
		SYM(global_init), SYM(multi_init), SYM(multi_setopt),
		SYM(multi_add_handle), SYM(multi_remove_handle),
		SYM(multi_socket_action), SYM(multi_assign),
		SYM(multi_info_read), SYM(easy_init), SYM(easy_setopt),
		SYM(easy_getinfo), SYM(easy_strerror), SYM(easy_cleanup),
		SYM(slist_append), SYM(slist_free_all),
	};
#undef SYM
	void	*h;
	size_t	 i;

	if ((h = dlopen(FILTER_LIBCURL, RTLD_NOW | RTLD_LOCAL)) == NULL)
		fatalx("filter: cannot load %s (Debian: libcurl4): %s",
		    FILTER_LIBCURL, dlerror());
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if ((*syms[i].fn = dlsym(h, syms[i].name)) == NULL)
			fatalx("filter: %s: no %s", FILTER_LIBCURL,
			    syms[i].name);
}

static struct {
	struct event_base	*base;
	struct conf		*conf;
	struct ipc		*queue;
	CURLM			*multi;
	struct event		*timer;		/* curl's next timeout */
	char			 url[128];	/* http://ADDR:PORT/PATH */
	char			 sock[PATH_MAX];	/* as seen from the chroot */
	unsigned		 njobs;
} F;

struct job {
	uint64_t		 reqid;
	char			 queue_id[QUEUE_ID_SIZE];
	CURL			*easy;
	struct curl_slist	*headers;
	void			*msg;		/* the message, mapped */
	size_t			 msglen;
	char			*body;		/* rspamd's reply */
	size_t			 bodylen, bodysize;
	size_t			 headlen;	/* octets of its header lines */
	const char		*error;		/* set by a callback that stops */
};

static void
answer(struct job *j, const char *failure, const struct rspamd_verdict *v)
{
	struct ipc_filter_result	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("filter");
	if (failure != NULL) {
		r->failed = 1;
		snprintf(r->reason, sizeof(r->reason), "%s", failure);
	} else
		r->verdict = *v;
	if (ipc_send(F.queue, IPC_FILTER_RESULT, j->reqid, -1, r,
	    sizeof(*r)) == -1)
		fatalx("cannot answer the queue role");
	free(r);
}

static void
job_free(struct job *j)
{
	if (j->easy != NULL)
		C.easy_cleanup(j->easy);
	C.slist_free_all(j->headers);
	if (j->msg != NULL && j->msg != MAP_FAILED)
		munmap(j->msg, j->msglen);
	free(j->body);
	free(j);
	F.njobs--;
}

/* rspamd's header lines: counted, not kept (the JSON says it all). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct job	*j = arg;

	(void)p;
	if ((j->headlen += size * n) > FILTER_HEADERS_MAX) {
		j->error = "reply too large";
		return 0;
	}
	return size * n;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct job	*j = arg;
	size_t		 len = size * n, want;
	char		*nb;

	if (len > RSPAMD_REPLY_MAX - j->bodylen) {
		j->error = "reply too large";
		return 0;
	}
	if (j->bodylen + len > j->bodysize) {
		want = j->bodysize == 0 ? 16384 : j->bodysize * 2;
		while (want < j->bodylen + len)
			want *= 2;
		if ((nb = realloc(j->body, want)) == NULL) {
			j->error = "out of memory";
			return 0;
		}
		j->body = nb;
		j->bodysize = want;
	}
	memcpy(j->body + j->bodylen, p, len);
	j->bodylen += len;
	return len;
}

static const char *
curl_reason(struct job *j, CURLcode rc)
{
	if (j->error != NULL)
		return j->error;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:	return "timeout";
	case CURLE_COULDNT_CONNECT:	return "connection failed";
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:	return "connection closed";
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_HTTP2:		return "bad HTTP reply";
	case CURLE_FILESIZE_EXCEEDED:	return "reply too large";
	case CURLE_OUT_OF_MEMORY:	return "out of memory";
	default:			return C.easy_strerror(rc);
	}
}

/*
 * Says why rspamd's socket could not be reached.  The role is chrooted
 * in the socket's directory: if that directory was removed since (rspamd's
 * systemd RuntimeDirectory is, when rspamd stops), a new one of the same
 * name is out of reach until submitd restarts.
 */
static void
unix_connect_failed(struct job *j)
{
	struct stat	 st;
	long		 err = 0;

	if (C.easy_getinfo(j->easy, CURLINFO_OS_ERRNO, &err) != CURLE_OK)
		err = 0;
	if (strchr(F.sock, '/') == NULL && stat(".", &st) == 0 &&
	    st.st_nlink == 0)
		log_warnx("msgid=%s event=filter-connect socket=%s reason=\"its "
		    "directory was removed since submitd started: restart "
		    "submitd\"", j->queue_id, F.conf->filter.url);
	else
		log_warnx("msgid=%s event=filter-connect socket=%s "
		    "reason=\"%s\"", j->queue_id, F.conf->filter.url,
		    strerror((int)err));
}

/* One check is over: answer the queue with rspamd's verdict or why not. */
static void
job_done(struct job *j, CURLcode rc)
{
	struct rspamd_verdict	*v;
	struct rspamd_left_out	 left;
	const char		*why = NULL;
	char			 err[64];
	long			 code = 0;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		fatal("filter");
	if (rc == CURLE_OK)
		C.easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		why = curl_reason(j, rc);
		if (rc == CURLE_COULDNT_CONNECT && F.conf->filter.unix_socket)
			unix_connect_failed(j);
	} else if (code != 200) {
		snprintf(err, sizeof(err), "HTTP status %ld", code);
		why = err;
	} else if (rspamd_reply_parse(j->body != NULL ? j->body : "",
	    j->bodylen, v, &left, &why) == 0) {
		/* one line each per message; the rest of the reply applies */
		if (left.kept > 0)
			log_warnx("msgid=%s event=filter-headers-kept count=%d "
			    "fields=%s reason=\"a filter may not remove or add "
			    "them\"", j->queue_id, left.kept,
			    log_q(left.kept_names));
		if (left.unsafe > 0)
			log_warnx("msgid=%s event=filter-headers-dropped "
			    "count=%d fields=%s reason=\"not writable safely\"",
			    j->queue_id, left.unsafe, log_q(left.unsafe_names));
		why = NULL;
	}
	answer(j, why, v);
	free(v);
}

static void
check_done(void)
{
	CURLMsg		*m;
	struct job	*j;
	int		 left;

	while ((m = C.multi_info_read(F.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (C.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&j) != CURLE_OK || j == NULL)
			fatalx("filter: a transfer without its job");
		job_done(j, m->data.result);
		C.multi_remove_handle(F.multi, j->easy);
		job_free(j);
	}
}

/* libevent -> curl: a socket is ready, or curl's timeout came. */
static void
on_socket_ready(evutil_socket_t fd, short what, void *arg)
{
	int	 running, action = 0;

	(void)arg;
	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	C.multi_socket_action(F.multi, fd, action, &running);
	check_done();
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	int	 running;

	(void)fd;
	(void)what;
	(void)arg;
	C.multi_socket_action(F.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

/* curl -> libevent: which sockets to watch for what, and when to wake it. */
static int
curl_socket(CURL *e, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct event	*ev = sockp;
	short		 kind = EV_PERSIST;

	(void)e;
	(void)arg;
	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL)
			event_free(ev);
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (ev == NULL) {
		if ((ev = event_new(F.base, s, kind, on_socket_ready, NULL)) ==
		    NULL)
			fatal("filter: event_new");
		C.multi_assign(F.multi, s, ev);
	} else {
		event_del(ev);
		event_assign(ev, F.base, s, kind, on_socket_ready, NULL);
	}
	if (event_add(ev, NULL) == -1)
		fatal("filter: event_add");
	return 0;
}

static int
curl_timer(CURLM *m, long ms, void *arg)
{
	struct timeval	 tv;

	(void)m;
	(void)arg;
	if (ms < 0)
		return evtimer_del(F.timer);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(F.timer, &tv);
}

/* A request header "NAME: VALUE"; -1 if VALUE would break the request. */
static int
add_header(struct job *j, const char *name, const char *value)
{
	struct curl_slist	*l;
	char			 line[1024];

	if (strpbrk(value, "\r\n") != NULL ||
	    (size_t)snprintf(line, sizeof(line), "%s: %s", name, value) >=
	    sizeof(line))
		return -1;
	if ((l = C.slist_append(j->headers, line)) == NULL)
		return -1;
	j->headers = l;
	return 0;
}

/* The request to rspamd; -1 if it cannot be made. */
static int
request_make(struct job *j, struct envelope *env, int fd)
{
	struct conf_filter	*cf = &F.conf->filter;
	struct stat		 st;
	char			 path[SMTP_PATH_MAX + 3];
	size_t			 i;
	int			 bad = 0;

	if (fstat(fd, &st) == -1 || st.st_size < 0)
		return -1;
	/* The message itself: the file, mapped, not copied. */
	if ((j->msglen = (size_t)st.st_size) > 0 &&
	    (j->msg = mmap(NULL, j->msglen, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED)
		return -1;
	/* rspamd.com/doc/developers/protocol: an authenticated submission. */
	bad |= add_header(j, "User", env->user);
	bad |= add_header(j, "IP", env->client_addr);
	bad |= add_header(j, "Helo", env->helo[0] ? env->helo : "unknown");
	snprintf(path, sizeof(path), "<%s>", env->reverse_path);
	bad |= add_header(j, "From", path);
	for (i = 0; i < env->nrcpt; i++) {
		snprintf(path, sizeof(path), "<%s>", env->rcpt[i].forward_path);
		bad |= add_header(j, "Rcpt", path);
	}
	bad |= add_header(j, "Queue-Id", env->queue_id);
	bad |= add_header(j, "MTA-Name", F.conf->hostname);
	if (cf->settings_id != NULL)
		bad |= add_header(j, "Settings-Id", cf->settings_id);
	bad |= add_header(j, "Connection", "close");
	/* curl's own that rspamd has no use for (Expect: waits a second) */
	bad |= add_header(j, "Expect", "");
	bad |= add_header(j, "Accept", "");
	bad |= add_header(j, "Content-Type", "");
	if (bad || (j->easy = C.easy_init()) == NULL)
		return -1;
	if (C.easy_setopt(j->easy, CURLOPT_PRIVATE, j) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_URL, F.url) != CURLE_OK ||
	    (cf->unix_socket && C.easy_setopt(j->easy,
	    CURLOPT_UNIX_SOCKET_PATH, F.sock) != CURLE_OK) ||
	    C.easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http") !=
	    CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_PROXY, "") != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_TIMEOUT_MS,
	    (long)cf->timeout * 1000) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)RSPAMD_REPLY_MAX) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers) !=
	    CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_POST, 1L) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)j->msglen) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_POSTFIELDS,
	    j->msg != NULL ? (char *)j->msg : "") != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_HEADERDATA, j) != CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body) !=
	    CURLE_OK ||
	    C.easy_setopt(j->easy, CURLOPT_WRITEDATA, j) != CURLE_OK)
		return -1;
	return 0;
}

/* One message: the envelope ENV, its file FD (ours). */
static void
filter_check(uint64_t reqid, struct envelope *env, int fd)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("filter");
	F.njobs++;
	j->reqid = reqid;
	memcpy(j->queue_id, env->queue_id, sizeof(j->queue_id));
	if (request_make(j, env, fd) == -1) {
		close(fd);
		answer(j, "cannot make the request", NULL);
		job_free(j);
		return;
	}
	close(fd);	/* the mapping stays */
	/* curl starts it from its timer, on the loop: never from here */
	if (C.multi_add_handle(F.multi, j->easy) != CURLM_OK) {
		answer(j, "cannot make the request", NULL);
		job_free(j);
		return;
	}
	log_debug("msgid=%s event=filter-send size=%zu", env->queue_id,
	    j->msglen);
}

static void
dispatch_queue(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct envelope	 env;
	const char	*prefix;
	size_t		 prefixlen;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("filter", "queue");
	switch (m->type) {
	case IPC_FILTER_CHECK:
		if (m->fd == -1 || ipc_deliver_decode(m->data, m->len, &env,
		    &prefix, &prefixlen) == -1) {
			role_ipc_reject(m, "queue", "malformed");
			return;
		}
		filter_check(m->reqid, &env, m->fd);
		envelope_free(&env);
		break;
	default:
		role_ipc_reject(m, "queue", "unexpected type");
	}
}

/*
 * Where the role is chrooted and the URL and socket path curl is given:
 * the socket's directory and its name there (root, or an ASan build's
 * chdir), the whole path (not root: no chroot), or /var/empty for TCP.
 */
static const char *
filter_paths(struct conf_filter *cf, char *dir, size_t dirsize)
{
	const char	*base;

	if (!cf->unix_socket) {
		snprintf(F.url, sizeof(F.url), strchr(cf->host, ':') ?
		    "http://[%s]:%s%s" : "http://%s:%s%s", cf->host, cf->port,
		    cf->path);
		return PRIVSEP_EMPTY_DIR;
	}
	snprintf(F.url, sizeof(F.url), "http://localhost%s", cf->path);
	base = strrchr(cf->url, '/') + 1;
	if (!privsep_is_root()) {
		snprintf(F.sock, sizeof(F.sock), "%s", cf->url);
		return PRIVSEP_EMPTY_DIR;
	}
	snprintf(F.sock, sizeof(F.sock), "%s", base);
	snprintf(dir, dirsize, "%.*s", (int)(base - cf->url), cf->url);
	if (base - cf->url > 1)
		dir[base - cf->url - 1] = '\0';	/* no trailing '/' */
	sandbox_filter_unix();
	return dir;
}

/*
 * Issue 14, reload: the timeout, settings-id, the address (TCP) or the
 * socket's name (the same directory: config_check_change) of the next
 * checks; a check under way keeps what it started with (curl copied it).
 */
static struct conf	*pend_conf;

static int
reload_prepare(struct conf *conf, FILE *errf)
{
	if (!conf->filter.enabled ||
	    conf->filter.unix_socket != F.conf->filter.unix_socket) {
		fprintf(errf, "%s: filter: changed: restart submitd for it\n",
		    conf->file);
		return -1;
	}
	pend_conf = conf;
	return 0;
}

static void
reload_commit(void)
{
	char	 dir[PATH_MAX];

	role_conf_retire(F.conf);
	F.conf = pend_conf;
	pend_conf = NULL;
	(void)filter_paths(&F.conf->filter, dir, sizeof(dir));
	log_info("event=filter-reload url=%s timeout=%lld", F.conf->filter.url,
	    (long long)F.conf->filter.timeout);
}

static void
reload_abort(void)
{
	conf_free(pend_conf);
	pend_conf = NULL;
}

static const struct role_reload filter_reload = {
	.prepare = reload_prepare,
	.commit = reload_commit,
	.abort = reload_abort,
};

void
role_filter_main(struct conf *conf, int queue_fd)
{
	const char	*root;
	char		 dir[PATH_MAX];

	F.base = role_start("filter");
	F.conf = conf;
	/* OpenSSL's and curl's set-up read files: now, before the sandbox */
	curl_load();
	if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (F.multi = C.multi_init()) == NULL ||
	    (F.timer = evtimer_new(F.base, on_timer, NULL)) == NULL)
		fatalx("filter: cannot set up libcurl");
	if (C.multi_setopt(F.multi, CURLMOPT_SOCKETFUNCTION, curl_socket) !=
	    CURLM_OK ||
	    C.multi_setopt(F.multi, CURLMOPT_TIMERFUNCTION, curl_timer) !=
	    CURLM_OK)
		fatalx("filter: cannot set up libcurl");
	rspamd_init();		/* jansson's seed, the same way */
	root = filter_paths(&conf->filter, dir, sizeof(dir));
	if (conf->filter.unix_socket && !privsep_is_root())
		sandbox_filter_unix();
	role_sandbox(conf, root, "filter");
	if ((F.queue = ipc_new(F.base, queue_fd, "filter<-queue",
	    dispatch_queue, NULL)) == NULL)
		fatal("ipc");
	role_reload_init(F.base, "filter", &filter_reload);
	log_debug("event=filter-ready url=%s timeout=%lld root=%s",
	    conf->filter.url, (long long)conf->filter.timeout, root);
	role_run(F.base);
}
