/*
 * policy.c — connect checks and send quotas; see policy.h.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "auth/lockout.h"
#include "auth/policy.h"
#include "auth/policy_text.h"
#include "auth/store.h"
#include "auth/users.h"
#include "conf/conf.h"
#include "lib/log.h"

static struct {
	const struct conf	*conf;
	const struct users	*users;
} P;

void
policy_init(const struct conf *conf, const struct users *users)
{
	P.conf = conf;
	P.users = users;
}

const struct users *
policy_users(void)
{
	return P.users;
}

static struct window_rate
rate_of(const struct conf_rate *c)
{
	struct window_rate	 r;

	r.count = c->count;
	r.window_ms = (int64_t)c->window * 1000;
	return r;
}

void
policy_user_rates(const char *user, struct window_rate *messages,
    struct window_rate *recipients, struct window_rate *bytes)
{
	const struct user_entry	*u = P.users ? users_find(P.users, user) : NULL;

	*messages = rate_of(u && u->messages.count ? &u->messages :
	    &P.conf->user_messages);
	*recipients = rate_of(u && u->recipients.count ? &u->recipients :
	    &P.conf->user_recipients);
	*bytes = rate_of(u && u->bytes.count ? &u->bytes :
	    &P.conf->user_bytes);
}

static void
result_ok(struct policy_result *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = POLICY_OK;
	out->rcpt_left = POLICY_RCPT_UNLIMITED;
}

/* The stored window KEY, or an empty one. */
static void
window_load(const char *key, struct window *w)
{
	if (store_get(key, w, sizeof(*w)) != 0)
		memset(w, 0, sizeof(*w));
}

static int
allowed(const struct sockaddr *peer)
{
	size_t	 i;

	if (P.conf->nallow == 0)
		return 1;
	for (i = 0; i < P.conf->nallow; i++)
		if (conf_cidr_match(&P.conf->allow[i], peer))
			return 1;
	return 0;
}

void
policy_connect(const struct sockaddr *peer, struct policy_result *out)
{
	struct window_rate	 r = rate_of(&P.conf->ip_connections);
	struct window		 w;
	char			 ip[64], key[STORE_KEY_MAX], when[64], win[32];
	int64_t			 now = store_now_ms(), wait, until;

	result_ok(out);
	policy_addr(peer, ip, sizeof(ip));
	if (!allowed(peer)) {
		out->verdict = POLICY_DENY;
		snprintf(out->reply, sizeof(out->reply),
		    "554 5.7.1 Address %s is not allowed to connect", ip);
		log_info("auth: event=connect-refused ip=%s reason=allowlist", ip);
		return;
	}
	if (lockout_ip_locked(peer, &until)) {
		out->verdict = POLICY_DENY;
		snprintf(out->reply, sizeof(out->reply),
		    "554 5.7.1 Too many failed logins from %s, %s", ip,
		    policy_when(now, until - now, when, sizeof(when)));
		log_info("auth: event=connect-refused ip=%s reason=lockout", ip);
		return;
	}
	if (r.count == 0)
		return;
	snprintf(key, sizeof(key), "c/%s", ip);
	window_load(key, &w);
	if (!window_check(&w, &r, 1, now, &wait)) {
		out->verdict = POLICY_TEMP;
		snprintf(out->reply, sizeof(out->reply),
		    "421 4.7.0 Connection rate from %s reached (%llu per %s), "
		    "%s", ip, (unsigned long long)r.count,
		    policy_window_text(r.window_ms, win, sizeof(win)),
		    policy_when(now, wait, when, sizeof(when)));
		log_info("auth: event=connect-refused ip=%s reason=rate", ip);
		return;
	}
	window_charge(&w, &r, 1, now);
	store_put(key, &w, sizeof(w));
}

/*
 * The byte quota RB of USER for a message of SIZE octets (0: unknown);
 * 1 when it may go on, else 0 with OUT filled.
 */
