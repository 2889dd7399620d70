/*
 * role_control.c — the control role: the submitctl socket (conf
 * `control "PATH"`, mode 0660, owner root, group of the daemon's user),
 * bound as root, then chrooted to /var/empty.  One request per
 * connection (framing in ctl/ctl_client.h); the request goes to the
 * role that owns the answer (queue commands to the queue role, "show
 * limits" and "unlock" to the auth role) as IPC_CTL_REQUEST, and its
 * IPC_CTL_REPLY goes back to the client, which is then closed.
 *
 * The metrics role (issue 15) has a channel here too, on which only
 * IPC_METRICS_REQUEST is accepted: the control role asks the auth and
 * queue roles for "metrics" (a ctl request no client can send: route()
 * does not know it) and answers with both texts in one IPC_METRICS_REPLY.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf/conf.h"
#include "ctl/ctl_client.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "smtpd/roles.h"

#define CTL_CLIENTS_MAX		32	/* connections at once */
#define CTL_TIMEOUT		30	/* seconds for the whole exchange */

struct cclient {
	TAILQ_ENTRY(cclient)	 entry;
	struct bufferevent	*bev;
	uint64_t		 reqid;	/* 0: request not yet forwarded */
	int			 done;	/* reply written: close once sent */
};

/* One scrape of the metrics role, while the auth and queue roles answer. */
struct scrape {
	TAILQ_ENTRY(scrape)	 entry;
	uint64_t		 metrics_reqid;	/* the metrics role's */
	uint64_t		 reqid;		/* ours, SCRAPE_BIT set */
	int			 waiting;	/* answers still due */
	struct evbuffer		*text;
};
#define SCRAPE_BIT	((uint64_t)1 << 63)
#define SCRAPES_MAX	16

static struct {
	struct event_base	*base;
	struct ipc		*queue;
	struct ipc		*auth;
	struct ipc		*metrics;
	TAILQ_HEAD(, scrape)	 scrapes;
	unsigned		 nscrapes;
	struct ipc		*parent;	/* "reload" (issue 14) */
	struct event		*ev_listen;
	TAILQ_HEAD(, cclient)	 clients;
	unsigned		 nclients;
	uint64_t		 next_reqid;
} C;

static void
client_free(struct cclient *c)
{
	TAILQ_REMOVE(&C.clients, c, entry);
	C.nclients--;
	bufferevent_free(c->bev);
	free(c);
}

/* Writes one framed reply and closes the connection once it is sent. */
static void
client_reply(struct cclient *c, const void *payload, size_t len)
{
	unsigned char	 hdr[4];

	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	c->done = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (bufferevent_write(c->bev, hdr, 4) == -1 ||
	    bufferevent_write(c->bev, payload, len) == -1)
		client_free(c);
}

static void
client_error(struct cclient *c, const char *text)
{
	void	*buf;
	size_t	 len;

	if (ctl_reply_encode(1, text, strlen(text), &buf, &len) == -1) {
		client_free(c);
		return;
	}
	client_reply(c, buf, len);
	free(buf);
}

static struct ipc	*route(int, char **);
static void		 scrape_part(uint64_t, const char *, size_t);

/* 1 when ARGV is a command some role answers (its channel may be gone). */
static int
route_known(int argc, char **argv)
{
	struct ipc	*q = C.queue, *a = C.auth, *p = C.parent, *r;

	C.queue = C.auth = C.parent = (struct ipc *)&C;	/* non-NULL marker */
	r = route(argc, argv);
	C.queue = q;
	C.auth = a;
	C.parent = p;
	return r != NULL;
}

/* Which role answers ARGV: parent, auth or queue (NULL: none). */
static struct ipc *
route(int argc, char **argv)
{
	static const char *const queue_cmds[] = {
		"show", "flush", "remove", "hold", "release", "pause",
		"resume", NULL
	};
	size_t	 i;

	if (strcmp(argv[0], "reload") == 0)
		return C.parent;
	if (strcmp(argv[0], "unlock") == 0 ||
	    strcmp(argv[0], "release-user") == 0 ||
	    (strcmp(argv[0], "show") == 0 && argc >= 2 &&
	    (strcmp(argv[1], "limits") == 0 ||
	    strcmp(argv[1], "held-users") == 0)))
		return C.auth;
	for (i = 0; queue_cmds[i] != NULL; i++)
		if (strcmp(argv[0], queue_cmds[i]) == 0)
			return C.queue;
	return NULL;
}

