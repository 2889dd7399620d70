/*
 * auth_ctl.h — the auth role's side of submitctl (issue 5): "show limits
 * [USER]" and "unlock IP|USER", called from the control channel in
 * smtpd/role_auth.c (IPC_CTL_REQUEST, see ctl/ctl_client.h).
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_AUTH_CTL_H
#define AUTH_AUTH_CTL_H

struct evbuffer;

/* The answer is in OUT: STATUS 0 when done, 1 when refused (OUT says why). */
typedef void (*auth_ctl_done)(void *arg, int status);

/*
 * auth_ctl: ARGV (ARGC >= 1) is the command ("show", "limits", [USER]),
 * ("unlock", IP|USER), ("show", "held-users") or ("release-user", LOGIN)
 * (issue 15, auth/abuse.h); JSON set for --json.  Writes the answer to OUT as
 * text for people or JSON and calls DONE(ARG, status): before it returns
 * (the LMDB store) or after the state store answered (Redis).  OUT must
 * live until then; ARGV need not.
 */
void	auth_ctl(int argc, char **argv, int json, struct evbuffer *out,
	    auth_ctl_done done, void *arg);

#endif
