/*
 * policy.c — connect checks and send quotas; see policy.h.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/grant.h"
#include "auth/lockout.h"
#include "auth/policy.h"
#include "auth/policy_text.h"
#include "auth/state.h"
#include "auth/store.h"
#include "auth/users.h"
#include "conf/conf.h"
#include "auth/auth_metrics.h"
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

/* One question on its way through the store. */
struct ask {
	struct policy_result	 out;
	policy_cb		 cb;
	void			*arg;
	char			 ip[64];
	char			 net[64];	/* ip, or its IPv6 network */
	char			 user[AUTH_USER_MAX + 1];
	uint64_t		 size;
	struct window_rate	 rm, rr, rb;
	int			 step;
	uint64_t		 grant;		/* issue 12: reserving for it */
	uint64_t		 nrcpt;		/* commit: the recipients */
	int			 held;		/* the grant holds a message */
};

static struct ask *
ask_new(policy_cb cb, void *arg)
{
	struct ask	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	result_ok(&q->out);
	q->cb = cb;
	q->arg = arg;
	return q;
}

static void
ask_done(struct ask *q)
{
	q->cb(q->arg, &q->out);
	free(q);
}

/*
 * The store did not answer a question of KIND: 1 when the fail mode says
 * go on (open), else 0 with the refusal in OUT (closed).
 */
static int
state_down(struct ask *q, int fail_closed, const char *kind, int connect)
{
	if (!fail_closed)
		return 1;
	q->out.verdict = POLICY_TEMP;
	snprintf(q->out.reply, sizeof(q->out.reply), "%s 4.3.0 The %s "
	    "state is not available, try again later", connect ? "421" :
	    "451", kind);
	auth_metrics_inc(connect ? AM_CONN_STATE_DOWN : AM_QUOTA_STATE_DOWN);
	log_info("auth: event=%s-refused reason=state-down %s%s",
	    connect ? "connect" : "quota", connect ? "ip=" : "user=",
	    connect ? q->ip : log_q(q->user));
	return 0;
}

static void
connect_rated(void *arg, const struct state_answer *a)
{
	struct ask		*q = arg;
	struct window_rate	 r = rate_of(&P.conf->ip_connections);
	char			 when[64], win[32];

	if (a->down) {
		state_down(q, P.conf->state_fail_quotas, "rate", 1);
	} else if (!a->fits) {
		q->out.verdict = POLICY_TEMP;
		snprintf(q->out.reply, sizeof(q->out.reply),
		    "421 4.7.0 Connection rate from %s reached (%llu per %s), "
		    "%s", q->ip, (unsigned long long)r.count,
		    policy_window_text(r.window_ms, win, sizeof(win)),
		    policy_when(a->now_ms, a->wait_ms, when, sizeof(when)));
		log_info("auth: event=connect-refused ip=%s reason=rate", q->ip);
		auth_metrics_inc(AM_CONN_RATE);
	}
	if (q->out.verdict == POLICY_OK)
		auth_metrics_inc(AM_CONN_ACCEPTED);
	ask_done(q);
}

static void
connect_unlocked(void *arg, int locked, int down, int64_t now, int64_t until)
{
	struct ask		*q = arg;
	struct window_rate	 r = rate_of(&P.conf->ip_connections);
	char			 key[STORE_KEY_MAX], when[64];

	if (down && !state_down(q, P.conf->state_fail_lockouts, "lockout",
	    1)) {
		ask_done(q);
		return;
	}
	if (!down && locked) {
		q->out.verdict = POLICY_DENY;
		snprintf(q->out.reply, sizeof(q->out.reply),
		    "554 5.7.1 Too many failed logins from %s, %s", q->ip,
		    policy_when(now, until - now, when, sizeof(when)));
		log_info("auth: event=connect-refused ip=%s reason=lockout",
		    q->ip);
		auth_metrics_inc(AM_CONN_LOCKOUT);
		ask_done(q);
		return;
	}
	if (r.count == 0) {
		if (q->out.verdict == POLICY_OK)
			auth_metrics_inc(AM_CONN_ACCEPTED);
		ask_done(q);
		return;
	}
	snprintf(key, sizeof(key), "c/%s", q->net);
	state_window(key, &r, STATE_TAKE, 1, connect_rated, q);
}

