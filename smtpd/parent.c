/* parent.c — role processes and their supervision; see parent.h. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "ctl/ctl_client.h"
#include "lib/fileset.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "smtpd/parent.h"
#include "lib/privsep.h"
#include "lib/sdnotify.h"
#include "smtpd/config.h"
#include "smtpd/ipc_msg.h"
#include "smtpd/roles.h"
#include "smtpd/smtp_server.h"

#define STOP_GRACE_SECONDS	10	/* then SIGKILL */

enum { R_SMTP, R_AUTH, R_QUEUE, R_RELAY, R_CONTROL, R_FILTER, R_METRICS,
	R_COUNT };

static const char *role_names[R_COUNT] = {
	"smtp", "auth", "queue", "relay", "control", "filter", "metrics"
};

static struct {
	struct conf		*conf;
	struct conf		*conf0;		/* the one parent_run got */
	int			 chan[R_COUNT];	/* parent's end, to each role */
	int			 chan_child[R_COUNT];	/* the role's end */
	struct ipc		*ipc[R_COUNT];
	struct event_base	*base;
	pid_t			 pid[R_COUNT];
	int			 stopping;
	int			 killed;	/* we sent SIGKILL to the roles */
	int			 status;	/* exit status of the daemon */
	struct event		*ev_kill;
	int			 ready_rd;	/* roles' ready pipe (role_ready) */
	int			 nready;	/* bytes read from it */
	int			 started_fd;	/* parent_set_started_fd, or -1 */
	struct event		*ev_ready;
} P = { .ready_rd = -1, .started_fd = -1 };

void
parent_set_started_fd(int fd)
{
	P.started_fd = fd;
}

/* Every descriptor the parent made for the roles, to close in each child. */
struct fdset {
	int	 fd[64];
	int	 n;
};

static void
fdset_add(struct fdset *s, int fd)
{
	if (s->n >= (int)(sizeof(s->fd) / sizeof(s->fd[0])))
		fatalx("too many descriptors for the roles");
	s->fd[s->n++] = fd;
}

/* In a child: close what the parent made, but KEEP (-1 terminated). */
static void
fdset_close_except(const struct fdset *s, const int *keep)
{
	int	 i, j, k;

	for (i = 0; i < s->n; i++) {
		for (k = 0, j = 0; keep[j] != -1; j++)
			if (keep[j] == s->fd[i])
				k = 1;
		if (!k)
			close(s->fd[i]);
	}
}

/* Directories the roles need, made as root before anyone drops privileges. */
static int
parent_prepare_dirs(const struct conf *conf)
{
	struct passwd	*pw;

	if (!privsep_is_root()) {
		log_warnx("event=warning running as uid %u, not root: NO "
		    "privilege separation (development mode): every role keeps "
		    "the rights of this user", (unsigned)getuid());
		if (mkdir(conf->queue_dir, 0700) == -1 && errno != EEXIST) {
			log_warn("%s", conf->queue_dir);
			return -1;
		}
		if (conf->state_redis == NULL &&
		    mkdir(conf->state_dir, 0700) == -1 && errno != EEXIST) {
			log_warn("%s", conf->state_dir);
			return -1;
		}
		return 0;
	}
	if ((pw = getpwnam(conf->user)) == NULL) {
		log_warnx("user %s does not exist: create it (make install does, "
		    "or: useradd -r -M -d /var/empty -s /usr/sbin/nologin %s)",
		    conf->user, conf->user);
		return -1;
	}
	if (mkdir(PRIVSEP_EMPTY_DIR, 0755) == -1 && errno != EEXIST) {
		log_warn("%s", PRIVSEP_EMPTY_DIR);
		return -1;
	}
	if ((mkdir(conf->queue_dir, 0700) == -1 && errno != EEXIST) ||
	    chown(conf->queue_dir, pw->pw_uid, pw->pw_gid) == -1 ||
	    chmod(conf->queue_dir, 0700) == -1) {
		log_warn("%s", conf->queue_dir);
		return -1;
	}
	/*
	 * The auth role's counters (issue 5): its chroot, its files; none
	 * with state redis (the role is chrooted elsewhere: state_root).
	 */
	if (conf->state_redis == NULL &&
	    ((mkdir(conf->state_dir, 0700) == -1 && errno != EEXIST) ||
	    chown(conf->state_dir, pw->pw_uid, pw->pw_gid) == -1 ||
	    chmod(conf->state_dir, 0700) == -1)) {
		log_warn("%s", conf->state_dir);
		return -1;
	}
	return 0;
}

