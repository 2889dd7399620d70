/*
 * lockout.c — failed-login counting and lockouts; see lockout.h.  Keys in
 * the store (auth/state.h): "f/ip/NET", "f/user/LOGIN" and "f/ln/NET
 * LOGIN" count failures (windows), "l/ip/NET" and "l/user/LOGIN" hold a
 * lockout, "d/ip/NET" and "d/ln/NET LOGIN" a delay, "ok/ADDR LOGIN" and
 * "ok/ip/ADDR" remember a successful login (locks in the store's sense:
 * a time until which they hold).  NET is the address, or its IPv6
 * network (conf_net_text).  Login names are folded to lower case so that
 * case games do not buy fresh tries.
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
static int64_t			 delay_ms;	/* "limit auth-delay", 0: off */
static int64_t			 remember_ms;	/* "limit auth-remember" */
static unsigned			 v6prefix;	/* "limit ipv6-prefix" */

void
lockout_init(const struct conf *conf)
{
	L.count = conf->ip_auth_failures.count;
	L.window_ms = (int64_t)conf->ip_auth_failures.window * 1000;
	delay_ms = (int64_t)conf->auth_delay * 1000;
	remember_ms = (int64_t)conf->auth_remember * 1000;
	v6prefix = conf->ipv6_prefix;
}

/* "limit auth-failures 0": no counting, no lockout, no delay. */
static int
lockout_on(void)
{
	return L.count != 0;
}

static void
fold(const char *user, char *buf, size_t size)
{
	size_t	 i;

	for (i = 0; user[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)user[i]);
	buf[i] = '\0';
}

/* The delay after the K-th failure: D, 2D, 4D ..., at most the window. */
static int64_t
delay_after(uint64_t k)
{
	int64_t	 d = delay_ms, cap = L.window_ms > 0 ? L.window_ms :
		    delay_ms << 10;

	while (k-- > 1 && d < cap)
		d *= 2;
	return d < cap ? d : cap;
}

/*
 * A check on its way: the keys to read in turn.  "ok/..." keys first
 * (any in force: trusted, not locked), then the locks and delays (the
 * first in force: locked).
 */
#define CHECK_KEYS	6
struct check {
	lockout_cb	 cb;
	void		*arg;
	char		 keys[CHECK_KEYS][STORE_KEY_MAX];
	int		 nkeys;
	int		 ntrust;	/* the first NTRUST keys are "ok/" */
	int		 at;
};

static void
checked(void *arg, const struct state_answer *a)
{
	struct check	*c = arg;
	int		 in_force = !a->down && a->until_ms != 0;

	if (c->at < c->ntrust) {
		/* A remembered address: not locked (a store down: go on). */
		if (in_force) {
			c->cb(c->arg, 0, 0, a->now_ms, 0);
			free(c);
			return;
		}
	} else if (a->down || in_force) {
		c->cb(c->arg, in_force, a->down, a->now_ms, a->until_ms);
		free(c);
		return;
	}
	if (++c->at < c->nkeys) {
		state_lock_get(c->keys[c->at], checked, c);
		return;
	}
	c->cb(c->arg, 0, 0, a->now_ms, 0);
	free(c);
}

static struct check *
check_new(lockout_cb cb, void *arg)
{
	struct check	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("lockout");
	c->cb = cb;
	c->arg = arg;
	return c;
}

/* The key PREFIX A, or PREFIX A " " B (B not NULL), next to read. */
static void
check_key(struct check *c, const char *prefix, const char *a, const char *b)
{
	if (c->nkeys >= CHECK_KEYS)
		fatalx("lockout: too many keys");
	snprintf(c->keys[c->nkeys++], STORE_KEY_MAX, "%s%s%s%.300s", prefix,
	    a, b != NULL ? " " : "", b != NULL ? b : "");
}

/* The connect check: a hard lock on the network, unless ADDR logged in. */
struct ip_check {
	lockout_cb	 cb;
	void		*arg;
	int64_t		 until_ms;	/* the lock found */
	char		 ip[64];
};

static void
ip_checked(void *arg, const struct state_answer *a)
{
	struct ip_check	*c = arg;

	/* Remembered: let AUTH decide.  Store down: the lock holds. */
	c->cb(c->arg, a->down || a->until_ms == 0, 0, a->now_ms, c->until_ms);
	free(c);
}

static void
ip_lock_checked(void *arg, const struct state_answer *a)
{
	struct ip_check	*c = arg;
	char		 key[STORE_KEY_MAX];

	if (!a->down && a->until_ms != 0 && remember_ms > 0) {
		c->until_ms = a->until_ms;
		snprintf(key, sizeof(key), "ok/ip/%s", c->ip);
		state_lock_get(key, ip_checked, c);
		return;
	}
	c->cb(c->arg, !a->down && a->until_ms != 0, a->down, a->now_ms,
	    a->until_ms);
	free(c);
}

