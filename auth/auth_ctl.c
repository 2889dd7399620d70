/*
 * auth_ctl.c — the auth role's answers to submitctl: "show limits [USER]"
 * (quota counters and what is left, lockouts in force, read from the
 * state store: with "state redis" what every instance counted) and
 * "unlock IP|USER".  See auth_ctl.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/auth_ctl.h"
#include "auth/abuse.h"
#include "auth/auth_metrics.h"
#include "auth/lockout.h"
#include "auth/policy.h"
#include "auth/state.h"
#include "auth/store.h"
#include "auth/users.h"
#include "auth/window.h"
#include "lib/log.h"
#include "lib/submitd.h"

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

/*
 * "show limits": every counter and lock is asked of the state store
 * (auth/state.h), so that with "state redis" the answer is what all the
 * instances counted, not this one's.  The LMDB store answers at once,
 * Redis after its round trips (all sent at once, pipelined); the answer
 * is printed when the last one is in.
 */
static const struct { const char *name, *prefix; } kinds[3] = {
	{ "messages", "m" }, { "recipients", "r" }, { "bytes", "b" },
};

struct show_user {
	char			 name[STORE_KEY_MAX];
	struct window_rate	 rates[3];
	struct counter		 c[3];
	int			 locked;
};

struct show;

struct ask {
	struct show	*s;
	size_t		 i;	/* the user, or (locks) 0 ip, 1 user */
	int		 what;	/* 0..2: kinds[], 3: user's lock, 4: a lock */
};

struct show {
	struct evbuffer		*out;
	int			 json;
	auth_ctl_done		 done;
	void			*arg;
	size_t			 n;
	struct show_user	*u;
	struct ask		*asks;
	/* "show limits WHAT" with a shared store: WHAT's locks (ip, user) */
	int			 has_what;
	char			 lock_key[2][STORE_KEY_MAX];
	struct state_answer	 lock[2];
	int			 pending;
	int			 down;
};

/* LOGIN folded as auth/lockout.c does for its keys. */
static void
fold(const char *user, char *buf, size_t size)
{
	size_t	 i;

	for (i = 0; user[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)user[i]);
	buf[i] = '\0';
}

struct lock_walk {
	struct evbuffer	*out;
	int		 json;
	int		 n;
	int64_t		 now;
};

static void
lock_print(struct lock_walk *lw, const char *what, uint32_t failures,
    int64_t until_ms)
{
	if (lw->json) {
		evbuffer_add_printf(lw->out, "%s{\"what\":", lw->n ? "," : "");
		json_str(lw->out, what);
		evbuffer_add_printf(lw->out, ",\"failures\":%u,\"until\":%lld}",
		    failures, (long long)(until_ms / 1000));
	} else
		evbuffer_add_printf(lw->out, "lockout %s failures=%u "
		    "remaining=%llds\n", log_qtext(what), failures,
		    (long long)((until_ms - lw->now + 999) / 1000));
	lw->n++;
}

/* The LMDB store's locks in force, walked. */
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
	lock_print(lw, key + 2, r.failures, r.until_ms);	/* "l/" */
}