static pid_t
parent_fork(int role, const struct fdset *all, const int *keep, void (*run)(void *),
    void *arg)
{
	pid_t	 pid;

	switch ((pid = fork())) {
	case -1:
		fatal("fork");
	case 0:
		/*
		 * Each role is a session of its own, without a controlling
		 * terminal (issue 12 item 7): under -d the operator's terminal
		 * stays open as stderr for the log, but a role can no longer
		 * push input into it (TIOCSTI needs a controlling terminal),
		 * nor get its signals (^C, ^Z, SIGHUP): the parent stops the
		 * roles, and the kernel does (PR_SET_PDEATHSIG) if it dies.
		 */
		if (setsid() == -1)
			fatal("setsid");
		fdset_close_except(all, keep);
		if (P.ready_rd != -1)
			close(P.ready_rd);
		if (P.started_fd != -1)
			close(P.started_fd);
		role_set_parent_fd(P.chan_child[role]);
		run(arg);
		_exit(1);	/* not reached: roles exit themselves */
	default:
		log_debug("event=role-start role=%s pid=%ld", role_names[role],
		    (long)pid);
		return pid;
	}
}

struct role_args {
	struct conf	*conf;
	int		*listen_fds;
	int		 smtp_auth[2], smtp_queue[2], queue_relay[2];
	int		 ctl_queue[2], ctl_auth[2];	/* control role */
	int		 queue_filter[2];	/* issue 16; -1 without a filter */
	int		 auth_queue[2];	/* grants, quotas (issue 12) */
	int		 ctl_metrics[2];	/* issue 15; -1 without metrics */
	int		 metrics_listen;
	int		 auth_relay[2];	/* pacing (issue 12 item 5) */
};

static void run_smtp(void *a) { struct role_args *r = a;
	role_smtp_main(r->conf, r->listen_fds, r->smtp_auth[0], r->smtp_queue[0]); }
static void run_auth(void *a) { struct role_args *r = a;
	role_auth_main(r->conf, r->smtp_auth[1], r->ctl_auth[1],
	    r->auth_queue[0], r->auth_relay[0]); }
static void run_queue(void *a) { struct role_args *r = a;
	role_queue_main(r->conf, r->smtp_queue[1], r->queue_relay[0],
	    r->ctl_queue[1], r->queue_filter[0], r->auth_queue[1]); }
static void run_control(void *a) { struct role_args *r = a;
	role_control_main(r->conf, r->ctl_queue[0], r->ctl_auth[0],
	    r->ctl_metrics[0]); }
static void run_relay(void *a) { struct role_args *r = a;
	role_relay_main(r->conf, r->queue_relay[1], r->auth_relay[1]); }
static void run_filter(void *a) { struct role_args *r = a;
	role_filter_main(r->conf, r->queue_filter[1]); }
static void run_metrics(void *a) { struct role_args *r = a;
	role_metrics_main(r->conf, r->metrics_listen, r->ctl_metrics[1]); }

