/*
 * auth_ctl.c — the auth role's answers to submitctl: "show limits [USER]"
 * (quota counters and what is left, lockouts in force) and "unlock
 * IP|USER".  See auth_ctl.h.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/auth_ctl.h"
#include "auth/lockout.h"
#include "auth/policy.h"
#include "auth/store.h"
#include "auth/users.h"
#include "auth/window.h"

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

static void
show_user(struct evbuffer *out, const char *user, int json, int first)
{
	struct window_rate	 rm, rr, rb;
	struct counter		 m, r, b;
	int64_t			 now = store_now_ms();
	int			 locked;
	struct sockaddr_storage	 none;

	memset(&none, 0, sizeof(none));
	none.ss_family = AF_UNSPEC;
	policy_user_rates(user, &rm, &rr, &rb);
	counter_get("m", user, &rm, now, &m);
	counter_get("r", user, &rr, now, &r);
	counter_get("b", user, &rb, now, &b);
	locked = lockout_locked((struct sockaddr *)&none, user);
	if (json) {
		evbuffer_add_printf(out, "%s{\"user\":", first ? "" : ",");
		json_str(out, user);
		evbuffer_add_printf(out, ",\"messages\":{\"limit\":%llu,"
		    "\"window\":%lld,\"used\":%llu,\"remaining\":%llu},"
		    "\"recipients\":{\"limit\":%llu,\"window\":%lld,"
		    "\"used\":%llu,\"remaining\":%llu},\"bytes\":{\"limit\":"
		    "%llu,\"window\":%lld,\"used\":%llu,\"remaining\":%llu},"
		    "\"locked\":%s}",
		    (unsigned long long)m.limit, (long long)m.window_s,
		    (unsigned long long)m.used, (unsigned long long)m.left,
		    (unsigned long long)r.limit, (long long)r.window_s,
		    (unsigned long long)r.used, (unsigned long long)r.left,
		    (unsigned long long)b.limit, (long long)b.window_s,
		    (unsigned long long)b.used, (unsigned long long)b.left,
		    locked ? "true" : "false");
		return;
	}
	evbuffer_add_printf(out, "%s", user);
	if (m.limit == 0)
		evbuffer_add_printf(out, "  messages: no limit");
	else
		evbuffer_add_printf(out, "  messages: %llu/%llu per %llds "
		    "(%llu left)", (unsigned long long)m.used,
		    (unsigned long long)m.limit, (long long)m.window_s,
		    (unsigned long long)m.left);
	if (r.limit == 0)
		evbuffer_add_printf(out, "  recipients: no limit");
	else
		evbuffer_add_printf(out, "  recipients: %llu/%llu per %llds "
		    "(%llu left)", (unsigned long long)r.used,
		    (unsigned long long)r.limit, (long long)r.window_s,
		    (unsigned long long)r.left);
	if (b.limit == 0)
		evbuffer_add_printf(out, "  bytes: no limit");
	else
		evbuffer_add_printf(out, "  bytes: %llu/%llu per %llds "
		    "(%llu left)", (unsigned long long)b.used,
		    (unsigned long long)b.limit, (long long)b.window_s,
		    (unsigned long long)b.left);
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
		    "remaining=%llds\n", key, r.failures,
		    (long long)((r.until_ms - lw->now + 999) / 1000));
	lw->n++;
}

static int
ctl_show_limits(const char *user, int json, struct evbuffer *out)
{
	const struct users	*u = policy_users();
	struct lock_walk	 lw;
	size_t			 i;

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

	if (json) {
		evbuffer_add_printf(out, "{\"unlocked\":");
		json_str(out, what);
		evbuffer_add_printf(out, ",\"was_locked\":%s}\n",
		    was ? "true" : "false");
	} else
		evbuffer_add_printf(out, "%s: %s\n", what,
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
	if (json)
		evbuffer_add_printf(out, "{\"error\":\"usage: show limits [USER]"
		    " | unlock IP|USER\"}\n");
	else
		evbuffer_add_printf(out, "usage: submitctl show limits [USER] | "
		    "submitctl unlock IP|USER\n");
	return 1;
}
