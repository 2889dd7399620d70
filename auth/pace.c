/* pace.c — the relay's pacing in the state store; see pace.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/pace.h"
#include "auth/state.h"
#include "auth/store.h"
#include "conf/conf.h"
#include "lib/log.h"

/* One log as stored: "expires at" first, as every record (store.h). */
struct pace_log {
	int64_t		 expires_ms;
	uint32_t	 n;
	uint32_t	 pad;
	int64_t		 t[PACE_LOG_MAX];	/* oldest first */
};

static struct {
	const struct conf	*conf;
	int			 down;	/* said the shared store is down */
} PC;

void
pace_init(const struct conf *conf)
{
	PC.conf = conf;
}

static void
log_load(const char *key, struct pace_log *l)
{
	if (store_get(key, l, sizeof(*l)) != 0)
		memset(l, 0, sizeof(*l));
	if (l->n > PACE_LOG_MAX)
		l->n = 0;
}

static void
log_save(const char *key, const struct pace_log *l)
{
	if (store_put(key, l, sizeof(*l)) == -1)
		log_warnx("auth: event=pace-lost key=%s", key);
}

/* Drops what left before the window; 1 when one more fits, else the wait. */
static int
log_fits(struct pace_log *l, const struct conf_rate *r, int64_t now,
    int64_t *wait)
{
	int64_t		 win = (int64_t)r->window * 1000;
	uint64_t	 cap = r->count < PACE_LOG_MAX ? r->count : PACE_LOG_MAX;
	uint32_t	 drop = 0;

	while (drop < l->n && l->t[drop] <= now - win)
		drop++;
	if (drop > 0) {
		memmove(l->t, l->t + drop, (l->n - drop) * sizeof(l->t[0]));
		l->n -= drop;
	}
	if (l->n < cap)
		return 1;
	*wait = l->t[l->n - cap] + win - now;
	if (*wait < 1)
		*wait = 1;
	return 0;
}

static void
log_add(struct pace_log *l, const struct conf_rate *r, int64_t now)
{
	if (l->n == PACE_LOG_MAX) {
		memmove(l->t, l->t + 1, (l->n - 1) * sizeof(l->t[0]));
		l->n--;
	}
	l->t[l->n++] = now;
	l->expires_ms = now + (int64_t)r->window * 1000;
}

/* The LMDB store: the logs in it, at once. */
static int
pace_take_local(const char *login, int64_t *wait_ms)
{
	const struct conf_rate	*rl = &PC.conf->relay.msgs_per_login;
	const struct conf_rate	*rt = &PC.conf->relay.msgs_total;
	struct pace_log		*a, *b;
	char			 ka[STORE_KEY_MAX], kb[STORE_KEY_MAX];
	int64_t			 now = store_now_ms(), w = 0;
	int			 ok = 1;

	if ((a = malloc(sizeof(*a))) == NULL || (b = malloc(sizeof(*b))) == NULL)
		fatal("pace");
	snprintf(ka, sizeof(ka), "p/%s", login);
	snprintf(kb, sizeof(kb), "p/ total");
	*wait_ms = 0;
	if (rl->count != 0) {
		log_load(ka, a);
		if (!log_fits(a, rl, now, &w)) {
			ok = 0;
			*wait_ms = w;
		}
	}
	if (rt->count != 0) {
		log_load(kb, b);
		if (!log_fits(b, rt, now, &w)) {
			ok = 0;
			if (w > *wait_ms)
				*wait_ms = w;
		}
	}
	if (ok) {
		if (rl->count != 0) {
			log_add(a, rl, now);
			log_save(ka, a);
		}
		if (rt->count != 0) {
			log_add(b, rt, now);
			log_save(kb, b);
		}
	}
	free(a);
	free(b);
	return ok;
}

/* A take in the shared store (state redis) on its way. */
struct pace_ask {
	pace_cb		 cb;
	void		*arg;
	char		 login[STORE_KEY_MAX];
};

/* Its answer; the store down: wait a second and ask again (fail closed). */
static void
pace_answered(void *arg, const struct state_answer *a)
{
	struct pace_ask	*q = arg;
	int64_t		 wait = 0;
	int		 fits = 0;

	if (a->down) {
		wait = 1000;
		if (!PC.down)
			log_warnx("event=pace login=%s result=wait "
			    "reason=\"shared pacing state down\": mail waits "
			    "in the queue", q->login);
		PC.down = 1;
	} else {
		if (PC.down)
			log_info("event=pace result=resumed "
			    "reason=\"shared pacing state up\"");
		PC.down = 0;
		if (!(fits = a->fits)) {
			wait = a->wait_ms >= WINDOW_NEVER / 2 ? 60000 :
			    a->wait_ms < 1 ? 1 : a->wait_ms;
			log_info("event=pace login=%s result=wait "
			    "wait=%lldms reason=\"relay limit messages (shared)\"",
			    q->login, (long long)wait);
		}
	}
	q->cb(q->arg, fits, wait);
	free(q);
}

void
pace_take(const char *login, pace_cb cb, void *arg)
{
	const struct conf_rate	*rl = &PC.conf->relay.msgs_per_login;
	const struct conf_rate	*rt = &PC.conf->relay.msgs_total;
	struct window_rate	 wl, wt;
	struct pace_ask		*q;
	char			 kl[STORE_KEY_MAX], kt[STORE_KEY_MAX];
	int64_t			 wait = 0;
	int			 fits;

	if (PC.conf->state_redis == NULL || (rl->count == 0 &&
	    rt->count == 0)) {
		fits = pace_take_local(login, &wait);
		cb(arg, fits, wait);
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("pace");
	q->cb = cb;
	q->arg = arg;
	snprintf(q->login, sizeof(q->login), "%s", login);
	snprintf(kl, sizeof(kl), "p/%s", login);
	snprintf(kt, sizeof(kt), "p/ total");
	wl.count = rl->count;
	wl.window_ms = (int64_t)rl->window * 1000;
	wt.count = rt->count;
	wt.window_ms = (int64_t)rt->window * 1000;
	if (rl->count == 0)
		state_slot_take(kt, &wt, NULL, NULL, pace_answered, q);
	else
		state_slot_take(kl, &wl, rt->count != 0 ? kt : NULL, &wt,
		    pace_answered, q);
}
