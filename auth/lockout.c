/*
 * lockout.c — failed-login counting and lockouts; see lockout.h.  Keys in
 * the store (auth/state.h): "f/ip/ADDR" and "f/user/LOGIN" count failures
 * (windows), "l/ip/ADDR" and "l/user/LOGIN" hold a lockout.  Login names
 * are folded to lower case so that case games do not buy fresh tries.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_metrics.h"
#include "auth/lockout.h"
#include "auth/policy_text.h"
#include "auth/state.h"
#include "auth/store.h"
#include "auth/window.h"
#include "conf/conf.h"
#include "lib/log.h"

static struct window_rate	 L;

void
lockout_init(const struct conf *conf)
{
	L.count = conf->ip_auth_failures.count;
	L.window_ms = (int64_t)conf->ip_auth_failures.window * 1000;
}

static void
fold(const char *user, char *buf, size_t size)
{
	size_t	 i;

	for (i = 0; user[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)user[i]);
	buf[i] = '\0';
}

/* A check on its way: the address first, then (USER set) the login. */
struct check {
	lockout_cb	 cb;
	void		*arg;
	char		 login[AUTH_USER_MAX + 1];
	int		 user_too;
};

static void
checked(void *arg, const struct state_answer *a)
{
	struct check	*c = arg;
	char		 key[STORE_KEY_MAX];

	if (!a->down && a->until_ms == 0 && c->user_too) {
		c->user_too = 0;
		snprintf(key, sizeof(key), "l/user/%s", c->login);
		state_lock_get(key, checked, c);
		return;
	}
	c->cb(c->arg, !a->down && a->until_ms != 0, a->down, a->now_ms,
	    a->until_ms);
	free(c);
}

static void
check(const struct sockaddr *peer, const char *user, lockout_cb cb, void *arg)
{
	struct check	*c;
	char		 ip[64], key[STORE_KEY_MAX];

	if (L.count == 0) {
		cb(arg, 0, 0, 0, 0);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("lockout");
	c->cb = cb;
	c->arg = arg;
	if (user != NULL) {
		fold(user, c->login, sizeof(c->login));
		c->user_too = 1;
	}
	snprintf(key, sizeof(key), "l/ip/%s", policy_addr(peer, ip, sizeof(ip)));
	state_lock_get(key, checked, c);
}

void
lockout_ip_check(const struct sockaddr *peer, lockout_cb cb, void *arg)
{
	check(peer, NULL, cb, arg);
}

void
lockout_check(const struct sockaddr *peer, const char *user, lockout_cb cb,
    void *arg)
{
	check(peer, user, cb, arg);
}

/*
 * One failed login counted under "f/ip/ADDR", then "f/user/LOGIN"; each
 * that reaches the limit starts a lockout, logged once for both.
 */
struct failure {
	char		 ip[64];
	char		 login[AUTH_USER_MAX + 1];
	int		 step;		/* 0: ip, 1: user */
	int		 skip_user;	/* a from= refusal: the address only */
	uint64_t	 n[2];
	int		 reached[2];
	int		 pending;	/* lock writes not yet answered */
	void		 (*done)(void *);
	void		*arg;
};

static void
locked_set(void *arg, const struct state_answer *a)
{
	struct failure	*f = arg;

	if (a->down)
		log_warnx("auth: event=lockout-lost ip=%s "
		    "reason=state-down user=%s", f->ip, log_q(f->login));
	if (--f->pending > 0)
		return;
	if (f->done != NULL)
		f->done(f->arg);
	free(f);
}

static void
lock(struct failure *f, const char *kind, const char *name, uint64_t failures)
{
	char	 key[STORE_KEY_MAX];

	snprintf(key, sizeof(key), "f/%s/%.300s", kind, name);
	state_del(key, NULL, NULL);	/* a new lockout starts from zero */
	snprintf(key, sizeof(key), "l/%s/%.300s", kind, name);
	state_lock_set(key, L.window_ms, failures > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)failures, locked_set, f);
}

