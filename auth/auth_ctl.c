/*
 * auth_ctl.c — the auth role's answers to submitctl: "show limits [USER]"
 * (quota counters and what is left, lockouts in force) and "unlock
 * IP|USER".  See auth_ctl.h.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/auth_ctl.h"
#include "auth/auth_metrics.h"
#include "auth/lockout.h"
#include "auth/policy.h"
#include "auth/state.h"
#include "auth/store.h"
#include "auth/users.h"
#include "auth/window.h"
#include "lib/log.h"

/* NAME as a JSON string body (quotes and backslashes escaped). */
static void
json_str(struct evbuffer *out, const char *name)
{
	evbuffer_add(out, "\"", 1);
	for (; *name != '\0'; name++) {
		if (*name == '"' || *name == '\\')
			evbuffer_add(out, "\\", 1);
		if ((unsigned char)*name < 32)
			evbuffer_add_printf(out, "\\u%04x", (unsigned char)*name);
		else
			evbuffer_add(out, name, 1);
	}
	evbuffer_add(out, "\"", 1);
}

struct counter {
	uint64_t	 limit;
	int64_t		 window_s;
	uint64_t	 used;
	uint64_t	 left;
};

static void
counter_get(const char *prefix, const char *user, const struct window_rate *r,
    int64_t now, struct counter *c)
{
	struct window	 w;
	char		 key[STORE_KEY_MAX];

	memset(c, 0, sizeof(*c));
	c->limit = r->count;
	c->window_s = r->window_ms / 1000;
	snprintf(key, sizeof(key), "%s/%.300s", prefix, user);
	if (store_get(key, &w, sizeof(w)) != 0)
		memset(&w, 0, sizeof(w));
	c->used = window_used(&w, r, now);
	c->left = c->used >= c->limit ? 0 : c->limit - c->used;
}

/* One counter: "  NAME: used/limit per Ws (N left)" or as a JSON member. */
static void
counter_print(struct evbuffer *out, const char *name, const struct counter *c,
    int json)
{
	if (json)
		evbuffer_add_printf(out, ",\"%s\":{\"limit\":%llu,\"window\":%lld,"
		    "\"used\":%llu,\"remaining\":%llu}", name,
		    (unsigned long long)c->limit, (long long)c->window_s,
		    (unsigned long long)c->used, (unsigned long long)c->left);
	else if (c->limit == 0)
		evbuffer_add_printf(out, "  %s: no limit", name);
	else
		evbuffer_add_printf(out, "  %s: %llu/%llu per %llds (%llu left)",
		    name, (unsigned long long)c->used,
		    (unsigned long long)c->limit, (long long)c->window_s,
		    (unsigned long long)c->left);
}

static void
show_user(struct evbuffer *out, const char *user, int json, int first)
{
	static const struct { const char *name, *prefix; } kinds[3] = {
		{ "messages", "m" }, { "recipients", "r" }, { "bytes", "b" },
	};
	struct window_rate	 rates[3];
	struct counter		 c;
	int64_t			 now = store_now_ms();
	int			 locked, i;

	policy_user_rates(user, &rates[0], &rates[1], &rates[2]);
	locked = lockout_user_locked(user);
	if (json) {
		evbuffer_add_printf(out, "%s{\"user\":", first ? "" : ",");
		json_str(out, user);
	} else
		evbuffer_add_printf(out, "%s", log_qtext(user));
	for (i = 0; i < 3; i++) {
		counter_get(kinds[i].prefix, user, &rates[i], now, &c);
		counter_print(out, kinds[i].name, &c, json);
	}
	if (json)
		evbuffer_add_printf(out, ",\"locked\":%s}", locked ? "true" : "false");
	else
		evbuffer_add_printf(out, "%s\n", locked ? "  LOCKED OUT" : "");
}

struct lock_walk {
	struct evbuffer	*out;
	int		 json;
	int		 n;
	int64_t		 now;
};

static void
show_lock(const char *key, const void *val, size_t len, void *arg)
{
	struct lock_walk	*lw = arg;
	struct lockout_rec	 r;

	if (len != sizeof(r))
		return;
	memcpy(&r, val, sizeof(r));
	if (r.until_ms <= lw->now)
		return;
	key += 2;	/* "l/" */
	if (lw->json) {
		evbuffer_add_printf(lw->out, "%s{\"what\":", lw->n ? "," : "");
		json_str(lw->out, key);
		evbuffer_add_printf(lw->out, ",\"failures\":%u,\"until\":%lld}",
		    r.failures, (long long)(r.until_ms / 1000));
	} else
		evbuffer_add_printf(lw->out, "lockout %s failures=%u "
		    "remaining=%llds\n", log_qtext(key), r.failures,
		    (long long)((r.until_ms - lw->now + 999) / 1000));
	lw->n++;
}

static int
ctl_show_limits(const char *user, int json, struct evbuffer *out)
{
	const struct users	*u = policy_users();
	struct lock_walk	 lw;
	size_t			 i;

	if (state_shared() && !json)
		evbuffer_add_printf(out, "(counters and lockouts are shared in "
		    "Redis: the counts below are not read from it)\n");
	if (json)
		evbuffer_add_printf(out, "{\"users\":[");
	if (user != NULL)
		show_user(out, user, json, 1);
	else
		for (i = 0; u != NULL && i < u->n; i++)
			show_user(out, u->entries[i].name, json, i == 0);
	if (json)
		evbuffer_add_printf(out, "],\"lockouts\":[");
	memset(&lw, 0, sizeof(lw));
	lw.out = out;
	lw.json = json;
	lw.now = store_now_ms();
	store_each("l/", show_lock, &lw);
	if (json)
		evbuffer_add_printf(out, "]}\n");
	return 0;
}

static int
ctl_unlock(const char *what, int json, struct evbuffer *out)
{
	int	 was = lockout_unlock(what);

	if (was == -1) {
		if (json) {
			evbuffer_add_printf(out, "{\"unlocked\":");
			json_str(out, what);
			evbuffer_add_printf(out, ",\"was_locked\":null}\n");
		} else
			evbuffer_add_printf(out, "%s: lockout and failures "
			    "forgotten in the shared state\n", what);
		return 0;
	}

	if (json) {
		evbuffer_add_printf(out, "{\"unlocked\":");
		json_str(out, what);
		evbuffer_add_printf(out, ",\"was_locked\":%s}\n",
		    was ? "true" : "false");
	} else
		evbuffer_add_printf(out, "%s: %s\n", log_qtext(what),
		    was ? "lockout lifted" : "was not locked out (failures "
		    "forgotten)");
	return 0;
}

int
auth_ctl(int argc, char **argv, int json, struct evbuffer *out)
{
	if (argc >= 2 && argc <= 3 && strcmp(argv[0], "show") == 0 &&
	    strcmp(argv[1], "limits") == 0)
		return ctl_show_limits(argc == 3 ? argv[2] : NULL, json, out);
	if (argc == 2 && strcmp(argv[0], "unlock") == 0)
		return ctl_unlock(argv[1], json, out);
	if (argc == 1 && strcmp(argv[0], "metrics") == 0) {
		auth_metrics_print(out);
		return 0;
	}
	if (json)
		evbuffer_add_printf(out, "{\"error\":\"usage: show limits [USER]"
		    " | unlock IP|USER\"}\n");
	else
		evbuffer_add_printf(out, "usage: submitctl show limits [USER] | "
		    "submitctl unlock IP|USER\n");
	return 1;
}
