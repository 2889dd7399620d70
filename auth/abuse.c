/* abuse.c — what each login sends, watched; see abuse.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/abuse.h"
#include "auth/lockout.h"
#include "auth/state.h"
#include "auth/store.h"
#include "auth/surge.h"
#include "conf/conf.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/submitd.h"

#define ABUSE_BUCKETS	1024
/*
 * A held login in the state store: a lock record "held/LOGIN" (until_ms:
 * ten years on, lifted by release-user; failures: the alert that held it).
 */
#define HOLD_PREFIX	"held/"
#define HOLD_MS		((int64_t)10 * 366 * 86400 * 1000)
/* A login's history for alert user-surge: "surge/LOGIN" (auth/hist.h). */
#define SURGE_PREFIX	"surge/"

/* One window of one limit: its start, what it counted, alerted in it. */
struct awin {
	time_t		 start;
	uint64_t	 n;
	int		 alerted;
};

struct auser {
	struct auser	*next;
	char		 user[AUTH_USER_MAX + 1];
	struct awin	 msg, rcpt, refused;
	int		 held;
	int64_t		 surge_bucket;	/* user-surge alerted in it, 0: none */
	uint64_t	 messages, recipients, bytes;	/* since start */
	uint64_t	 nrefused;		/* recipients refused upstream */
};

static struct {
	const struct conf	*conf;
	abuse_hold_cb		 hold_cb;
	struct auser		*bucket[ABUSE_BUCKETS];
	size_t			 nusers, nheld;
	uint64_t		 alert_msg, alert_rcpt, alert_refused, holds;
	uint64_t		 alert_surge;
} A;

static unsigned
hash(const char *s)
{
	unsigned	 h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % ABUSE_BUCKETS;
}

