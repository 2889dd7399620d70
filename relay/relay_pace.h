/*
 * relay_pace.h — "relay limit messages N per WINDOW": how many messages
 * each upstream login may start in any sliding WINDOW (OVH locks a mailbox
 * past about 200 an hour).  Past the limit the relay holds deliveries back;
 * nothing is refused.  Pure bookkeeping over times given by the caller.
 *
 * relay/: the smarthost client.  Knows nothing of the spool, IPC or the
 * roles: it takes a message file and an envelope, and answers through a
 * callback.
 */
#ifndef RELAY_RELAY_PACE_H
#define RELAY_RELAY_PACE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct relay_pace;

/*
 * relay_pace_new: for NLOGINS logins (indexes 0..NLOGINS-1), COUNT messages
 * per WINDOW seconds each; COUNT 0 means no limit.  NULL on ENOMEM.
 */
struct relay_pace *relay_pace_new(size_t nlogins, uint64_t count,
		    time_t window);
void		 relay_pace_free(struct relay_pace *);
/* relay_pace_wait: seconds before LOGIN may start one more; 0 = now. */
time_t		 relay_pace_wait(const struct relay_pace *, size_t login,
		    time_t now);
/* relay_pace_charge: LOGIN started a message at NOW; -1 on ENOMEM. */
int		 relay_pace_charge(struct relay_pace *, size_t login, time_t now);

/*
 * relay_pace_carry (issue 14, reload): the messages FROM_LOGIN of FROM
 * started within its window count for TO_LOGIN of TO as well, so that a
 * reload does not reset "relay limit messages".  0, or -1 out of memory.
 */
int		 relay_pace_carry(struct relay_pace *to, size_t to_login,
		    const struct relay_pace *from, size_t from_login, time_t now);

#endif
