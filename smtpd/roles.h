/*
 * roles.h — the entry point of each role process.  The parent (parent.c)
 * forks one process per role and calls its main with the descriptors it
 * needs; a role main never returns.
 *
 *   smtp   listeners, client sessions, TLS server keys   → auth, queue
 *   auth   users table, password checks, grants, quotas  ← smtp, ↔ queue
 *   queue  spool, scheduler, DKIM keys                   ← smtp, → relay
 *   relay  upstream secrets, CA, upstream connections    ← queue
 *   control the submitctl socket                         → queue, auth
 *   filter rspamd connections, nothing secret            ← queue (issue 16)
 *   metrics the /metrics HTTP listener, nothing secret    → control (issue 15)
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_ROLES_H
#define SMTPD_ROLES_H

#include <stdio.h>

struct conf;
struct event_base;
struct ipc_msg;

/* The SMTP listeners LISTEN_FDS (conf->nlisten), channels to auth and queue. */
void	role_smtp_main(struct conf *, int *listen_fds, int auth_fd, int queue_fd)
	    __attribute__((noreturn));
/*
 * CONTROL_FD: the control role's channel (submitctl requests).  QUEUE_FD
 * and AUTH_FD: the channel between auth and queue (issue 12: grants and
 * quota reservations go there, never through the smtp role).
 */
void	role_auth_main(struct conf *, int smtp_fd, int control_fd,
	    int queue_fd, int relay_fd) __attribute__((noreturn));
/* FILTER_FD: the filter role's channel, -1 without "filter rspamd". */
void	role_queue_main(struct conf *, int smtp_fd, int relay_fd,
	    int control_fd, int filter_fd, int auth_fd)
	    __attribute__((noreturn));
/*
 * Binds conf->control_path as root, then chroots; channels to queue, auth,
 * and METRICS_FD to the metrics role (-1 without "metrics listen").
 */
void	role_control_main(struct conf *, int queue_fd, int auth_fd,
	    int metrics_fd) __attribute__((noreturn));
/* AUTH_FD: "relay limit messages" asked of the auth role (issue 12). */
void	role_relay_main(struct conf *, int queue_fd, int auth_fd)
	    __attribute__((noreturn));
/* Issue 16: asks rspamd about the messages the queue role passes it. */
void	role_filter_main(struct conf *, int queue_fd) __attribute__((noreturn));
/*
 * Issue 15: role_metrics_listen (the parent, as root) opens the socket of
 * "metrics listen on"; -1 on failure.  role_metrics_main serves it.
 */
int	role_metrics_listen(const struct conf *);
void	role_metrics_main(struct conf *, int listen_fd, int control_fd)
	    __attribute__((noreturn));

/* role_start: title, event base and logging name for a new role process. */
struct event_base *role_start(const char *role);
/* role_sandbox: drop privileges into ROOTDIR, then the role's seccomp filter. */
void	role_sandbox(const struct conf *, const char *rootdir, const char *role);
/*
 * role_peer_closed: the channel to PEER is gone (it exited or died): log
 * it and exit.  The parent decides whether that was a shutdown or a
 * failure of the daemon.
 */
void	role_peer_closed(const char *role, const char *peer)
	    __attribute__((noreturn));
/*
 * role_ipc_reject: a packet FROM a peer role that is malformed or not
 * expected: logged (event=ipc-reject), its fd closed, nothing else.
 */
void	role_ipc_reject(const struct ipc_msg *, const char *from, const char *why);
/*
 * role_set_ready_fd: (the parent, before it forks) the pipe each role
 * writes one byte to once it serves; role_ready writes it (role_run calls
 * it; a role with its own loop calls it before the loop).  The parent
 * counts the bytes: a start succeeds when every role is ready.
 */
void	role_set_ready_fd(int fd);
void	role_ready(void);
/*
 * Live reload (issue 14; the parent's side is in parent.c, what a config
 * is made of in config.h).  The parent checks a new configuration, then
 * sends each role the config file and the files that role reads (as
 * IPC_RELOAD_FILE), then IPC_RELOAD_PREPARE.  role_common.c installs
 * those files (lib/fileset.h), loads the config from them and calls
 * PREPARE, which loads what the role needs into a pending state (or
 * reports why not); the parent commits in every role only when every
 * role prepared, else aborts in all.  State (counters, lockouts, pacing,
 * the queue) is the role's own and stays.
 */
struct role_reload {
	/*
	 * NEWCONF was loaded from the files the parent sent (fileset_read
	 * reads only those now): load what the role needs from it, keep it
	 * pending; errors to ERRF.  0 (NEWCONF is the role's now), or -1.
	 */
	int	(*prepare)(struct conf *newconf, FILE *errf);
	void	(*commit)(void);	/* the pending state takes over */
	void	(*abort)(void);		/* the pending state is dropped */
	/* Other messages from the parent (may be NULL). */
	void	(*dispatch)(const struct ipc_msg *);
};

/* role_set_parent_fd: in a new role process, its channel to the parent. */
void	role_set_parent_fd(int fd);
/* role_parent_fd: that channel's descriptor (-1: none), for a role's own use. */
int	role_parent_fd(void);
/* role_reload_init: reloads as ROLE with OPS over the parent's channel. */
void	role_reload_init(struct event_base *, const char *role,
	    const struct role_reload *ops);
/*
 * role_conf_retire: a configuration replaced by a reload.  Roles keep
 * them (a few KiB each): a pointer into one may still live in a request
 * in flight, and a reload is rare.
 */
void	role_conf_retire(struct conf *);

/* role_run: role_ready, the event loop until SIGTERM/SIGINT, then exit(0). */
void	role_run(struct event_base *) __attribute__((noreturn));

#endif