static int
bytes_ok(const char *user, const struct window_rate *rb, uint64_t size,
    int64_t now, struct policy_result *out)
{
	struct window	 w;
	char		 key[STORE_KEY_MAX], when[64], win[32], lim[32];
	char		 left[32];
	int64_t		 wait;
	uint64_t	 used;

	snprintf(key, sizeof(key), "b/%s", user);
	window_load(key, &w);
	policy_window_text(rb->window_ms, win, sizeof(win));
	policy_size_text(rb->count, lim, sizeof(lim));
	if (!window_check(&w, rb, 1, now, &wait)) {
		out->verdict = POLICY_TEMP;
		snprintf(out->reply, sizeof(out->reply),
		    "451 4.7.1 Byte quota reached (%s per %s), %s", lim, win,
		    policy_when(now, wait, when, sizeof(when)));
		log_info("auth: event=quota-refused user=%s limit=bytes", user);
		return 0;
	}
	if (size == 0 || window_check(&w, rb, size, now, &wait))
		return 1;
	used = window_used(&w, rb, now);
	policy_size_text(used >= rb->count ? 0 : rb->count - used, left,
	    sizeof(left));
	out->verdict = POLICY_TEMP;
	snprintf(out->reply, sizeof(out->reply),
	    "452 4.7.1 Message size %llu exceeds the byte quota left (%s of "
	    "%s per %s), %s", (unsigned long long)size, left, lim, win,
	    policy_when(now, wait, when, sizeof(when)));
	log_info("auth: event=quota-refused user=%s limit=bytes size=%llu",
	    user, (unsigned long long)size);
	return 0;
}

void
policy_mail(const char *user, uint64_t size, struct policy_result *out)
{
	struct window_rate	 rm, rr, rb;
	struct window		 w;
	char			 key[STORE_KEY_MAX], when[64], win[32];
	int64_t			 now = store_now_ms(), wait;
	uint64_t		 used;

	result_ok(out);
	policy_user_rates(user, &rm, &rr, &rb);
	if (rm.count != 0) {
		snprintf(key, sizeof(key), "m/%s", user);
		window_load(key, &w);
		if (!window_check(&w, &rm, 1, now, &wait)) {
			out->verdict = POLICY_TEMP;
			snprintf(out->reply, sizeof(out->reply),
			    "451 4.7.1 Message quota reached (%llu per %s), %s",
			    (unsigned long long)rm.count,
			    policy_window_text(rm.window_ms, win, sizeof(win)),
			    policy_when(now, wait, when, sizeof(when)));
			log_info("auth: event=quota-refused user=%s "
			    "limit=messages", user);
			return;
		}
	}
	if (rb.count != 0 && !bytes_ok(user, &rb, size, now, out))
		return;
	if (rr.count == 0)
		return;
	snprintf(key, sizeof(key), "r/%s", user);
	window_load(key, &w);
	used = window_used(&w, &rr, now);
	out->rcpt_left = used >= rr.count ? 0 : rr.count - used > UINT32_MAX - 1 ?
	    UINT32_MAX - 1 : (uint32_t)(rr.count - used);
	/* When one more would fit: the wait for a single recipient. */
	if (window_check(&w, &rr, (uint64_t)out->rcpt_left + 1, now, &wait))
		wait = 1000;
	snprintf(out->rcpt_reply, sizeof(out->rcpt_reply),
	    "452 4.7.1 Recipient quota reached (%llu per %s), %s",
	    (unsigned long long)rr.count,
	    policy_window_text(rr.window_ms, win, sizeof(win)),
	    policy_when(now, wait, when, sizeof(when)));
}

void
policy_charge(const char *user, uint64_t nrcpt, uint64_t size)
{
	struct window_rate	 rm, rr, rb;
	struct window		 w;
	char			 key[STORE_KEY_MAX];
	int64_t			 now = store_now_ms();

	policy_user_rates(user, &rm, &rr, &rb);
	if (rm.count != 0) {
		snprintf(key, sizeof(key), "m/%s", user);
		window_load(key, &w);
		window_charge(&w, &rm, 1, now);
		store_put(key, &w, sizeof(w));
	}
	if (rr.count != 0 && nrcpt > 0) {
		snprintf(key, sizeof(key), "r/%s", user);
		window_load(key, &w);
		window_charge(&w, &rr, nrcpt, now);
		store_put(key, &w, sizeof(w));
	}
	if (rb.count != 0 && size > 0) {
		snprintf(key, sizeof(key), "b/%s", user);
		window_load(key, &w);
		window_charge(&w, &rb, size, now);
		store_put(key, &w, sizeof(w));
	}
}
