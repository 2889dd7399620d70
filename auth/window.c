/* window.c — leaky-bucket rate windows; see window.h. */
#include <stddef.h>

#include "auth/window.h"

typedef unsigned __int128 u128;

static u128
level_get(const struct window *w)
{
	return ((u128)w->level_hi << 64) | w->level_lo;
}

static void
level_set(struct window *w, u128 v)
{
	w->level_hi = (uint64_t)(v >> 64);
	w->level_lo = (uint64_t)v;
}

/* The level at NOW_MS (a clock that went back drains nothing). */
static u128
level_at(const struct window *w, const struct window_rate *r, int64_t now_ms)
{
	u128	 level = level_get(w), drained;

	if (now_ms <= w->last_ms)
		return level;
	drained = (u128)(uint64_t)(now_ms - w->last_ms) * r->count;
	return drained >= level ? 0 : level - drained;
}

int
window_check(const struct window *w, const struct window_rate *r, uint64_t n,
    int64_t now_ms, int64_t *wait_ms)
{
	u128	 cap, need, over, wait;

	if (r->count == 0 || n == 0)
		return 1;
	cap = (u128)r->count * (uint64_t)r->window_ms;
	need = level_at(w, r, now_ms) + (u128)n * (uint64_t)r->window_ms;
	if (need <= cap)
		return 1;
	if (wait_ms != NULL) {
		if (n > r->count)
			*wait_ms = WINDOW_NEVER;
		else {
			over = need - cap;
			wait = (over + r->count - 1) / r->count;
			*wait_ms = wait > (u128)INT64_MAX - 1 ? WINDOW_NEVER :
			    (int64_t)wait;
		}
	}
	return 0;
}

void
window_charge(struct window *w, const struct window_rate *r, uint64_t n,
    int64_t now_ms)
{
	u128	 level, add, cap;

	if (r->count == 0)
		return;
	level = level_at(w, r, now_ms);
	add = (u128)n * (uint64_t)r->window_ms;
	/* Never more than one window of debt beyond a full bucket. */
	cap = (u128)r->count * (uint64_t)r->window_ms * 2;
	level = level + add > cap ? cap : level + add;
	level_set(w, level);
	if (now_ms > w->last_ms || w->last_ms == 0)
		w->last_ms = now_ms;
	w->idle_ms = w->last_ms +
	    (int64_t)((level + r->count - 1) / r->count);
}

uint64_t
window_used(const struct window *w, const struct window_rate *r, int64_t now_ms)
{
	u128	 level;

	if (r->count == 0 || r->window_ms <= 0)
		return 0;
	level = level_at(w, r, now_ms);
	return (uint64_t)((level + (uint64_t)r->window_ms - 1) /
	    (uint64_t)r->window_ms);
}

void
window_refund(struct window *w, const struct window_rate *r, uint64_t n,
    int64_t now_ms)
{
	u128	 level, sub;

	if (r->count == 0)
		return;
	level = level_at(w, r, now_ms);
	sub = (u128)n * (uint64_t)r->window_ms;
	level = sub >= level ? 0 : level - sub;
	level_set(w, level);
	if (now_ms > w->last_ms || w->last_ms == 0)
		w->last_ms = now_ms;
	w->idle_ms = w->last_ms +
	    (int64_t)((level + r->count - 1) / r->count);
}