static int
parent_spawn(struct conf *conf)
{
	struct role_args a;
	struct fdset	 all = { .n = 0 };
	int		*lfds, keep[72], i, n;

	memset(&a, 0, sizeof(a));
	a.conf = conf;
	if ((lfds = calloc(conf->nlisten + 1, sizeof(int))) == NULL)
		fatal("calloc");
	a.listen_fds = lfds;
	if (smtp_listen_open(conf, lfds) == -1)
		return -1;
	if (ipc_socketpair(a.smtp_auth) == -1 || ipc_socketpair(a.smtp_queue) == -1 ||
	    ipc_socketpair(a.queue_relay) == -1 ||
	    ipc_socketpair(a.ctl_queue) == -1 || ipc_socketpair(a.ctl_auth) == -1 ||
	    ipc_socketpair(a.auth_queue) == -1 ||
	    ipc_socketpair(a.auth_relay) == -1)
		fatal("socketpair");
	a.queue_filter[0] = a.queue_filter[1] = -1;
	if (conf->filter.enabled) {
		if (ipc_socketpair(a.queue_filter) == -1)
			fatal("socketpair");
		fdset_add(&all, a.queue_filter[0]);
		fdset_add(&all, a.queue_filter[1]);
	}
	a.ctl_metrics[0] = a.ctl_metrics[1] = a.metrics_listen = -1;
	if (conf->metrics_line != 0) {
		if ((a.metrics_listen = role_metrics_listen(conf)) == -1)
			return -1;
		if (ipc_socketpair(a.ctl_metrics) == -1)
			fatal("socketpair");
		fdset_add(&all, a.metrics_listen);
		fdset_add(&all, a.ctl_metrics[0]);
		fdset_add(&all, a.ctl_metrics[1]);
	}
	for (i = 0; i < R_COUNT; i++) {
		int	 sv[2];

		if (ipc_socketpair(sv) == -1)
			fatal("socketpair");
		P.chan[i] = sv[0];
		P.chan_child[i] = sv[1];
		fdset_add(&all, sv[0]);
		fdset_add(&all, sv[1]);
	}
	for (i = 0; i < (int)conf->nlisten; i++)
		fdset_add(&all, lfds[i]);
	for (i = 0; i < 2; i++) {
		fdset_add(&all, a.smtp_auth[i]);
		fdset_add(&all, a.smtp_queue[i]);
		fdset_add(&all, a.queue_relay[i]);
		fdset_add(&all, a.ctl_queue[i]);
		fdset_add(&all, a.ctl_auth[i]);
		fdset_add(&all, a.auth_queue[i]);
		fdset_add(&all, a.auth_relay[i]);
	}
	/* The smtp role keeps the listeners and its two channel ends. */
	for (n = 0; n < (int)conf->nlisten; n++)
		keep[n] = lfds[n];
	keep[n++] = a.smtp_auth[0];
	keep[n++] = a.smtp_queue[0];
	keep[n++] = P.chan_child[R_SMTP];
	keep[n] = -1;
	P.pid[R_SMTP] = parent_fork(R_SMTP, &all, keep, run_smtp, &a);
	keep[0] = a.smtp_auth[1]; keep[1] = a.ctl_auth[1];
	keep[2] = a.auth_queue[0]; keep[3] = P.chan_child[R_AUTH];
	keep[4] = a.auth_relay[0]; keep[5] = -1;
	P.pid[R_AUTH] = parent_fork(R_AUTH, &all, keep, run_auth, &a);
	keep[0] = a.smtp_queue[1]; keep[1] = a.queue_relay[0];
	/* queue_filter[0] last: it is -1 (the end) without a filter */
	keep[2] = a.ctl_queue[1]; keep[3] = a.auth_queue[1];
	keep[4] = P.chan_child[R_QUEUE];
	keep[5] = a.queue_filter[0]; keep[6] = -1;
	P.pid[R_QUEUE] = parent_fork(R_QUEUE, &all, keep, run_queue, &a);
	keep[0] = a.ctl_queue[0]; keep[1] = a.ctl_auth[0];
	keep[2] = P.chan_child[R_CONTROL]; keep[3] = a.ctl_metrics[0];
	keep[4] = -1;
	P.pid[R_CONTROL] = parent_fork(R_CONTROL, &all, keep, run_control, &a);
	keep[0] = a.queue_relay[1]; keep[1] = P.chan_child[R_RELAY];
	keep[2] = a.auth_relay[1]; keep[3] = -1;
	P.pid[R_RELAY] = parent_fork(R_RELAY, &all, keep, run_relay, &a);
	if (conf->filter.enabled) {
		keep[0] = a.queue_filter[1];
		keep[1] = P.chan_child[R_FILTER]; keep[2] = -1;
		P.pid[R_FILTER] = parent_fork(R_FILTER, &all, keep, run_filter,
		    &a);
	}
	if (conf->metrics_line != 0) {
		keep[0] = a.metrics_listen; keep[1] = a.ctl_metrics[1];
		keep[2] = P.chan_child[R_METRICS]; keep[3] = -1;
		P.pid[R_METRICS] = parent_fork(R_METRICS, &all, keep,
		    run_metrics, &a);
	}
	/* The parent keeps its ends of the channels to the roles. */
	for (i = 0; i < all.n; i++) {
		for (n = 0; n < R_COUNT; n++)
			if (all.fd[i] == P.chan[n])
				break;
		if (n == R_COUNT)
			close(all.fd[i]);
	}
	free(lfds);
	return 0;
}

