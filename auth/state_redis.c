/* state_redis.c — auth/state.h over Redis; see state_redis.h. */
#include <string.h>

#include "auth/state_redis.h"
#include "lib/log.h"

static void
down(state_cb cb, void *arg)
{
	struct state_answer	 a;

	memset(&a, 0, sizeof(a));
	a.down = 1;
	if (cb != NULL)
		cb(arg, &a);
}

int
state_redis_open(const struct conf *conf, struct event_base *base)
{
	(void)conf;
	(void)base;
	log_warnx("auth: state redis: not built in");
	return -1;
}

void
state_redis_close(void)
{
}

void
state_redis_window(const char *key, const struct window_rate *r,
    enum state_op op, uint64_t n, state_cb cb, void *arg)
{
	(void)key; (void)r; (void)op; (void)n;
	down(cb, arg);
}

void
state_redis_lock_get(const char *key, state_cb cb, void *arg)
{
	(void)key;
	down(cb, arg);
}

void
state_redis_lock_set(const char *key, int64_t lock_ms, uint32_t failures,
    state_cb cb, void *arg)
{
	(void)key; (void)lock_ms; (void)failures;
	down(cb, arg);
}

void
state_redis_del(const char *key, state_cb cb, void *arg)
{
	(void)key;
	down(cb, arg);
}
