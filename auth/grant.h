/*
 * grant.h — what the auth role vouches for after a successful login: a
 * grant names the login, its sender patterns and the client address the
 * kernel gave for the session's socket.  The auth role makes one per
 * login and hands it to the queue on their own channel; the queue
 * commits a message only against a live grant and checks the envelope and
 * the From: header against its patterns.  The same table, in each role,
 * holds the grants; the auth role's also holds each grant's reservation
 * of quota (reserved at MAIL, charged when the queue has committed).
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_GRANT_H
#define AUTH_GRANT_H

#include <stdint.h>

#include "lib/submitd.h"

#define GRANT_LIFETIME_MS	((int64_t)2 * 3600 * 1000)	/* then gone */
#define GRANT_MAX		65536	/* live grants; the oldest goes first */

struct grant {
	uint64_t	 id;		/* random, never 0 */
	int64_t		 expires_ms;
	/* The table's copies are kept at their length (issue 18: 1.3 KB a
	   session in each of the auth and queue roles when inline). */
	const char	*user;
	const char	*senders;
	char		 client_addr[64];
	/* The auth role's reservation (issue 12 item 4). */
	uint64_t	 res_messages;
	uint64_t	 res_rcpt;
	uint64_t	 res_bytes;
};

/*
 * grant_add: a copy of G (its strings too) in the table (G->id 0: a fresh random id is
 * chosen); the stored grant, or NULL when out of memory.  When the table
 * is full the oldest grant is dropped.
 */
struct grant	*grant_add(const struct grant *g);
/* grant_find: the live grant ID at NOW_MS, or NULL (expired ones go). */
struct grant	*grant_find(uint64_t id, int64_t now_ms);
/* grant_end: forget ID (no error when unknown). */
void		 grant_end(uint64_t id);
/*
 * grant_reserved: the sums of the reservations of USER's live grants,
 * all but EXCEPT (0: none excepted).
 */
void		 grant_reserved(const char *user, uint64_t except,
		    int64_t now_ms, uint64_t *messages, uint64_t *rcpt,
		    uint64_t *bytes);
/* grant_count: live grants (tests, show). */
size_t		 grant_count(void);

#endif