static int
parent_alive(void)
{
	int	 i, n = 0;

	for (i = 0; i < R_COUNT; i++)
		n += P.pid[i] != 0;
	return n;
}

/* Roles forked at start (the live ones and those reaped since). */
static int
parent_started_roles(void)
{
	return R_COUNT - (P.conf->filter.enabled ? 0 : 1) -
	    (P.conf->metrics_line != 0 ? 0 : 1);
}

static void
parent_kill_all(int sig)
{
	int	 i;

	for (i = 0; i < R_COUNT; i++)
		if (P.pid[i] != 0)
			kill(P.pid[i], sig);
}

static void
parent_on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_warnx("event=shutdown roles did not stop in %d s: killing them",
	    STOP_GRACE_SECONDS);
	P.killed = 1;
	parent_kill_all(SIGKILL);
}

/* Stop: the smtp role first (it drains), the others once it is gone. */
static void
parent_stop(int status)
{
	struct timeval	 tv = { STOP_GRACE_SECONDS, 0 };

	if (P.stopping)
		return;
	P.stopping = 1;
	P.status = status;
	if (P.pid[R_SMTP] != 0)
		kill(P.pid[R_SMTP], SIGTERM);
	else
		parent_kill_all(SIGTERM);
	evtimer_add(P.ev_kill, &tv);
}

/* A role ended by a signal or a non-zero exit status: the cause, not an echo. */
static int
role_failed(int st)
{
	return WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0);
}

/* Log role I's end (wait status ST) and stop the daemon if not expected. */
static void
parent_role_ended(int i, int st)
{
	pid_t	 pid = P.pid[i];

	P.pid[i] = 0;
	/*
	 * While stopping, exits and SIGTERM are expected, and SIGKILL
	 * once we sent it; a role killed by someone else is logged
	 * even when another role noticed first and stopped the daemon,
	 * and so is a failing exit once a failure is stopping it.
	 */
	if (!P.stopping || (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM &&
	    (WTERMSIG(st) != SIGKILL || !P.killed)) ||
	    (P.status != 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0)) {
		if (WIFSIGNALED(st))
			log_warnx("event=role-died role=%s pid=%ld signal=%d%s",
			    role_names[i], (long)pid, WTERMSIG(st),
			    WTERMSIG(st) == SIGSYS ? " (seccomp: forbidden "
			    "system call)" : "");
		else
			log_warnx("event=role-died role=%s pid=%ld status=%d",
			    role_names[i], (long)pid, WEXITSTATUS(st));
		if (!P.stopping)
			parent_stop(1);
		else
			P.status = 1;
	} else
		log_debug("event=role-exit role=%s", role_names[i]);
	if (i == R_SMTP && P.stopping)
		parent_kill_all(SIGTERM);
}

/*
 * Reap every role that ended. Those that failed are handled first: when
 * one role dies its peers see their channel close and exit 0, and
 * waitpid() returns zombies in no particular order, so the role that
 * caused the stop is the one named first.
 */
static void
parent_reap(void)
{
	pid_t	 pid;
	int	 st, sts[R_COUNT], reaped[R_COUNT] = { 0 }, pass, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < R_COUNT; i++)
			if (P.pid[i] == pid && !reaped[i]) {
				reaped[i] = 1;
				sts[i] = st;
				break;
			}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < R_COUNT; i++)
			if (reaped[i] && role_failed(sts[i]) == (pass == 0))
				parent_role_ended(i, sts[i]);
	if (P.stopping && parent_alive() == 0)
		event_base_loopexit(P.base, NULL);
}

/* Every role serves: tell whoever started us (a shell, systemd). */
static void
parent_started(void)
{
	log_info("event=ready roles=%d", P.nready);
	if (P.started_fd != -1) {
		if (write(P.started_fd, "s", 1) != 1)
			log_warn("event=warning started-pipe");
		close(P.started_fd);
		P.started_fd = -1;
	}
	(void)sdnotify("READY=1\nSTATUS=serving");
	log_stderr_detach();
}