static struct auser *
find(const char *user, int create)
{
	struct auser	**b = &A.bucket[hash(user)], *u;

	for (u = *b; u != NULL; u = u->next)
		if (strcmp(u->user, user) == 0)
			return u;
	if (!create || strlen(user) > AUTH_USER_MAX ||
	    (u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	memcpy(u->user, user, strlen(user) + 1);
	u->next = *b;
	*b = u;
	A.nusers++;
	return u;
}

void
abuse_init(const struct conf *conf, abuse_hold_cb cb)
{
	A.conf = conf;
	A.hold_cb = cb;
}

static void
hold_key(char key[STORE_KEY_MAX], const char *user)
{
	snprintf(key, STORE_KEY_MAX, HOLD_PREFIX "%s", user);
}

static void
hold_stored(void *arg, const struct state_answer *a)
{
	(void)arg;
	if (a->down)
		log_warnx("auth: event=error step=hold-store reason=\"the "
		    "state store did not keep the hold: a restart forgets "
		    "it\"");
}

static void
hold(struct auser *u, const char *kind)
{
	char	 key[STORE_KEY_MAX];

	if (u->held)
		return;
	u->held = 1;
	A.nheld++;
	A.holds++;
	log_warnx("auth: event=user-held user=%s reason=%s by=alert",
	    log_q(u->user), kind);
	/* kept in the store: a restart, another instance see it too */
	hold_key(key, u->user);
	state_lock_set(key, HOLD_MS, 1, hold_stored, NULL);
	if (A.hold_cb != NULL)
		A.hold_cb(u->user);
}

/* Memory follows what the store says of U (the store is the truth). */
static void
held_set(struct auser *u, int held, const char *by)
{
	if (u == NULL || u->held == held)
		return;
	u->held = held;
	if (held)
		A.nheld++;
	else
		A.nheld--;
	log_info("auth: event=%s user=%s by=%s", held ? "user-held" :
	    "user-released", log_q(u->user), by);
}

/* Any alert with hold, or a hold known: MAIL asks the store. */
static int
consult(void)
{
	const struct conf	*c = A.conf;

	return A.nheld != 0 || (c != NULL && (c->alert_user_messages_hold ||
	    c->alert_user_rcpts_hold || c->alert_user_refused_hold ||
	    (c->alert_user_surge != 0 && c->alert_user_surge_hold)));
}

struct hcheck {
	abuse_held_cb	 cb;
	void		*arg;
	int		 release;
	char		 user[AUTH_USER_MAX + 1];
};

static void
held_answer(void *arg, const struct state_answer *a)
{
	struct hcheck	*h = arg;
	struct auser	*u = find(h->user, !a->down && a->until_ms > 0);
	int		 held;
	char		 key[STORE_KEY_MAX];

	if (a->down)		/* the store cannot say: what we know */
		held = u != NULL && u->held;
	else {
		held = a->until_ms > 0;
		if (!h->release)
			held_set(u, held, "store");
	}
	if (h->release) {
		held = held || (u != NULL && u->held);
		hold_key(key, h->user);
		state_del(key, NULL, NULL);
		if (u != NULL && u->held) {
			u->held = 0;
			A.nheld--;
		}
		if (u != NULL) {
			/* a fresh start: the window that tripped it is over */
			memset(&u->msg, 0, sizeof(u->msg));
			memset(&u->rcpt, 0, sizeof(u->rcpt));
			memset(&u->refused, 0, sizeof(u->refused));
		}
		if (held)
			log_warnx("auth: event=user-released user=%s "
			    "by=control", log_q(h->user));
	}
	h->cb(h->arg, held);
	free(h);
}

static void
held_ask(const char *user, int release, abuse_held_cb cb, void *arg)
{
	struct hcheck	*h;
	char		 key[STORE_KEY_MAX];

	if (strlen(user) > AUTH_USER_MAX || (h = calloc(1, sizeof(*h))) ==
	    NULL) {
		cb(arg, abuse_held(user));
		return;
	}
	h->cb = cb;
	h->arg = arg;
	h->release = release;
	memcpy(h->user, user, strlen(user) + 1);
	hold_key(key, user);
	state_lock_get(key, held_answer, h);
}

void
abuse_held_check(const char *user, abuse_held_cb cb, void *arg)
{
	if (!consult()) {
		cb(arg, 0);
		return;
	}
	held_ask(user, 0, cb, arg);
}

void
abuse_release_user(const char *user, abuse_held_cb cb, void *arg)
{
	held_ask(user, 1, cb, arg);
}

static void
load_one(const char *key, const void *val, size_t len, void *arg)
{
	struct lockout_rec	 r;
	struct auser		*u;
	int64_t			 now = *(const int64_t *)arg;

	if (len != sizeof(r))
		return;
	memcpy(&r, val, sizeof(r));
	if (r.until_ms > now &&
	    (u = find(key + strlen(HOLD_PREFIX), 1)) != NULL)
		held_set(u, 1, "store");
}

void
abuse_load(void)
{
	int64_t	 now = store_now_ms();

	/* Redis: a hold shows once a MAIL of that login asked for it. */
	if (!state_shared())
		(void)store_each(HOLD_PREFIX, load_one, &now);
}

/* N more in W's window of WINDOW seconds: 1 the first time past LIMIT. */
static int
count(struct awin *w, uint64_t n, uint64_t limit, time_t window, time_t now)
{
	if (w->start == 0 || now - w->start >= window) {
		w->start = now;
		w->n = 0;
		w->alerted = 0;
	}
	w->n += n;
	if (w->n <= limit || w->alerted)
		return 0;
	w->alerted = 1;
	return 1;
}

/* One message of a login on its way to the store's history. */
struct surge_q {
	int64_t		 bucket_ms;
	char		 user[AUTH_USER_MAX + 1];
};

/*
 * The login's history, its message counted: one alert per login and
 * window when the rule says surge (auth/surge.h).
 */
static void
surge_answer(void *arg, const struct state_answer *a)
{
	struct surge_q		*q = arg;
	const struct conf	*c = A.conf;
	struct surge_rule	 rule;
	struct surge_result	 r;
	struct auser		*u;
	int64_t			 bucket;

	/* the store down (already an alert of its own), or a reload */
	if (a->down || a->hist == NULL || c == NULL ||
	    c->alert_user_surge == 0 || q->bucket_ms !=
	    (int64_t)c->alert_user_surge_window * 1000 ||
	    (u = find(q->user, 1)) == NULL)
		goto done;
	rule.factor = c->alert_user_surge;
	rule.min = c->alert_user_surge_min;
	bucket = a->now_ms / q->bucket_ms + 1;	/* never 0 */
	if (!surge_check(&rule, a->hist, a->nhist, &r) ||
	    u->surge_bucket == bucket)
		goto done;
	u->surge_bucket = bucket;
	A.alert_surge++;
	log_warnx("auth: event=alert kind=user-surge user=%s messages=%llu "
	    "window=%llds average=%llu.%02llu windows=%llu baseline=%llds "
	    "factor=%llu min=%llu hold=%s", log_q(q->user),
	    (unsigned long long)r.current,
	    (long long)c->alert_user_surge_window,
	    (unsigned long long)(r.average_x100 / 100),
	    (unsigned long long)(r.average_x100 % 100),
	    (unsigned long long)r.windows,
	    (long long)c->alert_user_surge_baseline,
	    (unsigned long long)c->alert_user_surge,
	    (unsigned long long)c->alert_user_surge_min,
	    c->alert_user_surge_hold ? "yes" : "no");
	if (c->alert_user_surge_hold)
		hold(u, "user-surge");
done:
	free(q);
}

/* USER's message counted in its history in the store, then judged. */
static void
surge_count(const char *user)
{
	const struct conf	*c = A.conf;
	struct surge_q		*q;
	char			 key[STORE_KEY_MAX];
	unsigned		 nbuckets;

	if (c->alert_user_surge_window <= 0)
		return;
	nbuckets = (unsigned)(c->alert_user_surge_baseline /
	    c->alert_user_surge_window) + 1;
	if (nbuckets < 2 || nbuckets > HIST_MAX ||
	    strlen(user) > AUTH_USER_MAX ||
	    (q = calloc(1, sizeof(*q))) == NULL) {
		log_warnx("auth: event=error step=user-surge user=%s "
		    "reason=\"not counted\"", log_q(user));
		return;
	}
	q->bucket_ms = (int64_t)c->alert_user_surge_window * 1000;
	memcpy(q->user, user, strlen(user) + 1);
	snprintf(key, sizeof(key), SURGE_PREFIX "%s", user);
	state_hist_add(key, q->bucket_ms, nbuckets, 1, surge_answer, q);
}

void
abuse_sent(const char *user, uint64_t nrcpt, uint64_t size, time_t now)
{
	const struct conf	*c = A.conf;
	struct auser		*u;

	if ((u = find(user, 1)) == NULL)
		return;
	u->messages++;
	u->recipients += nrcpt;
	u->bytes += size;
	if (c == NULL)
		return;
	if (c->alert_user_messages != 0 && count(&u->msg, 1,
	    c->alert_user_messages, c->alert_user_messages_window, now)) {
		A.alert_msg++;
		log_warnx("auth: event=alert kind=user-messages user=%s "
		    "messages=%llu window=%llds limit=%llu hold=%s",
		    log_q(user), (unsigned long long)u->msg.n,
		    (long long)c->alert_user_messages_window,
		    (unsigned long long)c->alert_user_messages,
		    c->alert_user_messages_hold ? "yes" : "no");
		if (c->alert_user_messages_hold)
			hold(u, "user-messages");
	}
	if (c->alert_user_rcpts != 0 && count(&u->rcpt, nrcpt,
	    c->alert_user_rcpts, c->alert_user_rcpts_window, now)) {
		A.alert_rcpt++;
		log_warnx("auth: event=alert kind=user-recipients user=%s "
		    "recipients=%llu window=%llds limit=%llu hold=%s",
		    log_q(user), (unsigned long long)u->rcpt.n,
		    (long long)c->alert_user_rcpts_window,
		    (unsigned long long)c->alert_user_rcpts,
		    c->alert_user_rcpts_hold ? "yes" : "no");
		if (c->alert_user_rcpts_hold)
			hold(u, "user-recipients");
	}
	if (c->alert_user_surge != 0)
		surge_count(user);
}

void
abuse_refused(const char *user, uint64_t n, time_t now)
{
	const struct conf	*c = A.conf;
	struct auser		*u;

	if ((u = find(user, 1)) == NULL)
		return;
	u->nrefused += n;
	if (c == NULL || c->alert_user_refused == 0 || !count(&u->refused, n,
	    c->alert_user_refused, c->alert_user_refused_window, now))
		return;
	A.alert_refused++;
	log_warnx("auth: event=alert kind=user-refused-recipients user=%s "
	    "refused=%llu window=%llds limit=%llu hold=%s", log_q(user),
	    (unsigned long long)u->refused.n,
	    (long long)c->alert_user_refused_window,
	    (unsigned long long)c->alert_user_refused,
	    c->alert_user_refused_hold ? "yes" : "no");
	if (c->alert_user_refused_hold)
		hold(u, "user-refused-recipients");
}

int
abuse_held(const char *user)
{
	struct auser	*u;

	return A.nheld != 0 && (u = find(user, 0)) != NULL && u->held;
}

/* The text format's label escapes (a login may hold '"' or '\'). */
static void
label_put(struct evbuffer *out, const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			evbuffer_add_printf(out, "\\%c", *s);
		else
			evbuffer_add(out, s, 1);
}

void
abuse_held_print(struct evbuffer *out, int json)
{
	struct auser	*u;
	size_t		 i, n = 0;

	if (json)
		evbuffer_add_printf(out, "{\"held\":[");
	for (i = 0; i < ABUSE_BUCKETS; i++)
		for (u = A.bucket[i]; u != NULL; u = u->next) {
			if (!u->held)
				continue;
			if (json) {
				evbuffer_add_printf(out, "%s\"", n ? "," : "");
				label_put(out, u->user);	/* JSON too */
				evbuffer_add_printf(out, "\"");
			} else
				evbuffer_add_printf(out, "%s\n",
				    log_qtext(u->user));
			n++;
		}
	if (json)
		evbuffer_add_printf(out, "]}\n");
	else if (n == 0)
		evbuffer_add_printf(out, "no login is held\n");
}

static int
by_messages(const void *a, const void *b)
{
	const struct auser *x = *(const struct auser *const *)a;
	const struct auser *y = *(const struct auser *const *)b;

	if (x->messages != y->messages)
		return x->messages > y->messages ? -1 : 1;
	return strcmp(x->user, y->user);
}

static void
top_print(struct evbuffer *out, struct auser **v, size_t n, const char *name,
    const char *help, int which)
{
	size_t	 i;

	metrics_family(out, name, "counter", help);
	for (i = 0; i < n; i++) {
		evbuffer_add_printf(out, "%s{user=\"", name);
		label_put(out, v[i]->user);
		evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)
		    (which == 0 ? v[i]->messages : which == 1 ?
		    v[i]->recipients : which == 2 ? v[i]->bytes :
		    v[i]->nrefused));
	}
}

