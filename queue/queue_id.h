/*
 * queue_id.h — queue IDs: 13 upper-case hex digits of microseconds since
 * the epoch, then 6 upper-case hex digits from libsodium's randombytes
 * (e.g. "63F1A2B3C4D5E7A09F1").  Unique across restarts and hosts, short,
 * and sortable by time (strcmp order is creation order to the microsecond;
 * within one process IDs strictly increase even if the clock steps back).
 * queue_id_new() itself is declared in queue/queue.h.
 *
 * queue/: the spool, its scheduler and the signing at commit.  Knows
 * nothing of SMTP sessions, IPC or the roles; it reaches the relay through
 * struct queue_relay_ops.
 */
#ifndef QUEUE_QUEUE_ID_H
#define QUEUE_QUEUE_ID_H

#include <stdint.h>

#include "lib/submitd.h"

/* queue_id_valid: 1 when S is exactly a queue ID as above, else 0. */
int		 queue_id_valid(const char *s);

/* queue_id_make: the ID for time USEC (microseconds) and RND (24 bits). */
void		 queue_id_make(char out[QUEUE_ID_SIZE], uint64_t usec,
		    uint32_t rnd);

#endif