static void
counted(void *arg, const struct state_answer *a)
{
	struct failure		*f = arg;
	struct state_answer	 none;
	char			 key[STORE_KEY_MAX], win[32];
	int			 by_ip, by_user;

	if (a->down)
		log_warnx("auth: event=failure-lost ip=%s "
		    "reason=state-down user=%s", f->ip, log_q(f->login));
	else {
		f->n[f->step] = a->used;
		f->reached[f->step] = a->used >= L.count;
	}
	if (f->step == 0 && !f->skip_user) {
		f->step = 1;
		snprintf(key, sizeof(key), "f/user/%s", f->login);
		state_window(key, &L, STATE_ADD, 1, counted, f);
		return;
	}
	by_ip = f->reached[0];
	by_user = f->reached[1];
	if (by_ip || by_user)
		auth_metrics_inc(AM_LOCKOUTS);
	if (by_ip || by_user)
		log_warnx("auth: event=lockout ip=%s failures=%llu "
		    "scope=%s window=%s user=%s", f->ip,
		    (unsigned long long)(by_ip ? f->n[0] : f->n[1]),
		    by_ip && by_user ? "ip,user" : by_ip ? "ip" : "user",
		    policy_window_text(L.window_ms, win, sizeof(win)),
		    log_q(f->login));
	/* One more than the writes, so that none ends it while sending. */
	f->pending = 1 + by_ip + by_user;
	if (by_ip)
		lock(f, "ip", f->ip, f->n[0]);
	if (by_user)
		lock(f, "user", f->login, f->n[1]);
	memset(&none, 0, sizeof(none));
	locked_set(f, &none);
}

static void	fail(const struct sockaddr *, const char *, int,
		    void (*)(void *), void *);

void
lockout_fail(const struct sockaddr *peer, const char *user,
    void (*done)(void *), void *arg)
{
	fail(peer, user, 0, done, arg);
}

void
lockout_fail_addr(const struct sockaddr *peer, const char *user,
    void (*done)(void *), void *arg)
{
	fail(peer, user, 1, done, arg);
}

static void
fail(const struct sockaddr *peer, const char *user, int skip_user,
    void (*done)(void *), void *arg)
{
	struct failure	*f;
	char		 key[STORE_KEY_MAX];

	if (L.count == 0) {
		if (done != NULL)
			done(arg);
		return;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("lockout");
	f->done = done;
	f->arg = arg;
	f->skip_user = skip_user;
	policy_addr(peer, f->ip, sizeof(f->ip));
	fold(user, f->login, sizeof(f->login));
	snprintf(key, sizeof(key), "f/ip/%s", f->ip);
	state_window(key, &L, STATE_ADD, 1, counted, f);
}

/* The local store's lock KEY: 1 when in force (LMDB only). */
static int
locked_now(const char *key)
{
	struct lockout_rec	 r;

	if (state_shared() || store_get(key, &r, sizeof(r)) != 0)
		return 0;
	return r.until_ms > store_now_ms();
}

int
lockout_user_locked(const char *user)
{
	char	 login[AUTH_USER_MAX + 1], key[STORE_KEY_MAX];

	if (L.count == 0)
		return 0;
	fold(user, login, sizeof(login));
	snprintf(key, sizeof(key), "l/user/%s", login);
	return locked_now(key);
}

int
lockout_unlock(const char *what)
{
	char	 login[AUTH_USER_MAX + 1], key[STORE_KEY_MAX];
	int	 was = 0;

	snprintf(key, sizeof(key), "l/ip/%.300s", what);
	was |= locked_now(key);
	state_del(key, NULL, NULL);
	snprintf(key, sizeof(key), "f/ip/%.300s", what);
	state_del(key, NULL, NULL);
	fold(what, login, sizeof(login));
	snprintf(key, sizeof(key), "l/user/%s", login);
	was |= locked_now(key);
	state_del(key, NULL, NULL);
	snprintf(key, sizeof(key), "f/user/%s", login);
	state_del(key, NULL, NULL);
	if (state_shared()) {
		log_info("auth: event=unlock what=%s", log_q(what));
		return -1;
	}
	if (was)
		log_info("auth: event=unlock what=%s", log_q(what));
	return was;
}