void
abuse_metrics_print(struct evbuffer *out)
{
	struct auser	**v, *u;
	size_t		 i, n = 0, top = A.conf != NULL ?
			    A.conf->metrics_top_users : 0;

	metrics_family(out, "submitd_alert_user_messages_total", "counter",
	    "Alerts: a login sent more messages than alert user-messages "
	    "allows in its window (event=alert kind=user-messages).");
	metrics_sample(out, "submitd_alert_user_messages_total", NULL, NULL,
	    A.alert_msg);
	metrics_family(out, "submitd_alert_user_recipients_total", "counter",
	    "Alerts: a login sent to more recipients than alert "
	    "user-recipients allows in its window (event=alert "
	    "kind=user-recipients).");
	metrics_sample(out, "submitd_alert_user_recipients_total", NULL, NULL,
	    A.alert_rcpt);
	metrics_family(out, "submitd_alert_user_refused_recipients_total",
	    "counter", "Alerts: the upstream refused (5xx) more recipients "
	    "of a login's mail than alert user-refused-recipients allows in "
	    "its window (event=alert kind=user-refused-recipients).");
	metrics_sample(out, "submitd_alert_user_refused_recipients_total",
	    NULL, NULL, A.alert_refused);
	metrics_family(out, "submitd_alert_user_surge_total", "counter",
	    "Alerts: a login sent more messages in a window than alert "
	    "user-surge allows against its own average per window over the "
	    "baseline (event=alert kind=user-surge).");
	metrics_sample(out, "submitd_alert_user_surge_total", NULL, NULL,
	    A.alert_surge);
	metrics_family(out, "submitd_user_holds_total", "counter",
	    "Logins held automatically by an alert (event=user-held).");
	metrics_sample(out, "submitd_user_holds_total", NULL, NULL, A.holds);
	metrics_family(out, "submitd_users_held", "gauge",
	    "Logins held now (their MAIL gets 451 4.7.1) until submitctl "
	    "release-user.");
	metrics_sample(out, "submitd_users_held", NULL, NULL, A.nheld);
	if (top == 0 || A.nusers == 0 ||
	    (v = calloc(A.nusers, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < ABUSE_BUCKETS; i++)
		for (u = A.bucket[i]; u != NULL && n < A.nusers; u = u->next)
			v[n++] = u;
	qsort(v, n, sizeof(*v), by_messages);
	if (n > top)
		n = top;
	top_print(out, v, n, "submitd_user_messages_total", "Messages "
	    "accepted per login, for the logins that sent the most only "
	    "(metrics top-users).", 0);
	top_print(out, v, n, "submitd_user_recipients_total", "Recipients "
	    "of the messages accepted per login (the same logins).", 1);
	top_print(out, v, n, "submitd_user_accepted_bytes_total", "Octets "
	    "of the messages accepted per login (the same logins).", 2);
	top_print(out, v, n, "submitd_user_refused_recipients_total",
	    "Recipients of a login's mail refused (5xx) by the upstream "
	    "(the same logins).", 3);
	free(v);
}
