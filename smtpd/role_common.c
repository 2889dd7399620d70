/* role_common.c — what every role process does at start and end. */
#include <sys/prctl.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "ctl/ctl_client.h"
#include "lib/fileset.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "smtpd/roles.h"
#include "lib/sandbox.h"

static pid_t	 role_parent;	/* the parent that forked this role */
static int	 role_ready_fd = -1; /* role_set_ready_fd */
static int	 parent_fd = -1;	/* channel to the parent (reload) */

/* Reload state: the files being received, the ops, the retired configs. */
static struct {
	const char		*role;
	const struct role_reload *ops;
	struct ipc		*ch;
	struct fileset		*files;
	int			 pending;	/* prepared, not yet committed */
	struct conf		**retired;
	size_t			 nretired;
} RL;

struct event_base *
role_start(const char *role)
{
	struct event_base	*base;

	role_parent = getppid();

	tzset();	/* read the time zone before any chroot */
	privsep_title(role);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	return base;
}

void
role_set_ready_fd(int fd)
{
	role_ready_fd = fd;
}

void
role_ready(void)
{
	if (role_ready_fd == -1)
		return;
	if (write(role_ready_fd, "r", 1) != 1)
		log_warn("event=warning ready-pipe");
	close(role_ready_fd);
	role_ready_fd = -1;
}

