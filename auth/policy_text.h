/*
 * policy_text.h — the access policy's values as text, for reply lines,
 * log lines and store keys: a peer address, a size, a window, a wait.
 * Used by the policy (auth/policy.c), the lockout (auth/lockout.c) and
 * the login checks (auth/auth.c); knows nothing of their state.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_POLICY_TEXT_H
#define AUTH_POLICY_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* policy_addr: PEER as text for keys and logs (IPv4-mapped as IPv4). */
const char *policy_addr(const struct sockaddr *peer, char *buf, size_t size);
/* policy_when: "retry after 12:34:56 UTC (in 42 s)" for a wait of WAIT_MS. */
const char *policy_when(int64_t now_ms, int64_t wait_ms, char *buf, size_t size);
/* policy_size_text: N octets as "3K", "100M", "2G" or "1500". */
const char *policy_size_text(uint64_t n, char *buf, size_t size);
/* policy_window_text: a window of MS as "1h", "15m", "90s". */
const char *policy_window_text(int64_t ms, char *buf, size_t size);

#endif