static void
parent_on_ready(evutil_socket_t fd, short what, void *arg)
{
	char	 buf[16];
	ssize_t	 n;

	(void)what;
	(void)arg;
	if ((n = read(fd, buf, sizeof(buf))) > 0) {
		P.nready += (int)n;
		/* the filter and metrics roles run only when configured */
		if (P.nready == parent_started_roles() && !P.stopping)
			parent_started();
		return;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	/* every role closed it: ready or dead (then reaping stops us) */
	event_del(P.ev_ready);
	close(P.ready_rd);
	P.ready_rd = -1;
}

/*
 * Issue 14, live reload (SIGHUP, submitctl reload, systemd ExecReload).
 * The parent reads the config and every file it names, recording their
 * bytes (lib/fileset.h), and checks them all as submitd -n does
 * (config.c).  Any error: refused whole, the old config stays.  Else each
 * reloadable role gets the config and its own files (smtp the pki, auth
 * the users, queue the DKIM keys, relay the secrets and CA; none sees
 * another's), the smtp role the sockets of new listeners, then PREPARE;
 * only when every one prepared does any commit (roles.h).
 */
#define RELOAD_TIMEOUT_SECONDS	60

/* R_FILTER only when it runs (a filter statement): skipped without one. */
static const int reload_roles[] = { R_SMTP, R_AUTH, R_QUEUE, R_RELAY,
    R_FILTER };
#define NRELOAD_ROLES	(sizeof(reload_roles) / sizeof(reload_roles[0]))

static struct {
	int		 active;
	uint64_t	 reqid;		/* submitctl's request; 0: SIGHUP */
	struct conf	*conf;		/* the new one */
	struct fileset	*files;		/* its files, as checked */
	int		*fds;		/* new listeners (index of conf), -1 */
	unsigned	 waiting;	/* roles yet to answer PREPARE */
	int		 failed;
	char		*text;		/* messages for the log and submitctl */
	size_t		 len;
	FILE		*out;
	char		*roles_text;	/* what the roles said, on failure */
	size_t		 roles_len;
	FILE		*roles_out;
	struct event	*ev_timeout;
	int		 again;		/* SIGHUP during a reload */
} RLD;

static void	reload_start(uint64_t reqid);

static void
reload_reply(uint64_t reqid, int status, const char *text, size_t len)
{
	void	*buf;
	size_t	 blen;

	if (reqid == 0 || P.ipc[R_CONTROL] == NULL)
		return;
	if (ctl_reply_encode(status, text, len, &buf, &blen) == -1)
		return;
	if (ipc_send(P.ipc[R_CONTROL], IPC_CTL_REPLY, reqid, -1, buf,
	    blen) == -1)
		log_warnx("event=reload cannot answer the control role");
	free(buf);
}

/* Each line of TEXT to the log. */
static void
reload_log_lines(const char *text, int warn)
{
	const char	*nl;

	for (; *text != '\0'; text = nl + 1) {
		nl = strchr(text, '\n');
		if (warn)
			log_warnx("event=reload %.*s", nl ? (int)(nl - text) :
			    (int)strlen(text), text);
		else
			log_info("event=reload %.*s", nl ? (int)(nl - text) :
			    (int)strlen(text), text);
		if (nl == NULL)
			break;
	}
}

static void
reload_send_all(uint32_t type)
{
	size_t	 i;

	for (i = 0; i < NRELOAD_ROLES; i++)
		if (P.ipc[reload_roles[i]] != NULL &&
		    ipc_send(P.ipc[reload_roles[i]], type, 0, -1, NULL, 0) == -1)
			log_warnx("event=reload cannot reach role %s",
			    role_names[reload_roles[i]]);
}

static void
reload_finish(void)
{
	size_t	 i;
	int	 ok = !RLD.failed;

	evtimer_del(RLD.ev_timeout);
	if (RLD.waiting > 0 || RLD.conf == NULL)
		ok = 0;
	if (ok) {
		reload_send_all(IPC_RELOAD_COMMIT);
		if (P.conf != P.conf0)
			conf_free(P.conf);
		P.conf = RLD.conf;
		RLD.conf = NULL;
		fprintf(RLD.out, "%s: reloaded\n", P.conf->file);
	} else {
		reload_send_all(IPC_RELOAD_ABORT);
		if (RLD.roles_out != NULL) {
			fflush(RLD.roles_out);
			if (RLD.roles_text != NULL)
				fputs(RLD.roles_text, RLD.out);
		}
		fprintf(RLD.out, "%s: reload refused: the configuration in "
		    "force is unchanged\n", P.conf->file);
	}
	fclose(RLD.out);
	RLD.out = NULL;
	if (RLD.roles_out != NULL)
		fclose(RLD.roles_out);
	RLD.roles_out = NULL;
	free(RLD.roles_text);
	RLD.roles_text = NULL;
	reload_log_lines(RLD.text ? RLD.text : "", !ok);
	reload_reply(RLD.reqid, ok ? 0 : 1, RLD.text ? RLD.text : "", RLD.len);
	free(RLD.text);
	RLD.text = NULL;
	for (i = 0; RLD.fds != NULL && RLD.conf != NULL &&
	    i < RLD.conf->nlisten; i++)
		if (RLD.fds[i] != -1)
			close(RLD.fds[i]);
	if (RLD.fds != NULL && RLD.conf == NULL)
		for (i = 0; i < P.conf->nlisten; i++)
			if (RLD.fds[i] != -1)
				close(RLD.fds[i]);
	free(RLD.fds);
	RLD.fds = NULL;
	conf_free(RLD.conf);
	RLD.conf = NULL;
	fileset_free(RLD.files);
	RLD.files = NULL;
	RLD.active = 0;
	if (RLD.again) {
		RLD.again = 0;
		reload_start(0);
	}
}

static void
reload_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fprintf(RLD.out, "%s: reload: %u role(s) did not answer in %d s\n",
	    RLD.conf->file, RLD.waiting, RELOAD_TIMEOUT_SECONDS);
	RLD.failed = 1;
	RLD.waiting = 0;
	reload_finish();
}