void
policy_connect(const struct sockaddr *peer, policy_cb cb, void *arg)
{
	struct ask	*q;

	if ((q = ask_new(cb, arg)) == NULL)
		fatal("policy");
	policy_addr(peer, q->ip, sizeof(q->ip));
	conf_net_text(peer, P.conf->ipv6_prefix, q->net, sizeof(q->net));
	if (!allowed(peer)) {
		q->out.verdict = POLICY_DENY;
		snprintf(q->out.reply, sizeof(q->out.reply),
		    "554 5.7.1 Address %s is not allowed to connect", q->ip);
		log_info("auth: event=connect-refused ip=%s reason=allowlist",
		    q->ip);
		auth_metrics_inc(AM_CONN_ALLOWLIST);
		ask_done(q);
		return;
	}
	lockout_ip_check(peer, connect_unlocked, q);
}

/*
 * policy_mail's steps, one store answer each: the message quota, the byte
 * quota for one octet, then for SIZE, then the recipients used, then the
 * wait for one recipient past what is left.
 */
enum { M_MESSAGES, M_BYTES_ONE, M_BYTES_SIZE, M_RCPT_USED, M_RCPT_WAIT,
	M_RESERVE };

static void mail_step(void *, const struct state_answer *);
static void mail_finish(struct ask *);

static void
mail_next(struct ask *q, int step)
{
	char	 key[STORE_KEY_MAX];

	q->step = step;
	switch (step) {
	case M_MESSAGES:
		/* A grant that holds a message already needs no other. */
		if (q->rm.count != 0 && !q->held) {
			snprintf(key, sizeof(key), "m/%s", q->user);
			state_window(key, &q->rm, STATE_PEEK, 1, mail_step, q);
			return;
		}
		/* FALLTHROUGH */
	case M_BYTES_ONE:
		q->step = M_BYTES_ONE;
		if (q->rb.count != 0) {
			snprintf(key, sizeof(key), "b/%s", q->user);
			state_window(key, &q->rb, STATE_PEEK, 1, mail_step, q);
			return;
		}
		/* FALLTHROUGH */
	case M_RCPT_USED:
		q->step = M_RCPT_USED;
		if (q->rr.count != 0) {
			snprintf(key, sizeof(key), "r/%s", q->user);
			state_window(key, &q->rr, STATE_PEEK, 1, mail_step, q);
			return;
		}
		mail_finish(q);
		return;
	case M_BYTES_SIZE:
		snprintf(key, sizeof(key), "b/%s", q->user);
		state_window(key, &q->rb, STATE_PEEK, q->size, mail_step, q);
		return;
	case M_RCPT_WAIT:
		snprintf(key, sizeof(key), "r/%s", q->user);
		state_window(key, &q->rr, STATE_PEEK,
		    (uint64_t)q->out.rcpt_left + 1, mail_step, q);
		return;
	}
}

