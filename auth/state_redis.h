/*
 * state_redis.h — auth/state.h over Redis (submitd.conf "state redis"),
 * for instances that share their counters.  Called only by auth/state.c.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_STATE_REDIS_H
#define AUTH_STATE_REDIS_H

#include "auth/state.h"

int	state_redis_open(const struct conf *, struct event_base *);
void	state_redis_close(void);
void	state_redis_window(const char *key, const struct window_rate *r,
	    enum state_op op, uint64_t n, state_cb cb, void *arg);
void	state_redis_slot_take(const char *key, const struct window_rate *r,
	    const char *key2, const struct window_rate *r2, state_cb cb,
	    void *arg);
void	state_redis_lock_get(const char *key, state_cb cb, void *arg);
void	state_redis_lock_set(const char *key, int64_t lock_ms,
	    uint32_t failures, state_cb cb, void *arg);
void	state_redis_hist_add(const char *key, int64_t bucket_ms,
	    unsigned nbuckets, uint64_t n, state_cb cb, void *arg);
void	state_redis_del(const char *key, state_cb cb, void *arg);

#endif