/* One file of the role being sent: a memfd of the bytes checked. */
struct reload_send {
	struct ipc	*ch;
	int		 bad;
};

static void
reload_send_file(void *arg, const char *path)
{
	struct reload_send	*rs = arg;
	const char		*data;
	unsigned char		*msg;
	size_t			 len, plen = strlen(path);
	unsigned		 mode;
	int			 fd;

	if (fileset_get(RLD.files, path, &data, &len, &mode) == -1)
		return;		/* not read: the role will say it is missing */
	if ((msg = malloc(4 + plen + 1)) == NULL ||
	    (fd = fileset_memfd("submitd-reload", data, len)) == -1) {
		free(msg);
		log_warn("event=reload memfd");
		rs->bad = 1;
		return;
	}
	msg[0] = mode >> 24;
	msg[1] = mode >> 16;
	msg[2] = mode >> 8;
	msg[3] = mode;
	memcpy(msg + 4, path, plen + 1);
	if (ipc_send(rs->ch, IPC_RELOAD_FILE, 0, fd, msg, 4 + plen + 1) == -1)
		rs->bad = 1;
	close(fd);
	free(msg);
}

/* Sockets for the listeners the new config adds; -1 on error (in OUT). */
static int
reload_listeners(void)
{
	const struct conf	*nc = RLD.conf;
	size_t			 i, j;
	int			 bad = 0;

	if ((RLD.fds = calloc(nc->nlisten + 1, sizeof(int))) == NULL)
		return -1;
	for (i = 0; i < nc->nlisten; i++) {
		RLD.fds[i] = -1;
		for (j = 0; j < P.conf->nlisten; j++)
			if (config_listen_same(&nc->listen[i], &P.conf->listen[j]))
				break;
		if (j < P.conf->nlisten)
			continue;	/* the smtp role has it open */
		if ((RLD.fds[i] = smtp_listen_socket(nc, &nc->listen[i])) == -1) {
			fprintf(RLD.out, "%s:%d: listen: %s\n", nc->file,
			    nc->listen[i].line, strerror(errno));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static void
reload_start(uint64_t reqid)
{
	struct timeval		 tv = { RELOAD_TIMEOUT_SECONDS, 0 };
	struct reload_send	 rs;
	unsigned char		 idx[4];
	size_t			 i, k;
	int			 ok;

	if (RLD.active) {
		static const char busy[] = "a reload is running: try again\n";

		if (reqid == 0)
			RLD.again = 1;
		else
			reload_reply(reqid, 1, busy, sizeof(busy) - 1);
		return;
	}
	RLD.active = 1;
	RLD.failed = 0;
	RLD.waiting = 0;
	RLD.reqid = reqid;
	log_info("event=reload file=%s source=%s", P.conf->file,
	    reqid ? "submitctl" : "signal");
	if ((RLD.out = open_memstream(&RLD.text, &RLD.len)) == NULL ||
	    (RLD.roles_out = open_memstream(&RLD.roles_text,
	    &RLD.roles_len)) == NULL || (RLD.files = fileset_new()) == NULL)
		fatal("reload");
	fileset_use(RLD.files, 1);
	/* Both checks, so that one reload shows every reason it is refused. */
	if ((ok = (RLD.conf = conf_load(P.conf->file, RLD.out)) != NULL)) {
		ok = config_check(RLD.conf, RLD.out) == 0;
		ok = config_check_change(P.conf, RLD.conf, RLD.out) == 0 && ok;
	}
	fileset_use(NULL, 0);
	if (ok && reload_listeners() == -1)
		ok = 0;
	if (!ok) {
		RLD.failed = 1;
		reload_finish();
		return;
	}
	for (i = 0; i < NRELOAD_ROLES; i++) {
		int	 r = reload_roles[i];

		if (r == R_FILTER && !P.conf->filter.enabled)
			continue;
		rs.ch = P.ipc[r];
		rs.bad = rs.ch == NULL;
		if (!rs.bad)
			config_role_files(RLD.conf, role_names[r],
			    reload_send_file, &rs);
		for (k = 0; r == R_SMTP && !rs.bad && k < RLD.conf->nlisten; k++) {
			if (RLD.fds[k] == -1)
				continue;
			idx[0] = k >> 24;
			idx[1] = k >> 16;
			idx[2] = k >> 8;
			idx[3] = k;
			if (ipc_send(rs.ch, IPC_RELOAD_LISTEN, 0, RLD.fds[k], idx,
			    sizeof(idx)) == -1)
				rs.bad = 1;
		}
		if (rs.bad || ipc_send(rs.ch, IPC_RELOAD_PREPARE, 0, -1,
		    RLD.conf->file, strlen(RLD.conf->file) + 1) == -1) {
			fprintf(RLD.out, "%s: reload: cannot reach role %s\n",
			    RLD.conf->file, role_names[r]);
			RLD.failed = 1;
			continue;
		}
		RLD.waiting++;
	}
	if (RLD.waiting == 0) {
		reload_finish();
		return;
	}
	evtimer_add(RLD.ev_timeout, &tv);
}

static void
reload_ready(int role, const struct ipc_msg *m)
{
	const char	*text;
	size_t		 len;
	int		 status;

	if (m->fd != -1 ||
	    ctl_reply_decode(m->data, m->len, &status, &text, &len) == -1) {
		log_warnx("event=ipc-reject from=%s type=%s reason=malformed",
		    role_names[role], ipc_type_name(m->type));
		status = 1;
		text = "malformed answer\n";
		len = strlen(text);
	}
	if (!RLD.active || RLD.waiting == 0)
		return;		/* late: that reload was already given up */
	if (status != 0) {
		RLD.failed = 1;
		fprintf(RLD.roles_out, "%.*s", (int)len, text);
		if (len == 0 || text[len - 1] != '\n')
			fprintf(RLD.roles_out, "\n");
	}
	if (--RLD.waiting == 0)
		reload_finish();
}

static void
parent_dispatch(struct ipc *ch, const struct ipc_msg *m, void *arg)
{
	int		 role = (int)(intptr_t)arg;
	uint32_t	 flags;
	char		**argv;
	int		 argc;

	if (m == NULL) {
		/* The role is gone: SIGCHLD tells how. */
		ipc_free(ch);
		P.ipc[role] = NULL;
		return;
	}
	switch (m->type) {
	case IPC_RELOAD_READY:
		reload_ready(role, m);
		break;
	case IPC_CTL_REQUEST:		/* submitctl reload, via control */
		if (role != R_CONTROL || m->fd != -1 ||
		    ctl_request_decode(m->data, m->len, &flags, &argc,
		    &argv) == -1 || strcmp(argv[0], "reload") != 0 ||
		    argc != 1) {
			if (role == R_CONTROL && m->fd == -1 &&
			    ctl_request_decode(m->data, m->len, &flags, &argc,
			    &argv) == 0) {
				static const char u[] = "usage: submitctl reload\n";

				free(argv);
				reload_reply(m->reqid, 1, u, sizeof(u) - 1);
				break;
			}
			log_warnx("event=ipc-reject from=%s type=%s",
			    role_names[role], ipc_type_name(m->type));
			if (m->fd != -1)
				close(m->fd);
			break;
		}
		free(argv);
		reload_start(m->reqid);
		break;
	default:
		log_warnx("event=ipc-reject from=%s type=%s reason=unexpected",
		    role_names[role], ipc_type_name(m->type));
		if (m->fd != -1)
			close(m->fd);
	}
}

static void
parent_on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	switch (sig) {
	case SIGCHLD:
		parent_reap();
		break;
	case SIGHUP:
		if (!P.stopping)
			reload_start(0);
		break;
	default:
		log_info("event=shutdown signal=%d", (int)sig);
		parent_stop(0);
		break;
	}
}

int
parent_run(struct conf *conf)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
	struct event	*ev[4];
	size_t		 i;

	int		 ready[2];

	P.conf = P.conf0 = conf;
	for (i = 0; i < R_COUNT; i++)
		P.chan[i] = P.chan_child[i] = -1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);	/* a reload before the loop: no death */
	if (pipe2(ready, O_CLOEXEC) == -1)
		fatal("pipe2");
	P.ready_rd = ready[0];
	role_set_ready_fd(ready[1]);
	if (parent_prepare_dirs(conf) == -1 || parent_spawn(conf) == -1) {
		parent_kill_all(SIGTERM);
		return 1;
	}
	close(ready[1]);
	role_set_ready_fd(-1);
	privsep_title("parent");
	if ((P.base = event_base_new()) == NULL ||
	    (P.ev_kill = evtimer_new(P.base, parent_on_kill_timer, NULL)) == NULL ||
	    (P.ev_ready = event_new(P.base, P.ready_rd, EV_READ | EV_PERSIST,
	    parent_on_ready, NULL)) == NULL || event_add(P.ev_ready, NULL) == -1 ||
	    (RLD.ev_timeout = evtimer_new(P.base, reload_on_timeout, NULL)) == NULL)
		fatalx("event_base_new failed");
	for (i = 0; i < R_COUNT; i++) {
		char	 name[32];

		snprintf(name, sizeof(name), "parent<-%s", role_names[i]);
		if (P.chan[i] != -1 && (P.ipc[i] = ipc_new(P.base, P.chan[i],
		    name, parent_dispatch, (void *)(intptr_t)i)) == NULL)
			fatal("ipc");
	}
	for (i = 0; i < 4; i++)
		if ((ev[i] = evsignal_new(P.base, sigs[i], parent_on_signal,
		    NULL)) == NULL || evsignal_add(ev[i], NULL) == -1)
			fatal("signals");
	/* A role may have died before the handlers were there. */
	parent_reap();
	log_info("event=started version=%s hostname=%s privsep=%s",
	    SUBMITD_VERSION, conf->hostname, privsep_is_root() ? "yes" : "NO");
	if (!P.stopping || parent_alive())
		event_base_dispatch(P.base);
	(void)sdnotify("STOPPING=1");
	log_info("event=stopped status=%d", P.status);
	/* The control role made it as root and cannot remove it, chrooted. */
	if (unlink(conf->control_path) == -1 && errno != ENOENT)
		log_warn("%s", conf->control_path);
	for (i = 0; i < 4; i++)
		event_free(ev[i]);
	for (i = 0; i < R_COUNT; i++)
		if (P.ipc[i] != NULL)
			ipc_free(P.ipc[i]);
	event_free(RLD.ev_timeout);
	event_free(P.ev_kill);
	event_free(P.ev_ready);
	if (P.ready_rd != -1)
		close(P.ready_rd);
	if (P.conf != P.conf0)
		conf_free(P.conf);
	event_base_free(P.base);
	return P.status;
}
