/* role_common.c — what every role process does at start and end. */
#include <sys/prctl.h>

#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "smtpd/roles.h"
#include "lib/sandbox.h"

static pid_t	 role_parent;	/* the parent that forked this role */
static int	 role_ready_fd = -1; /* role_set_ready_fd */

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