void
lockout_ip_check(const struct sockaddr *peer, lockout_cb cb, void *arg)
{
	struct ip_check	*c;
	char		 net[64], key[STORE_KEY_MAX];

	if (L.count == 0) {
		cb(arg, 0, 0, 0, 0);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("lockout");
	c->cb = cb;
	c->arg = arg;
	policy_addr(peer, c->ip, sizeof(c->ip));
	snprintf(key, sizeof(key), "l/ip/%s", conf_net_text(peer, v6prefix,
	    net, sizeof(net)));
	state_lock_get(key, ip_lock_checked, c);
}

void
lockout_check(const struct sockaddr *peer, const char *user, int trusted,
    lockout_cb cb, void *arg)
{
	struct check	*c;
	char		 ip[64], net[64], login[AUTH_USER_MAX + 1];

	if (!lockout_on() || trusted) {
		cb(arg, 0, 0, 0, 0);
		return;
	}
	c = check_new(cb, arg);
	fold(user, login, sizeof(login));
	policy_addr(peer, ip, sizeof(ip));
	conf_net_text(peer, v6prefix, net, sizeof(net));
	if (remember_ms > 0) {
		check_key(c, "ok/", ip, login);
		c->ntrust = 1;
	}
	if (L.count != 0) {
		check_key(c, "l/ip/", net, NULL);
		check_key(c, "l/user/", login, NULL);
	}
	if (delay_ms != 0) {
		check_key(c, "d/ip/", net, NULL);
		check_key(c, "d/ln/", net, login);
	}
	state_lock_get(c->keys[0], checked, c);
}

void
lockout_success(const struct sockaddr *peer, const char *user)
{
	char	 ip[64], net[64], login[AUTH_USER_MAX + 1], key[STORE_KEY_MAX];

	if (!lockout_on())
		return;
	fold(user, login, sizeof(login));
	policy_addr(peer, ip, sizeof(ip));
	if (remember_ms > 0) {
		snprintf(key, sizeof(key), "ok/%s %.300s", ip, login);
		state_lock_set(key, remember_ms, 0, NULL, NULL);
		snprintf(key, sizeof(key), "ok/ip/%s", ip);
		state_lock_set(key, remember_ms, 0, NULL, NULL);
	}
	if (delay_ms != 0) {
		conf_net_text(peer, v6prefix, net, sizeof(net));
		snprintf(key, sizeof(key), "f/ln/%s %.300s", net, login);
		state_del(key, NULL, NULL);
		snprintf(key, sizeof(key), "d/ln/%s %.300s", net, login);
		state_del(key, NULL, NULL);
	}
}

/*
 * One failed login counted under "f/ip/NET", then "f/user/LOGIN" and
 * "f/ln/NET LOGIN"; the network or the login that reaches the limit is
 * locked (logged once for both); below it, "limit auth-delay" holds the
 * network and the pair back ("d/ip/NET", "d/ln/NET LOGIN").
 */
enum { F_NET, F_USER, F_PAIR, F_STEPS };

struct failure {
	char		 ip[64];
	char		 net[64];
	char		 login[AUTH_USER_MAX + 1];
	int		 step;
	int		 skip_user;	/* a from= refusal: the address only */
	uint64_t	 n[F_STEPS];
	int		 reached[F_STEPS];
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
	f->pending++;
	state_lock_set(key, L.window_ms, failures > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)failures, locked_set, f);
}

/*
 * The delay after the N-th failure of the network (SCOPE "ip") or the
 * pair ("login"), under KEY; logged: event=delay ... delay=.
 */
static void
hold(struct failure *f, const char *scope, const char *key, uint64_t n)
{
	char	 win[32];
	int64_t	 d = delay_after(n);

	log_info("auth: event=delay ip=%s net=%s scope=%s failures=%llu "
	    "delay=%s user=%s", f->ip, f->net, scope, (unsigned long long)n,
	    policy_window_text(d, win, sizeof(win)), log_q(f->login));
	f->pending++;
	state_lock_set(key, d, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n,
	    locked_set, f);
}

static void	counted(void *, const struct state_answer *);

static void
count_step(struct failure *f)
{
	char	 key[STORE_KEY_MAX];

	switch (f->step) {
	case F_NET:
		snprintf(key, sizeof(key), "f/ip/%s", f->net);
		break;
	case F_USER:
		snprintf(key, sizeof(key), "f/user/%s", f->login);
		break;
	default:
		snprintf(key, sizeof(key), "f/ln/%s %.300s", f->net, f->login);
		break;
	}
	state_window(key, &L, STATE_ADD, 1, counted, f);
}