static void
show_print(struct show *s)
{
	struct evbuffer		*out = s->out;
	struct lock_walk	 lw;
	size_t			 i;
	int			 k;

	if (s->down) {
		if (s->json)
			evbuffer_add_printf(out, "{\"error\":\"the state store "
			    "(%s) is not answering\"}\n", state_shared() ?
			    "redis" : "lmdb");
		else
			evbuffer_add_printf(out, "the state store (%s) is not "
			    "answering: counters and lockouts unknown\n",
			    state_shared() ? "Redis" : "LMDB");
		return;
	}
	if (state_shared() && !s->json)
		evbuffer_add_printf(out, "(counters and lockouts read from "
		    "Redis: what every instance sharing it counted)\n");
	if (s->json)
		evbuffer_add_printf(out, "{\"store\":\"%s\",\"users\":[",
		    state_shared() ? "redis" : "lmdb");
	for (i = 0; i < s->n; i++) {
		if (s->json) {
			evbuffer_add_printf(out, "%s{\"user\":", i ? "," : "");
			json_str(out, s->u[i].name);
		} else
			evbuffer_add_printf(out, "%s", log_qtext(s->u[i].name));
		for (k = 0; k < 3; k++)
			counter_print(out, kinds[k].name, &s->u[i].c[k],
			    s->json);
		if (s->json)
			evbuffer_add_printf(out, ",\"locked\":%s}",
			    s->u[i].locked ? "true" : "false");
		else
			evbuffer_add_printf(out, "%s\n", s->u[i].locked ?
			    "  LOCKED OUT" : "");
	}
	if (s->json)
		evbuffer_add_printf(out, "],\"lockouts\":[");
	memset(&lw, 0, sizeof(lw));
	lw.out = out;
	lw.json = s->json;
	lw.now = store_now_ms();
	if (!state_shared())
		store_each("l/", show_lock, &lw);
	else if (s->has_what) {
		for (k = 0; k < 2; k++) {
			if (s->lock[k].until_ms == 0)
				continue;
			lw.now = s->lock[k].now_ms;
			lock_print(&lw, s->lock_key[k] + 2,
			    s->lock[k].failures, s->lock[k].until_ms);
		}
	} else if (!s->json)
		evbuffer_add_printf(out, "(lockouts in Redis are not listed: "
		    "submitctl show limits IP|USER shows one)\n");
	if (s->json)
		evbuffer_add_printf(out, "]}\n");
}

static void
show_free(struct show *s)
{
	free(s->u);
	free(s->asks);
	free(s);
}

/* One answer fewer to wait for; the last one prints and answers. */
static void
show_step(struct show *s)
{
	auth_ctl_done	 done;
	void		*arg;
	int		 status;

	if (--s->pending > 0)
		return;
	show_print(s);
	done = s->done;
	arg = s->arg;
	status = s->down ? 1 : 0;
	show_free(s);
	done(arg, status);
}

static void
show_answered(void *arg, const struct state_answer *a)
{
	struct ask		*q = arg;
	struct show		*s = q->s;
	struct show_user	*u = &s->u[q->i];
	struct counter		*c;

	if (a->down)
		s->down = 1;
	else if (q->what < 3) {
		c = &u->c[q->what];
		c->used = a->used;
		c->left = c->used >= c->limit ? 0 : c->limit - c->used;
	} else if (q->what == 3)
		u->locked = a->until_ms > a->now_ms;
	else
		s->lock[q->i] = *a;
	show_step(s);
}