static void
mail_step(void *arg, const struct state_answer *a)
{
	struct ask		*q = arg;
	struct policy_result	*out = &q->out;
	char			 when[64], win[32], lim[32], left[32];
	uint64_t		 used;
	int64_t			 wait;

	if (a->down) {
		if (!state_down(q, P.conf->state_fail_quotas, "quota", 0) ||
		    q->step >= M_RCPT_USED) {
			ask_done(q);
			return;
		}
		mail_next(q, q->step == M_MESSAGES ? M_BYTES_ONE :
		    M_RCPT_USED);
		return;
	}
	switch (q->step) {
	case M_MESSAGES:
		if (!a->fits) {
			out->verdict = POLICY_TEMP;
			snprintf(out->reply, sizeof(out->reply),
			    "451 4.7.1 Message quota reached (%llu per %s), %s",
			    (unsigned long long)q->rm.count,
			    policy_window_text(q->rm.window_ms, win,
			    sizeof(win)), policy_when(a->now_ms, a->wait_ms,
			    when, sizeof(when)));
			log_info("auth: event=quota-refused "
			    "limit=messages user=%s", log_q(q->user));
			auth_metrics_inc(AM_QUOTA_MESSAGES);
			ask_done(q);
			return;
		}
		mail_next(q, M_BYTES_ONE);
		return;
	case M_BYTES_ONE:
		policy_window_text(q->rb.window_ms, win, sizeof(win));
		policy_size_text(q->rb.count, lim, sizeof(lim));
		if (!a->fits) {
			out->verdict = POLICY_TEMP;
			snprintf(out->reply, sizeof(out->reply),
			    "451 4.7.1 Byte quota reached (%s per %s), %s",
			    lim, win, policy_when(a->now_ms, a->wait_ms, when,
			    sizeof(when)));
			log_info("auth: event=quota-refused "
			    "limit=bytes user=%s", log_q(q->user));
			auth_metrics_inc(AM_QUOTA_BYTES);
			ask_done(q);
			return;
		}
		mail_next(q, q->size == 0 ? M_RCPT_USED : M_BYTES_SIZE);
		return;
	case M_BYTES_SIZE:
		if (a->fits) {
			mail_next(q, M_RCPT_USED);
			return;
		}
		policy_window_text(q->rb.window_ms, win, sizeof(win));
		policy_size_text(q->rb.count, lim, sizeof(lim));
		used = a->used;
		policy_size_text(used >= q->rb.count ? 0 : q->rb.count - used,
		    left, sizeof(left));
		out->verdict = POLICY_TEMP;
		snprintf(out->reply, sizeof(out->reply),
		    "452 4.7.1 Message size %llu exceeds the byte quota left "
		    "(%s of %s per %s), %s", (unsigned long long)q->size, left,
		    lim, win, policy_when(a->now_ms, a->wait_ms, when,
		    sizeof(when)));
		log_info("auth: event=quota-refused limit=bytes "
		    "size=%llu user=%s", (unsigned long long)q->size,
		    log_q(q->user));
		auth_metrics_inc(AM_QUOTA_BYTES);
		ask_done(q);
		return;
	case M_RCPT_USED:
		used = a->used;
		out->rcpt_left = used >= q->rr.count ? 0 :
		    q->rr.count - used > UINT32_MAX - 1 ? UINT32_MAX - 1 :
		    (uint32_t)(q->rr.count - used);
		mail_next(q, M_RCPT_WAIT);
		return;
	case M_RCPT_WAIT:
		/* When one more would fit: the wait for a single recipient. */
		wait = a->fits ? 1000 : a->wait_ms;
		snprintf(out->rcpt_reply, sizeof(out->rcpt_reply),
		    "452 4.7.1 Recipient quota reached (%llu per %s), %s",
		    (unsigned long long)q->rr.count,
		    policy_window_text(q->rr.window_ms, win, sizeof(win)),
		    policy_when(a->now_ms, wait, when, sizeof(when)));
		mail_finish(q);
		return;
	case M_RESERVE:	/* not reached: mail_reserved answers it */
		ask_done(q);
		return;
	}
}

void
policy_mail(const char *user, uint64_t size, policy_cb cb, void *arg)
{
	struct ask	*q;

	if ((q = ask_new(cb, arg)) == NULL)
		fatal("policy");
	snprintf(q->user, sizeof(q->user), "%s", user);
	q->size = size;
	policy_user_rates(user, &q->rm, &q->rr, &q->rb);
	mail_next(q, M_MESSAGES);
}

/*
 * Issue 12: the message of a MAIL that the checks let through is taken
 * from the quota at once (STATE_TAKE), held by the session's grant, so
 * that parallel sessions of one login see each other's messages; the
 * queue's commit keeps it, an abort or the session's end gives it back.
 */
static void charged(void *, const struct state_answer *);

static void
mail_reserved(void *arg, const struct state_answer *a)
{
	struct ask	*q = arg;
	struct grant	*g;
	char		 key[STORE_KEY_MAX], when[64], win[32];

	if (a->down) {
		state_down(q, P.conf->state_fail_quotas, "quota", 0);
	} else if (!a->fits) {
		q->out.verdict = POLICY_TEMP;
		snprintf(q->out.reply, sizeof(q->out.reply),
		    "451 4.7.1 Message quota reached (%llu per %s), %s",
		    (unsigned long long)q->rm.count,
		    policy_window_text(q->rm.window_ms, win, sizeof(win)),
		    policy_when(a->now_ms, a->wait_ms, when, sizeof(when)));
		log_info("auth: event=quota-refused limit=messages "
		    "reason=reserved user=%s", log_q(q->user));
	} else if ((g = grant_find(q->grant, store_now_ms())) != NULL)
		g->res_messages = 1;
	else {	/* the session ended meanwhile */
		snprintf(key, sizeof(key), "m/%s", q->user);
		state_window(key, &q->rm, STATE_GIVE, 1, charged, NULL);
	}
	ask_done(q);
}

