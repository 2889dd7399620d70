/* pace.c — the relay's pacing in the state store; see pace.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/pace.h"
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

/* The logs when the store cannot keep them (state redis). */
struct mem_log {
	struct mem_log	*next;
	char		 key[STORE_KEY_MAX];
	struct pace_log	 log;
};

static struct {
	const struct conf	*conf;
	struct mem_log		*mem;
} PC;

void
pace_init(const struct conf *conf)
{
	PC.conf = conf;
}

static struct pace_log *
mem_find(const char *key)
{
	struct mem_log	*m;

	for (m = PC.mem; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return &m->log;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("pace");
	snprintf(m->key, sizeof(m->key), "%s", key);
	m->next = PC.mem;
	PC.mem = m;
	return &m->log;
}

static void
log_load(const char *key, struct pace_log *l)
{
	if (PC.conf->state_redis != NULL) {
		*l = *mem_find(key);
		return;
	}
	if (store_get(key, l, sizeof(*l)) != 0)
		memset(l, 0, sizeof(*l));
	if (l->n > PACE_LOG_MAX)
		l->n = 0;
}

static void
log_save(const char *key, const struct pace_log *l)
{
	if (PC.conf->state_redis != NULL)
		*mem_find(key) = *l;
	else if (store_put(key, l, sizeof(*l)) == -1)
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

int
pace_take(const char *login, int64_t *wait_ms)
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