static void
counted(void *arg, const struct state_answer *a)
{
	struct failure		*f = arg;
	struct state_answer	 none;
	char			 key[STORE_KEY_MAX], win[32], net[80];
	int			 by_ip, by_user;

	if (a->down)
		log_warnx("auth: event=failure-lost ip=%s "
		    "reason=state-down user=%s", f->ip, log_q(f->login));
	else {
		f->n[f->step] = a->used;
		f->reached[f->step] = L.count != 0 && a->used >= L.count;
	}
	if (f->step == F_NET && !f->skip_user) {
		f->step = F_USER;
		count_step(f);
		return;
	}
	if (f->step == F_USER && delay_ms != 0) {
		f->step = F_PAIR;
		count_step(f);
		return;
	}
	by_ip = f->reached[F_NET];
	by_user = f->reached[F_USER];
	if (strcmp(f->ip, f->net) != 0)
		snprintf(net, sizeof(net), " net=%s", f->net);
	else
		net[0] = '\0';
	if (by_ip || by_user)
		auth_metrics_inc(AM_LOCKOUTS);
	if (by_ip || by_user)
		log_warnx("auth: event=lockout ip=%s%s failures=%llu "
		    "scope=%s window=%s user=%s", f->ip, net,
		    (unsigned long long)(by_ip ? f->n[F_NET] : f->n[F_USER]),
		    by_ip && by_user ? "ip,user" : by_ip ? "ip" : "user",
		    policy_window_text(L.window_ms, win, sizeof(win)),
		    log_q(f->login));
	/* One more than the writes, so that none ends it while sending. */
	f->pending = 1;
	if (by_ip)
		lock(f, "ip", f->net, f->n[F_NET]);
	if (by_user)
		lock(f, "user", f->login, f->n[F_USER]);
	if (delay_ms != 0 && !by_ip && f->n[F_NET] != 0) {
		snprintf(key, sizeof(key), "d/ip/%s", f->net);
		hold(f, "ip", key, f->n[F_NET]);
	}
	if (delay_ms != 0 && !by_ip && !f->skip_user && f->n[F_PAIR] != 0) {
		snprintf(key, sizeof(key), "d/ln/%s %.300s", f->net, f->login);
		hold(f, "login", key, f->n[F_PAIR]);
	}
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

	if (!lockout_on()) {
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
	conf_net_text(peer, v6prefix, f->net, sizeof(f->net));
	fold(user, f->login, sizeof(f->login));
	f->step = F_NET;
	count_step(f);
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

/* The pair keys of one network or one login (LMDB: a walk). */
struct pair_walk {
	const char	*net;		/* or NULL */
	const char	*login;		/* or NULL */
	char		 (*keys)[STORE_KEY_MAX];
	size_t		 n, max;
};

static void
pair_seen(const char *key, const void *val, size_t len, void *arg)
{
	struct pair_walk	*w = arg;
	const char		*p = key + 5, *sp;	/* "d/ln/", "f/ln/" */

	(void)val;
	(void)len;
	if ((sp = strchr(p, ' ')) == NULL || w->n == w->max)
		return;
	if (w->net != NULL && ((size_t)(sp - p) != strlen(w->net) ||
	    strncmp(p, w->net, (size_t)(sp - p)) != 0))
		return;
	if (w->login != NULL && strcmp(sp + 1, w->login) != 0)
		return;
	snprintf(w->keys[w->n++], STORE_KEY_MAX, "%s", key);
}

static void
pairs_forget(const char *net, const char *login)
{
	static char		 keys[256][STORE_KEY_MAX];
	struct pair_walk	 w;
	size_t			 i;

	if (state_shared())
		return;		/* Redis: they expire with their window */
	memset(&w, 0, sizeof(w));
	w.net = net;
	w.login = login;
	w.keys = keys;
	w.max = sizeof(keys) / sizeof(keys[0]);
	store_each("d/ln/", pair_seen, &w);
	store_each("f/ln/", pair_seen, &w);
	for (i = 0; i < w.n; i++)
		state_del(keys[i], NULL, NULL);
}

const char *
lockout_net_of(const char *what, char *buf, size_t size)
{
	if (conf_net_text_of(what, v6prefix, buf, size) == NULL)
		snprintf(buf, size, "%s", what);
	return buf;
}

int
lockout_unlock(const char *what)
{
	char	 login[AUTH_USER_MAX + 1], key[STORE_KEY_MAX], net[64];
	int	 was = 0;

	/* An address unlocks its network (an IPv6 /64), as it was locked. */
	lockout_net_of(what, net, sizeof(net));
	snprintf(key, sizeof(key), "l/ip/%s", net);
	was |= locked_now(key);
	state_del(key, NULL, NULL);
	snprintf(key, sizeof(key), "f/ip/%s", net);
	state_del(key, NULL, NULL);
	snprintf(key, sizeof(key), "d/ip/%s", net);
	state_del(key, NULL, NULL);
	pairs_forget(net, NULL);
	fold(what, login, sizeof(login));
	snprintf(key, sizeof(key), "l/user/%s", login);
	was |= locked_now(key);
	state_del(key, NULL, NULL);
	snprintf(key, sizeof(key), "f/user/%s", login);
	state_del(key, NULL, NULL);
	pairs_forget(NULL, login);
	if (state_shared()) {
		log_info("auth: event=unlock what=%s", log_q(what));
		return -1;
	}
	if (was)
		log_info("auth: event=unlock what=%s", log_q(what));
	return was;
}
