/*
 * ctl_serve.h — the answering side of a submitctl request inside a role
 * (queue, auth): decode IPC_CTL_REQUEST, run the role's command function,
 * send IPC_CTL_REPLY on the same channel.  Framing: ctl/ctl_client.h.
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_CTL_SERVE_H
#define SMTPD_CTL_SERVE_H

struct evbuffer;
struct ipc;
struct ipc_msg;

/*
 * A role's commands: ARGV (ARGC >= 1), JSON set for --json; writes the
 * answer to OUT; returns 0 (done) or 1 (refused, OUT says why).
 */
typedef int (*ctl_fn)(void *arg, int argc, char **argv, int json,
    struct evbuffer *out);

/*
 * ctl_serve: answers request M (type IPC_CTL_REQUEST, from the control
 * role on channel CH) with FN(ARG, ...).  A malformed request is logged
 * (event=ipc-reject, as ROLE) and answered with an error.  Fatal only
 * when the channel cannot take the reply.
 */
void	ctl_serve(struct ipc *ch, const struct ipc_msg *m, const char *role,
	    ctl_fn fn, void *arg);

/*
 * An asynchronous role command (one whose answer needs a round trip, as
 * the auth role's state in Redis): as ctl_fn, but it answers by calling
 * DONE(TOKEN, status) once OUT is written, before it returns or later.
 * ARGV is freed when FN returns.
 */
typedef void (*ctl_done_fn)(void *token, int status);
typedef void (*ctl_afn)(void *arg, int argc, char **argv, int json,
    struct evbuffer *out, ctl_done_fn done, void *token);

/* ctl_serve_async: ctl_serve with an asynchronous FN. */
void	ctl_serve_async(struct ipc *ch, const struct ipc_msg *m,
	    const char *role, ctl_afn fn, void *arg);

#endif