static void
mail_finish(struct ask *q)
{
	char	 key[STORE_KEY_MAX];

	if (q->out.verdict != POLICY_OK || q->grant == 0 || q->held ||
	    q->rm.count == 0) {
		ask_done(q);
		return;
	}
	q->step = M_RESERVE;
	snprintf(key, sizeof(key), "m/%s", q->user);
	state_window(key, &q->rm, STATE_TAKE, 1, mail_reserved, q);
}

int
policy_mail_reserve(uint64_t grant, uint64_t size, policy_cb cb, void *arg)
{
	struct grant	*g = grant_find(grant, store_now_ms());
	struct ask	*q;

	if (g == NULL)
		return -1;
	if ((q = ask_new(cb, arg)) == NULL)
		fatal("policy");
	snprintf(q->user, sizeof(q->user), "%s", g->user);
	q->size = size;
	q->grant = grant;
	q->held = g->res_messages != 0;
	policy_user_rates(q->user, &q->rm, &q->rr, &q->rb);
	mail_next(q, M_MESSAGES);
	return 0;
}

/* What grant G holds goes back to the quotas. */
static void
grant_release(struct grant *g)
{
	struct window_rate	 rm, rr, rb;
	char			 key[STORE_KEY_MAX];

	policy_user_rates(g->user, &rm, &rr, &rb);
	if (rm.count != 0 && g->res_messages != 0) {
		snprintf(key, sizeof(key), "m/%s", g->user);
		state_window(key, &rm, STATE_GIVE, g->res_messages, charged,
		    NULL);
	}
	if (rr.count != 0 && g->res_rcpt != 0) {
		snprintf(key, sizeof(key), "r/%s", g->user);
		state_window(key, &rr, STATE_GIVE, g->res_rcpt, charged, NULL);
	}
	g->res_messages = g->res_rcpt = g->res_bytes = 0;
}

/* The commit's steps: the message (unless held), bytes left, recipients. */
enum { C_MESSAGE, C_BYTES, C_RCPT };

static void commit_step(void *, const struct state_answer *);

static void
commit_next(struct ask *q, int step)
{
	char	 key[STORE_KEY_MAX];

	q->step = step;
	switch (step) {
	case C_MESSAGE:
		if (q->rm.count != 0 && !q->held) {
			snprintf(key, sizeof(key), "m/%s", q->user);
			state_window(key, &q->rm, STATE_TAKE, 1, commit_step, q);
			return;
		}
		/* FALLTHROUGH */
	case C_BYTES:
		q->step = C_BYTES;
		if (q->rb.count != 0) {
			/* As at MAIL without SIZE=: refused once used up. */
			snprintf(key, sizeof(key), "b/%s", q->user);
			state_window(key, &q->rb, STATE_PEEK, 1, commit_step, q);
			return;
		}
		/* FALLTHROUGH */
	case C_RCPT:
		q->step = C_RCPT;
		if (q->rr.count != 0 && q->nrcpt != 0) {
			snprintf(key, sizeof(key), "r/%s", q->user);
			state_window(key, &q->rr, STATE_TAKE, q->nrcpt,
			    commit_step, q);
			return;
		}
		commit_step(q, NULL);
		return;
	}
}