static void
client_request(struct cclient *c, const void *req, size_t len)
{
	struct ipc	*to;
	uint32_t	 flags;
	char		**argv;
	int		 argc;

	if (ctl_request_decode(req, len, &flags, &argc, &argv) == -1) {
		client_error(c, "malformed request");
		return;
	}
	to = route(argc, argv);
	if (to == NULL && route_known(argc, argv)) {
		client_error(c, "the daemon is stopping");
		free(argv);
		return;
	}
	log_info("event=request command=%s%s%s", log_q(argv[0]),
	    argc > 1 ? " arg=" : "", argc > 1 ? log_q(argv[1]) : "");
	if (to == NULL) {
		client_error(c, "unknown command (see submitctl(8))");
		free(argv);
		return;
	}
	free(argv);
	c->reqid = ++C.next_reqid;
	if (ipc_send(to, IPC_CTL_REQUEST, c->reqid, -1, req, len) == -1)
		client_error(c, "the daemon is busy: try again");
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct cclient	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	unsigned char	 hdr[4], *req;
	uint32_t	 len;

	if (c->reqid != 0 || c->done)
		return;
	if (evbuffer_copyout(in, hdr, 4) != 4)
		return;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len < 6 || len > CTL_REQUEST_MAX) {
		client_error(c, "malformed request");
		return;
	}
	if (evbuffer_get_length(in) < 4 + (size_t)len)
		return;
	if ((req = malloc(len)) == NULL) {
		client_error(c, "out of memory");
		return;
	}
	evbuffer_drain(in, 4);
	evbuffer_remove(in, req, len);
	client_request(c, req, len);
	free(req);
}