static void
ctl_show_limits(const char *user, int json, struct evbuffer *out,
    auth_ctl_done done, void *arg)
{
	const struct users	*us = policy_users();
	struct show		*s;
	struct show_user	*u;
	struct ask		*q;
	char			 key[STORE_KEY_MAX], login[STORE_KEY_MAX], net[64];
	size_t			 i, nasks;
	int			 k;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("auth_ctl");
	s->out = out;
	s->json = json;
	s->done = done;
	s->arg = arg;
	s->n = user != NULL ? 1 : us != NULL ? us->n : 0;
	nasks = s->n * 4 + 2;
	if ((s->u = calloc(s->n + 1, sizeof(*s->u))) == NULL ||
	    (s->asks = calloc(nasks, sizeof(*s->asks))) == NULL)
		fatal("auth_ctl");
	/* The names and rates now: a reload may change the table meanwhile. */
	for (i = 0; i < s->n; i++) {
		u = &s->u[i];
		snprintf(u->name, sizeof(u->name), "%s", user != NULL ? user :
		    us->entries[i].name);
		policy_user_rates(u->name, &u->rates[0], &u->rates[1],
		    &u->rates[2]);
		for (k = 0; k < 3; k++) {
			u->c[k].limit = u->rates[k].count;
			u->c[k].window_s = u->rates[k].window_ms / 1000;
		}
	}
	s->pending = 1;		/* until every question is out */
	q = s->asks;
	for (i = 0; i < s->n; i++) {
		u = &s->u[i];
		for (k = 0; k < 4; k++, q++) {
			q->s = s;
			q->i = i;
			q->what = k;
			s->pending++;
			if (k == 3) {
				fold(u->name, login, sizeof(login));
				snprintf(key, sizeof(key), "l/user/%.300s",
				    login);
				state_lock_get(key, show_answered, q);
			} else {
				snprintf(key, sizeof(key), "%s/%.300s",
				    kinds[k].prefix, u->name);
				state_window(key, &u->rates[k], STATE_PEEK, 0,
				    show_answered, q);
			}
		}
	}
	if (state_shared() && user != NULL) {
		/* No walk over Redis's keys: WHAT's own locks. */
		s->has_what = 1;
		snprintf(s->lock_key[0], sizeof(s->lock_key[0]), "l/ip/%.300s",
		    lockout_net_of(user, net, sizeof(net)));
		fold(user, login, sizeof(login));
		snprintf(s->lock_key[1], sizeof(s->lock_key[1]),
		    "l/user/%.300s", login);
		for (k = 0; k < 2; k++, q++) {
			q->s = s;
			q->i = (size_t)k;
			q->what = 4;
			s->pending++;
			state_lock_get(s->lock_key[k], show_answered, q);
		}
	}
	show_step(s);
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

/* Issue 15: a login held by an alert may send again. */
struct release_q {
	char		 user[AUTH_USER_MAX + 1];
	int		 json;
	struct evbuffer	*out;
	auth_ctl_done	 done;
	void		*arg;
};

static void
release_done(void *arg, int was)
{
	struct release_q	*r = arg;

	if (r->json) {
		evbuffer_add_printf(r->out, "{\"released\":");
		json_str(r->out, r->user);
		evbuffer_add_printf(r->out, ",\"was_held\":%s}\n",
		    was ? "true" : "false");
	} else
		evbuffer_add_printf(r->out, "%s: %s\n", log_qtext(r->user),
		    was ? "may send again (its held mail stays held: submitctl "
		    "release user LOGIN, or remove user LOGIN)" :
		    "was not held");
	r->done(r->arg, was ? 0 : 1);
	free(r);
}

static void
ctl_release_user(const char *user, int json, struct evbuffer *out,
    auth_ctl_done done, void *arg)
{
	struct release_q	*r;

	if (strlen(user) > AUTH_USER_MAX || (r = calloc(1, sizeof(*r))) ==
	    NULL) {
		evbuffer_add_printf(out, "%s: was not held\n",
		    log_qtext(user));
		done(arg, 1);
		return;
	}
	memcpy(r->user, user, strlen(user) + 1);
	r->json = json;
	r->out = out;
	r->done = done;
	r->arg = arg;
	abuse_release_user(user, release_done, r);
}

void
auth_ctl(int argc, char **argv, int json, struct evbuffer *out,
    auth_ctl_done done, void *arg)
{
	if (argc >= 2 && argc <= 3 && strcmp(argv[0], "show") == 0 &&
	    strcmp(argv[1], "limits") == 0) {
		ctl_show_limits(argc == 3 ? argv[2] : NULL, json, out, done,
		    arg);
		return;
	}
	if (argc == 2 && strcmp(argv[0], "unlock") == 0) {
		done(arg, ctl_unlock(argv[1], json, out));
		return;
	}
	if (argc == 1 && strcmp(argv[0], "metrics") == 0) {
		auth_metrics_print(out);
		abuse_metrics_print(out);
		done(arg, 0);
		return;
	}
	if (argc == 2 && strcmp(argv[0], "show") == 0 &&
	    strcmp(argv[1], "held-users") == 0) {
		abuse_held_print(out, json);
		done(arg, 0);
		return;
	}
	if (argc == 2 && strcmp(argv[0], "release-user") == 0) {
		ctl_release_user(argv[1], json, out, done, arg);
		return;
	}
	if (json)
		evbuffer_add_printf(out, "{\"error\":\"usage: show limits [USER]"
		    " | show held-users | unlock IP|USER | release-user "
		    "LOGIN\"}\n");
	else
		evbuffer_add_printf(out, "usage: submitctl show limits [USER] | "
		    "submitctl show held-users | submitctl unlock IP|USER | "
		    "submitctl release-user LOGIN\n");
	done(arg, 1);
}