static void
commit_step(void *arg, const struct state_answer *a)
{
	struct ask	*q = arg;
	struct grant	*g = grant_find(q->grant, store_now_ms());
	char		 when[64], win[32];

	if (g == NULL) {	/* the session ended: what it took goes back */
		q->out.verdict = POLICY_TEMP;
		snprintf(q->out.reply, sizeof(q->out.reply),
		    "451 4.7.0 Login no longer valid");
		if (a != NULL && !a->down && a->fits && q->step != C_BYTES) {
			struct grant tmp;

			memset(&tmp, 0, sizeof(tmp));
			tmp.user = q->user;
			tmp.res_messages = q->step == C_MESSAGE;
			tmp.res_rcpt = q->step == C_RCPT ? q->nrcpt : 0;
			grant_release(&tmp);
		}
		ask_done(q);
		return;
	}
	if (a != NULL && a->down) {
		if (!state_down(q, P.conf->state_fail_quotas, "quota", 0)) {
			grant_release(g);
			ask_done(q);
			return;
		}
	} else if (a != NULL && !a->fits) {
		const struct window_rate *r = q->step == C_MESSAGE ? &q->rm :
		    q->step == C_BYTES ? &q->rb : &q->rr;
		const char *what = q->step == C_MESSAGE ? "Message" :
		    q->step == C_BYTES ? "Byte" : "Recipient";

		q->out.verdict = POLICY_TEMP;
		snprintf(q->out.reply, sizeof(q->out.reply),
		    "%s 4.7.1 %s quota reached (%llu per %s), %s",
		    q->step == C_RCPT ? "452" : "451", what,
		    (unsigned long long)r->count,
		    policy_window_text(r->window_ms, win, sizeof(win)),
		    policy_when(a->now_ms, a->wait_ms, when, sizeof(when)));
		log_info("auth: event=quota-refused limit=%s step=commit "
		    "user=%s", q->step == C_MESSAGE ? "messages" :
		    q->step == C_BYTES ? "bytes" : "recipients", log_q(q->user));
		grant_release(g);
		ask_done(q);
		return;
	} else if (a != NULL && q->step == C_MESSAGE)
		g->res_messages = 1;
	else if (a != NULL && q->step == C_RCPT)
		g->res_rcpt = q->nrcpt;
	if (q->step != C_RCPT) {
		commit_next(q, q->step + 1);
		return;
	}
	g->res_bytes = q->size;
	ask_done(q);
}

int
policy_commit_reserve(uint64_t grant, uint64_t nrcpt, uint64_t size,
    policy_cb cb, void *arg)
{
	struct grant	*g = grant_find(grant, store_now_ms());
	struct ask	*q;

	if (g == NULL)
		return -1;
	if ((q = ask_new(cb, arg)) == NULL)
		fatal("policy");
	snprintf(q->user, sizeof(q->user), "%s", g->user);
	q->size = size;
	q->nrcpt = nrcpt;
	q->grant = grant;
	/* Recipients of an earlier try that never settled go back first. */
	if (g->res_rcpt != 0) {
		struct window_rate	 rm, rr, rb;
		char			 key[STORE_KEY_MAX];

		policy_user_rates(g->user, &rm, &rr, &rb);
		snprintf(key, sizeof(key), "r/%s", g->user);
		if (rr.count != 0)
			state_window(key, &rr, STATE_GIVE, g->res_rcpt, charged,
			    NULL);
		g->res_rcpt = 0;
	}
	q->held = g->res_messages != 0;
	policy_user_rates(q->user, &q->rm, &q->rr, &q->rb);
	commit_next(q, C_MESSAGE);
	return 0;
}

void
policy_commit_settle(uint64_t grant, int charge)
{
	struct grant		*g = grant_find(grant, store_now_ms());
	struct window_rate	 rm, rr, rb;
	char			 key[STORE_KEY_MAX];

	if (g == NULL)
		return;
	if (!charge) {
		grant_release(g);
		return;
	}
	/* Message and recipients were taken; the octets are counted now. */
	policy_user_rates(g->user, &rm, &rr, &rb);
	if (rb.count != 0 && g->res_bytes != 0) {
		snprintf(key, sizeof(key), "b/%s", g->user);
		state_window(key, &rb, STATE_ADD, g->res_bytes, charged, NULL);
	}
	g->res_messages = g->res_rcpt = g->res_bytes = 0;
}

void
policy_grant_end(uint64_t grant)
{
	struct grant	*g = grant_find(grant, store_now_ms());

	if (g == NULL)
		return;
	grant_release(g);
	grant_end(grant);
}

static void
charged(void *arg, const struct state_answer *a)
{
	(void)arg;
	if (a->down)
		log_warnx("auth: event=charge-lost reason=state-down");
}

void
policy_charge(const char *user, uint64_t nrcpt, uint64_t size)
{
	struct window_rate	 rm, rr, rb;
	char			 key[STORE_KEY_MAX];

	policy_user_rates(user, &rm, &rr, &rb);
	if (rm.count != 0) {
		snprintf(key, sizeof(key), "m/%s", user);
		state_window(key, &rm, STATE_ADD, 1, charged, NULL);
	}
	if (rr.count != 0 && nrcpt > 0) {
		snprintf(key, sizeof(key), "r/%s", user);
		state_window(key, &rr, STATE_ADD, nrcpt, charged, NULL);
	}
	if (rb.count != 0 && size > 0) {
		snprintf(key, sizeof(key), "b/%s", user);
		state_window(key, &rb, STATE_ADD, size, charged, NULL);
	}
}