static void
client_write(struct bufferevent *bev, void *arg)
{
	struct cclient	*c = arg;

	(void)bev;
	if (c->done)
		client_free(c);
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	client_free(arg);	/* EOF, error or timeout: a late reply is dropped */
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval	 tv = { CTL_TIMEOUT, 0 };
	struct cclient	*c;
	int		 fd;

	(void)what;
	(void)arg;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (C.nclients >= CTL_CLIENTS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("event=refused reason=\"too many clients\"");
		close(fd);
		return;
	}
	if ((c->bev = bufferevent_socket_new(C.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&C.clients, c, entry);
	C.nclients++;
	bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

static void
dispatch(struct ipc *ch, const struct ipc_msg *m, void *arg)
{
	const char	*from = arg, *text;
	struct cclient	*c;
	size_t		 tlen;
	int		 status;

	if (m == NULL) {
		/*
		 * The parent stops the daemon when a role dies: wait for its
		 * SIGTERM rather than exit first and be taken for the cause.
		 */
		log_warnx("event=peer-closed role=control peer=%s", from);
		if (ch == C.queue)
			C.queue = NULL;
		else if (ch == C.parent)
			C.parent = NULL;
		else
			C.auth = NULL;
		ipc_free(ch);	/* allowed from the closing callback (ipc.h) */
		return;
	}
	if (m->type != IPC_CTL_REPLY || m->fd != -1 ||
	    ctl_reply_decode(m->data, m->len, &status, &text, &tlen) == -1) {
		role_ipc_reject(m, from, "malformed");
		return;
	}
	if (m->reqid & SCRAPE_BIT) {
		scrape_part(m->reqid, status == 0 ? text : NULL, tlen);
		return;
	}
	TAILQ_FOREACH(c, &C.clients, entry)
		if (c->reqid == m->reqid && !c->done)
			break;
	if (c != NULL)
		client_reply(c, m->data, m->len);
}

static void
scrape_done(struct scrape *s)
{
	size_t	 len = evbuffer_get_length(s->text);

	if (C.metrics != NULL && ipc_send(C.metrics, IPC_METRICS_REPLY,
	    s->metrics_reqid, -1, evbuffer_pullup(s->text, -1), len) == -1)
		log_warnx("event=metrics-dropped reason=\"reply too large\"");
	TAILQ_REMOVE(&C.scrapes, s, entry);
	C.nscrapes--;
	evbuffer_free(s->text);
	free(s);
}

/* One role's counters (TEXT NULL: it failed) for the scrape REQID. */
static void
scrape_part(uint64_t reqid, const char *text, size_t len)
{
	struct scrape	*s;

	TAILQ_FOREACH(s, &C.scrapes, entry)
		if (s->reqid == reqid)
			break;
	if (s == NULL)
		return;
	if (text != NULL)
		evbuffer_add(s->text, text, len);
	if (--s->waiting == 0)
		scrape_done(s);
}

static void
dispatch_metrics(struct ipc *ch, const struct ipc_msg *m, void *arg)
{
	static char	*argv[] = { "metrics", NULL };
	struct scrape	*s;
	void		*req;
	size_t		 len;

	(void)arg;
	if (m == NULL) {
		log_warnx("event=peer-closed role=control peer=metrics");
		C.metrics = NULL;
		ipc_free(ch);
		return;
	}
	if (m->type != IPC_METRICS_REQUEST || m->fd != -1 || m->len != 0) {
		role_ipc_reject(m, "metrics", "unexpected type");
		return;
	}
	if (C.nscrapes >= SCRAPES_MAX || (s = calloc(1, sizeof(*s))) == NULL)
		return;		/* the metrics role answers 503 in time */
	if ((s->text = evbuffer_new()) == NULL)
		fatal("control: evbuffer_new");
	s->metrics_reqid = m->reqid;
	s->reqid = ++C.next_reqid | SCRAPE_BIT;
	TAILQ_INSERT_TAIL(&C.scrapes, s, entry);
	C.nscrapes++;
	s->waiting = 1;		/* held until both requests are out */
	if (ctl_request_encode(0, 1, argv, &req, &len) == -1)
		fatal("control: metrics request");
	if (C.auth != NULL && ipc_send(C.auth, IPC_CTL_REQUEST, s->reqid, -1,
	    req, len) == 0)
		s->waiting++;
	if (C.queue != NULL && ipc_send(C.queue, IPC_CTL_REQUEST, s->reqid, -1,
	    req, len) == 0)
		s->waiting++;
	free(req);
	scrape_part(s->reqid, NULL, 0);
}

/* The socket at PATH: 0660, root and the daemon's group.  fd or -1. */
static int
control_listen(const struct conf *conf)
{
	struct sockaddr_un	 sun;
	struct passwd		*pw;
	struct stat		 st;
	const char		*path = conf->control_path;
	mode_t			 old;
	char			*slash;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* Its folder (default /run/submitd, systemd's RuntimeDirectory). */
	if ((slash = strrchr(sun.sun_path, '/')) != NULL && slash != sun.sun_path) {
		*slash = '\0';
		if (mkdir(sun.sun_path, 0755) == -1 && errno != EEXIST)
			log_warn("mkdir %s", sun.sun_path);
		*slash = '/';
	}
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) == -1)
		log_warn("unlink %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) == -1)
		log_warn("chmod %s", path);
	if (privsep_is_root() && (pw = getpwnam(conf->user)) != NULL &&
	    chown(path, 0, pw->pw_gid) == -1)
		log_warn("chown %s", path);
	if (listen(fd, 16) == -1) {
		log_warn("listen %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

void
role_control_main(struct conf *conf, int queue_fd, int auth_fd, int metrics_fd)
{
	static char	 from_queue[] = "queue", from_auth[] = "auth",
			 from_parent[] = "parent";
	int		 lfd;

	C.base = role_start("control");
	TAILQ_INIT(&C.clients);
	TAILQ_INIT(&C.scrapes);
	if ((lfd = control_listen(conf)) == -1)
		fatalx("cannot listen on %s", conf->control_path);
	role_sandbox(conf, PRIVSEP_EMPTY_DIR, "control");
	if ((C.queue = ipc_new(C.base, queue_fd, "control<-queue", dispatch,
	    from_queue)) == NULL ||
	    (C.auth = ipc_new(C.base, auth_fd, "control<-auth", dispatch,
	    from_auth)) == NULL ||
	    (role_parent_fd() != -1 && (C.parent = ipc_new(C.base,
	    role_parent_fd(), "control<-parent", dispatch, from_parent)) ==
	    NULL))
		fatal("ipc");
	if (metrics_fd != -1 && (C.metrics = ipc_new(C.base, metrics_fd,
	    "control<-metrics", dispatch_metrics, NULL)) == NULL)
		fatal("ipc");
	if ((C.ev_listen = event_new(C.base, lfd, EV_READ | EV_PERSIST,
	    on_accept, NULL)) == NULL || event_add(C.ev_listen, NULL) == -1)
		fatalx("event_new");
	log_debug("event=listen path=%s", conf->control_path);
	role_run(C.base);
}
