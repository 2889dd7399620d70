/*
 * state.c — the counters' interface (auth/state.h) and its LMDB
 * implementation over auth/store.h; Redis is in auth/state_redis.c.
 */
#include <string.h>

#include "auth/hist.h"
#include "auth/lockout.h"
#include "auth/state.h"
#include "auth/state_redis.h"
#include "auth/store.h"
#include "conf/conf.h"

static int	 S_redis;	/* 1: the ops go to auth/state_redis.c */

int
state_open(const struct conf *conf, struct event_base *base)
{
	if (conf->state_redis != NULL) {
		S_redis = 1;
		return state_redis_open(conf, base);
	}
	S_redis = 0;
	return store_open(conf->state_dir, base);
}

void
state_close(void)
{
	if (S_redis)
		state_redis_close();
	else
		store_close();
}

int
state_shared(void)
{
	return S_redis;
}

void
state_window(const char *key, const struct window_rate *r, enum state_op op,
    uint64_t n, state_cb cb, void *arg)
{
	struct state_answer	 a;
	struct window		 w;
	int			 rc;

	if (S_redis) {
		state_redis_window(key, r, op, n, cb, arg);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.now_ms = store_now_ms();
	if ((rc = store_get(key, &w, sizeof(w))) == -1) {
		a.down = 1;
		goto done;
	}
	if (rc != 0)
		memset(&w, 0, sizeof(w));
	switch (op) {
	case STATE_PEEK:
		a.fits = window_check(&w, r, n, a.now_ms, &a.wait_ms);
		break;
	case STATE_TAKE:
		if ((a.fits = window_check(&w, r, n, a.now_ms, &a.wait_ms)))
			window_charge(&w, r, n, a.now_ms);
		break;
	case STATE_ADD:
		a.fits = window_check(&w, r, n, a.now_ms, &a.wait_ms);
		window_charge(&w, r, n, a.now_ms);
		break;
	case STATE_GIVE:
		a.fits = 1;
		window_refund(&w, r, n, a.now_ms);
		break;
	}
	if (op != STATE_PEEK && (a.fits || op != STATE_TAKE) &&
	    store_put(key, &w, sizeof(w)) == -1)
		a.down = 1;
	a.used = window_used(&w, r, a.now_ms);
done:
	if (cb != NULL)
		cb(arg, &a);
}

void
state_slot_take(const char *key, const struct window_rate *r,
    const char *key2, const struct window_rate *r2, state_cb cb, void *arg)
{
	struct state_answer	 a;

	if (S_redis) {
		state_redis_slot_take(key, r, key2, r2, cb, arg);
		return;
	}
	/* The LMDB store keeps its logs in auth/pace.c, not here. */
	memset(&a, 0, sizeof(a));
	a.down = 1;
	if (cb != NULL)
		cb(arg, &a);
}

void
state_lock_get(const char *key, state_cb cb, void *arg)
{
	struct state_answer	 a;
	struct lockout_rec	 r;
	int			 rc;

	if (S_redis) {
		state_redis_lock_get(key, cb, arg);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.now_ms = store_now_ms();
	if ((rc = store_get(key, &r, sizeof(r))) == -1)
		a.down = 1;
	else if (rc == 0 && r.until_ms > a.now_ms) {
		a.until_ms = r.until_ms;
		a.failures = r.failures;
	}
	if (cb != NULL)
		cb(arg, &a);
}

void
state_lock_set(const char *key, int64_t lock_ms, uint32_t failures,
    state_cb cb, void *arg)
{
	struct state_answer	 a;
	struct lockout_rec	 r;

	if (S_redis) {
		state_redis_lock_set(key, lock_ms, failures, cb, arg);
		return;
	}
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	a.now_ms = store_now_ms();
	r.until_ms = a.until_ms = a.now_ms + lock_ms;
	r.failures = a.failures = failures;
	if (store_put(key, &r, sizeof(r)) == -1)
		a.down = 1;
	if (cb != NULL)
		cb(arg, &a);
}

void
state_hist_add(const char *key, int64_t bucket_ms, unsigned nbuckets,
    uint64_t n, state_cb cb, void *arg)
{
	struct state_answer	 a;
	struct hist		 h;
	uint64_t		 out[HIST_MAX];
	int			 rc;

	if (S_redis) {
		state_redis_hist_add(key, bucket_ms, nbuckets, n, cb, arg);
		return;
	}
	memset(&a, 0, sizeof(a));
	memset(&h, 0, sizeof(h));
	a.now_ms = store_now_ms();
	if (bucket_ms <= 0 || nbuckets == 0 || nbuckets > HIST_MAX ||
	    (rc = store_get(key, &h, hist_size(nbuckets))) == -1) {
		a.down = 1;
		goto done;
	}
	if (rc != 0)		/* none, or of another shape: afresh */
		memset(&h, 0, sizeof(h));
	if (hist_add(&h, bucket_ms, nbuckets, n, a.now_ms, out) == -1 ||
	    (n != 0 && store_put(key, &h, hist_size(nbuckets)) == -1)) {
		a.down = 1;
		goto done;
	}
	a.hist = out;
	a.nhist = nbuckets;
done:
	if (cb != NULL)
		cb(arg, &a);
}

void
state_del(const char *key, state_cb cb, void *arg)
{
	struct state_answer	 a;

	if (S_redis) {
		state_redis_del(key, cb, arg);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.now_ms = store_now_ms();
	if (store_del(key) == -1)
		a.down = 1;
	if (cb != NULL)
		cb(arg, &a);
}