void
role_sandbox(const struct conf *conf, const char *rootdir, const char *role)
{
	/* A background start's terminal: let it go before the chroot. */
	log_stderr_detach();
	privsep_drop(conf->user, rootdir, role);
	/*
	 * If the parent dies (kill -9), the roles must not live on holding
	 * the listeners and the spool: the kernel tells them with SIGTERM.
	 * Set after the user switch, which clears it.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		fatal("PR_SET_PDEATHSIG");
	if (getppid() != role_parent) {
		log_warnx("event=parent-gone role=%s", role);
		exit(0);
	}
	sandbox_apply(role);
}

static void
role_on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

void
role_run(struct event_base *base)
{
	struct event	*term, *intr;

	term = evsignal_new(base, SIGTERM, role_on_term, base);
	intr = evsignal_new(base, SIGINT, role_on_term, base);
	if (term == NULL || intr == NULL || evsignal_add(term, NULL) == -1 ||
	    evsignal_add(intr, NULL) == -1)
		fatal("signals");
	role_ready();
	event_base_dispatch(base);
	exit(0);
}

void
role_peer_closed(const char *role, const char *peer)
{
	log_info("event=peer-closed role=%s peer=%s", role, peer);
	exit(0);
}

void
role_ipc_reject(const struct ipc_msg *m, const char *from, const char *why)
{
	log_warnx("event=ipc-reject from=%s type=%u (%s) reason=%s", from,
	    m->type, ipc_type_name(m->type), log_q(why));
	if (m->fd != -1)
		close(m->fd);
}

void
role_set_parent_fd(int fd)
{
	parent_fd = fd;
}

int
role_parent_fd(void)
{
	return parent_fd;
}

void
role_conf_retire(struct conf *conf)
{
	struct conf	**n;

	if (conf == NULL)
		return;
	if ((n = reallocarray(RL.retired, RL.nretired + 1, sizeof(*n))) == NULL)
		fatal("role_conf_retire");
	RL.retired = n;
	RL.retired[RL.nretired++] = conf;
}

static void
reload_ready(uint64_t reqid, int status, const char *text, size_t len)
{
	void	*buf;
	size_t	 blen;

	if (ctl_reply_encode(status, text, len, &buf, &blen) == -1 ||
	    ipc_send(RL.ch, IPC_RELOAD_READY, reqid, -1, buf, blen) == -1)
		fatalx("%s: cannot answer the parent", RL.role);
	free(buf);
}

/* IPC_RELOAD_FILE: u32 mode (big-endian), then the path, NUL-terminated. */
static void
reload_file(const struct ipc_msg *m)
{
	const unsigned char	*d = m->data;
	const char		*path;
	char			*buf;
	size_t			 len;
	unsigned		 mode;

	if (m->fd == -1 || m->len < 6 || d[m->len - 1] != '\0' ||
	    strlen((const char *)d + 4) != m->len - 5) {
		role_ipc_reject(m, "parent", "malformed");
		return;
	}
	mode = (unsigned)d[0] << 24 | (unsigned)d[1] << 16 |
	    (unsigned)d[2] << 8 | d[3];
	path = (const char *)d + 4;
	if (RL.files == NULL && (RL.files = fileset_new()) == NULL)
		fatal("fileset_new");
	if (fileset_fd_read(m->fd, FILESET_FILE_MAX, &buf, &len) == -1) {
		log_warn("event=reload-file path=\"%s\"", path);
		close(m->fd);
		return;	/* prepare then finds it missing and says so */
	}
	close(m->fd);
	if (fileset_add(RL.files, path, buf, len, mode & 07777) == -1)
		fatal("fileset_add");
	fileset_buf_free(buf, len);
}

static void
reload_prepare(const struct ipc_msg *m)
{
	struct conf	*conf = NULL;
	const char	*path = m->data;
	char		*text = NULL;
	size_t		 tlen = 0;
	FILE		*errf;
	int		 ok;

	if (m->fd != -1 || m->len < 2 || path[m->len - 1] != '\0' ||
	    strlen(path) != m->len - 1) {
		role_ipc_reject(m, "parent", "malformed");
		return;
	}
	if (RL.pending && RL.ops->abort != NULL)
		RL.ops->abort();
	RL.pending = 0;
	if ((errf = open_memstream(&text, &tlen)) == NULL)
		fatal("open_memstream");
	if (RL.files == NULL && (RL.files = fileset_new()) == NULL)
		fatal("fileset_new");
	fileset_use(RL.files, 0);
	ok = (conf = conf_load(path, errf)) != NULL &&
	    RL.ops->prepare(conf, errf) == 0;
	fileset_use(NULL, 0);
	fileset_free(RL.files);
	RL.files = NULL;
	if (!ok)
		conf_free(conf);
	RL.pending = ok;
	fclose(errf);
	log_info("event=reload-prepare role=%s result=%s", RL.role,
	    ok ? "ok" : "refused");
	reload_ready(m->reqid, ok ? 0 : 1, text ? text : "", tlen);
	free(text);
}

static void
reload_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed(RL.role, "parent");
	switch (m->type) {
	case IPC_RELOAD_FILE:
		reload_file(m);
		break;
	case IPC_RELOAD_PREPARE:
		reload_prepare(m);
		break;
	case IPC_RELOAD_COMMIT:
	case IPC_RELOAD_ABORT:
		if (m->fd != -1 || m->len != 0) {
			role_ipc_reject(m, "parent", "malformed");
			return;
		}
		if (RL.pending) {
			if (m->type == IPC_RELOAD_COMMIT)
				RL.ops->commit();
			else if (RL.ops->abort != NULL)
				RL.ops->abort();
			log_info("event=reload-%s role=%s", m->type ==
			    IPC_RELOAD_COMMIT ? "commit" : "abort", RL.role);
		}
		RL.pending = 0;
		break;
	default:
		if (RL.ops->dispatch != NULL)
			RL.ops->dispatch(m);
		else
			role_ipc_reject(m, "parent", "unexpected type");
	}
}

void
role_reload_init(struct event_base *base, const char *role,
    const struct role_reload *ops)
{
	static char	 name[32];

	if (parent_fd == -1)
		return;
	snprintf(name, sizeof(name), "%s<-parent", role);
	RL.role = role;
	RL.ops = ops;
	if ((RL.ch = ipc_new(base, parent_fd, name, reload_dispatch, NULL)) == NULL)
		fatal("ipc");
}
