/*
 * lockout.c — failed-login counting and lockouts; see lockout.h.  Keys in
 * the store: "f/ip/ADDR" and "f/user/LOGIN" count failures (windows),
 * "l/ip/ADDR" and "l/user/LOGIN" hold a lockout (struct lockout_rec).
 * Login names are folded to lower case so that case games do not buy
 * fresh tries.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth/lockout.h"
#include "auth/policy_text.h"
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

/* Is the lock KEY in force at NOW?  *UNTIL set when it is. */
static int
locked(const char *key, int64_t now, int64_t *until)
{
	struct lockout_rec	 r;

	if (store_get(key, &r, sizeof(r)) != 0 || r.until_ms <= now)
		return 0;
	if (until != NULL)
		*until = r.until_ms;
	return 1;
}

int
lockout_ip_locked(const struct sockaddr *peer, int64_t *until_ms)
{
	char	 ip[64], key[STORE_KEY_MAX];

	if (L.count == 0)
		return 0;
	snprintf(key, sizeof(key), "l/ip/%s", policy_addr(peer, ip, sizeof(ip)));
	return locked(key, store_now_ms(), until_ms);
}

int
lockout_locked(const struct sockaddr *peer, const char *user)
{
	char	 login[AUTH_USER_MAX + 1], key[STORE_KEY_MAX];

	if (L.count == 0)
		return 0;
	if (lockout_ip_locked(peer, NULL))
		return 1;
	fold(user, login, sizeof(login));
	snprintf(key, sizeof(key), "l/user/%s", login);
	return locked(key, store_now_ms(), NULL);
}

/* Count one failure under "f/WHAT"; 1 when that reaches the limit. */
static int
count_failure(const char *what, int64_t now, uint64_t *failures)
{
	struct window	 w;
	char		 key[STORE_KEY_MAX];

	snprintf(key, sizeof(key), "f/%.300s", what);
	if (store_get(key, &w, sizeof(w)) != 0)
		memset(&w, 0, sizeof(w));
	window_charge(&w, &L, 1, now);
	*failures = window_used(&w, &L, now);
	if (*failures >= L.count) {
		store_del(key);		/* a new lockout starts from zero */
		return 1;
	}
	store_put(key, &w, sizeof(w));
	return 0;
}

static void
lock(const char *what, int64_t now, uint64_t failures)
{
	struct lockout_rec	 r;
	char			 key[STORE_KEY_MAX];

	memset(&r, 0, sizeof(r));
	r.until_ms = now + L.window_ms;
	r.failures = failures > UINT32_MAX ? UINT32_MAX : (uint32_t)failures;
	snprintf(key, sizeof(key), "l/%.300s", what);
	store_put(key, &r, sizeof(r));
}

void
lockout_fail(const struct sockaddr *peer, const char *user)
{
	char		 ip[64], login[AUTH_USER_MAX + 1], what[300];
	char		 win[32];
	int64_t		 now = store_now_ms();
	uint64_t	 nip, nuser;
	int		 by_ip, by_user;

	if (L.count == 0)
		return;
	policy_addr(peer, ip, sizeof(ip));
	fold(user, login, sizeof(login));
	snprintf(what, sizeof(what), "ip/%s", ip);
	if ((by_ip = count_failure(what, now, &nip)))
		lock(what, now, nip);
	snprintf(what, sizeof(what), "user/%s", login);
	if ((by_user = count_failure(what, now, &nuser)))
		lock(what, now, nuser);
	if (by_ip || by_user)
		log_warnx("auth: event=lockout ip=%s user=%s failures=%llu "
		    "scope=%s window=%s", ip, login,
		    (unsigned long long)(by_ip ? nip : nuser),
		    by_ip && by_user ? "ip,user" : by_ip ? "ip" : "user",
		    policy_window_text(L.window_ms, win, sizeof(win)));
}

int
lockout_unlock(const char *what)
{
	char	 login[AUTH_USER_MAX + 1], key[STORE_KEY_MAX];
	int	 was = 0;
	int64_t	 now = store_now_ms();

	snprintf(key, sizeof(key), "l/ip/%.300s", what);
	was |= locked(key, now, NULL);
	store_del(key);
	snprintf(key, sizeof(key), "f/ip/%.300s", what);
	store_del(key);
	fold(what, login, sizeof(login));
	snprintf(key, sizeof(key), "l/user/%s", login);
	was |= locked(key, now, NULL);
	store_del(key);
	snprintf(key, sizeof(key), "f/user/%s", login);
	store_del(key);
	if (was)
		log_info("auth: event=unlock what=%s", what);
	return was;
}
