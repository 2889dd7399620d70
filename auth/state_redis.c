/*
 * state_redis.c — auth/state.h over Redis; see state_redis.h.
 *
 * One asynchronous connection (hiredis on the role's libevent loop, or,
 * for rediss://, auth/state_redis_tls.c: hiredis's protocol code over
 * libevent's OpenSSL bufferevent): no call waits for Redis.  Each window operation is one Lua script run
 * (EVALSHA, loaded at connect), atomic in Redis, so two instances that
 * take the last slot at the same moment cannot both get it.  A window is
 * stored as its "theoretical arrival time" (GCRA, the same leaky bucket as
 * auth/window.h: the bucket is empty at that time), a lock as "UNTIL
 * FAILURES"; every key expires with its window (PXAT) and times come from
 * Redis's clock (TIME), so instances with skewed clocks agree.  Keys are
 * "submitd:" followed by the auth/ key.
 *
 * Redis unreachable, refusing our login or not answering within
 * REDIS_DEADLINE_MS: every pending and new operation is answered DOWN (the
 * caller's fail mode applies), one "event=alert kind=state-down" line is
 * logged, and a reconnect is tried every second; "event=state-up" when
 * Redis answers again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <sodium.h>

#include "auth/state_redis.h"
#include "auth/state_redis_tls.h"
#include "auth/store.h"
#include "conf/conf.h"
#include "lib/log.h"
#include "lib/privsep.h"

#define REDIS_PREFIX		"submitd:"
#define REDIS_DEADLINE_MS	2000	/* an answer later than this: down */
#define REDIS_PASSWORD_MAX	512

/*
 * KEYS[1]: the key.  ARGV[1]: "w" (window), "g" (lock get), "s" (lock set).
 * w: ARGV[2] op (0 peek, 1 take, 2 add, 3 give), ARGV[3] n, ARGV[4] count,
 *    ARGV[5] window ms; returns { fits, wait ms (-1: never), used, now }.
 * g: returns { until ms (0: none), failures, now }.
 * s: ARGV[2] lock ms, ARGV[3] failures; returns { until, failures, now }.
 * l: for each KEYS[i], ARGV[2i] count and ARGV[2i+1] window ms: a log of
 *    start times (a sorted set) per key; one start taken in every log when
 *    each has fewer than its count in its last window, else none; returns
 *    { taken, wait ms, used (first log), now }.

 * h: a history (auth/hist.h): ARGV[2] bucket ms, ARGV[3] buckets kept,
 *    ARGV[4] n; a hash of bucket index -> count ("w": the bucket ms, "n":
 *    the newest index), N counted in the current bucket (the newest, when
 *    Redis's clock went back), buckets too old dropped, the key expiring
 *    with the newest; returns { now, current count, each earlier one }.
 */
static const char script[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local k = KEYS[1]\n"
"if ARGV[1] == 'g' then\n"
"  local v = redis.call('GET', k)\n"
"  if not v then return {0, 0, now} end\n"
"  local u, f = string.match(v, '^(%d+) (%d+)$')\n"
"  u = tonumber(u) or 0\n"
"  if u <= now then return {0, 0, now} end\n"
"  return {u, tonumber(f) or 0, now}\n"
"end\n"
"if ARGV[1] == 's' then\n"
"  local u = now + tonumber(ARGV[2])\n"
"  redis.call('SET', k, string.format('%d %d', u, tonumber(ARGV[3])),\n"
"    'PXAT', u)\n"
"  return {u, tonumber(ARGV[3]), now}\n"
"end\n"
"if ARGV[1] == 'l' then\n"
"  local w, used = 0, 0\n"
"  for i = 1, #KEYS do\n"
"    local count, win = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])\n"
"    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - win)\n"
"    local n = redis.call('ZCARD', KEYS[i])\n"
"    if i == 1 then used = n end\n"
"    if n >= count then\n"
"      local o = redis.call('ZRANGE', KEYS[i], n - count, n - count,\n"
"        'WITHSCORES')\n"
"      local x = tonumber(o[2]) + win - now\n"
"      if x < 1 then x = 1 end\n"
"      if x > w then w = x end\n"
"    end\n"
"  end\n"
"  if w > 0 then return {0, w, used, now} end\n"
"  for i = 1, #KEYS do\n"
"    local n = redis.call('ZCARD', KEYS[i])\n"
"    redis.call('ZADD', KEYS[i], now, now .. ':' .. n)\n"
"    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i + 1]))\n"
"  end\n"
"  return {1, 0, used + 1, now}\n"
"end\n"
"if ARGV[1] == 'h' then\n"
"  local w, nb, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
"  if redis.call('HGET', k, 'w') ~= ARGV[2] then redis.call('DEL', k) end\n"
"  local cur = math.floor(now / w)\n"
"  local newest = tonumber(redis.call('HGET', k, 'n') or '') or 0\n"
"  if newest > cur then cur = newest end\n"
"  if n > 0 then\n"
"    redis.call('HSET', k, 'w', ARGV[2], 'n', string.format('%d', cur))\n"
"    redis.call('HINCRBY', k, string.format('%d', cur), n)\n"
"    for _, f in ipairs(redis.call('HKEYS', k)) do\n"
"      local i = tonumber(f)\n"
"      if i and f ~= 'w' and f ~= 'n' and i <= cur - nb then\n"
"        redis.call('HDEL', k, f)\n"
"      end\n"
"    end\n"
"    redis.call('PEXPIREAT', k, (cur + nb) * w)\n"
"  end\n"
"  local r = {now}\n"
"  for i = 0, nb - 1 do\n"
"    r[i + 2] = tonumber(redis.call('HGET', k,\n"
"      string.format('%d', cur - i)) or '0') or 0\n"
"  end\n"
"  return r\n"
"end\n"
"local op, n = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
"local count, win = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
"local tat = tonumber(redis.call('GET', k) or '0') or 0\n"
"if tat < now then tat = now end\n"
"local inc = n * win / count\n"
"local fits, wait = 1, 0\n"
"if (tat - now) + inc > win + 1e-6 then\n"
"  fits = 0\n"
"  if n > count then wait = -1\n"
"  else wait = math.ceil((tat - now) + inc - win - 1e-6) end\n"
"end\n"
"if (op == 1 and fits == 1) or op == 2 then\n"
"  tat = tat + inc\n"
"  if tat > now + 2 * win then tat = now + 2 * win end\n"
"elseif op == 3 then\n"
"  tat = tat - inc\n"
"  if tat < now then tat = now end\n"
"end\n"
"if op ~= 0 then\n"
"  if tat > now then\n"
"    redis.call('SET', k, string.format('%.17g', tat), 'PXAT',\n"
"      math.ceil(tat) + 1)\n"
"  else redis.call('DEL', k) end\n"
"end\n"
"local used = math.ceil((tat - now) * count / win - 1e-6)\n"
"if used < 0 then used = 0 end\n"
"return {fits, wait, used, now}\n";

enum { R_DOWN, R_CONNECTING, R_UP };

static struct {
	const struct conf_redis	*conf;
	struct event_base	*base;
	redisAsyncContext	*ac;
	struct rtls		*t;		/* rediss://: instead of ac */
	int			 state;
	int			 alerted;	/* state-down logged, not yet up */
	char			 sha[41];
	char			 password[REDIS_PASSWORD_MAX + 1];
	int			 has_password;
	int			 chrooted;	/* into the socket's directory */
	struct event		*ev_tick;
	uint64_t		 sent, answered;	/* operations */
	uint64_t		 answered_seen;	/* at the last tick */
	int			 stalled_ticks;
	int64_t			 down_since;
} R;

/* One operation on its way. */
struct op {
	state_cb		 cb;
	void			*arg;
	char			 kind;		/* 'w', 'g', 's', 'd', 'l', 'h' */
	unsigned		 nhist;		/* 'h': the buckets asked for */
	int			 evalsha;	/* 1: may retry as EVAL */
	char			 key[STORE_KEY_MAX + 1];
	char			 key2[STORE_KEY_MAX + 1];	/* 'l': or "" */
	char			 a[4][24];	/* ARGV[2..] */
	int			 na;
};

static void	redis_connect(void);

/* 1 when a connection (up or on its way) exists. */
static int
connected(void)
{
	return R.ac != NULL || R.t != NULL;
}

static void
answer_down(state_cb cb, void *arg)
{
	struct state_answer	 a;

	memset(&a, 0, sizeof(a));
	a.down = 1;
	if (cb != NULL)
		cb(arg, &a);
}

static void
went_down(const char *reason)
{
	if (!R.alerted) {
		log_warnx("auth: event=alert kind=state-down store=redis "
		    "url=%s reason=\"%s\"", R.conf->url, reason);
		R.alerted = 1;
	}
}

/* Drops the connection: hiredis answers every pending command with NULL. */
static void
drop(const char *reason)
{
	redisAsyncContext	*ac = R.ac;
	struct rtls		*t = R.t;

	went_down(reason);
	R.state = R_DOWN;
	if (ac != NULL) {
		R.ac = NULL;
		redisAsyncFree(ac);
	}
	if (t != NULL) {
		R.t = NULL;
		rtls_free(t);
	}
}

/* The TLS connection failed (certificate, reset, closed). */
static void
tls_down(const char *why)
{
	drop(why);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK) {
		/* hiredis frees AC after this callback. */
		if (ac == R.ac) {
			R.ac = NULL;
			R.state = R_DOWN;
		}
		went_down(ac->errstr[0] != '\0' ? ac->errstr : "connect");
	}
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	if (ac == R.ac) {
		R.ac = NULL;
		R.state = R_DOWN;
		went_down(ac->errstr[0] != '\0' ? ac->errstr : "disconnected");
	}
}

/* The answer to the connect sequence (AUTH, SELECT, SCRIPT LOAD). */
static void
on_setup(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply	*reply = r;
	const char	*step = priv;

	if (ac != R.ac || R.state != R_CONNECTING)	/* ac NULL: TLS */
		return;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		char	 why[160];

		snprintf(why, sizeof(why), "%s: %s", step, reply != NULL &&
		    reply->str != NULL ? reply->str : "no answer");
		/* Not from inside hiredis's callback: at the next tick. */
		went_down(why);
		R.state = R_DOWN;
		return;
	}
	if (strcmp(step, "script") != 0)
		return;
	if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
		went_down("script load");
		R.state = R_DOWN;
		return;
	}
	memcpy(R.sha, reply->str, 40);
	R.sha[40] = '\0';
	R.state = R_UP;
	R.stalled_ticks = 0;
	if (R.alerted) {
		log_warnx("auth: event=state-up store=redis url=%s",
		    R.conf->url);
		R.alerted = 0;
	} else
		log_info("auth: event=state-up store=redis url=%s",
		    R.conf->url);
}

static void	on_reply(redisAsyncContext *, void *, void *);
static void	on_setup(redisAsyncContext *, void *, void *);

static void
tls_on_setup(void *priv, void *r)
{
	on_setup(NULL, r, priv);
}

static void
tls_on_reply(void *priv, void *r)
{
	on_reply(NULL, r, priv);
}

/* Sends a command on the connection; FN(ac, reply, PRIV) later.  0 or -1. */
static int
send_argv(redisCallbackFn *fn, void *priv, int argc, const char **argv,
    const size_t *argvlen)
{
	if (R.t != NULL)
		return rtls_command(R.t, fn == on_setup ? tls_on_setup :
		    tls_on_reply, priv, argc, argv, argvlen);
	if (R.ac == NULL)
		return -1;
	return redisAsyncCommandArgv(R.ac, fn, priv, argc, argv, argvlen) ==
	    REDIS_OK ? 0 : -1;
}

static void
send_setup(const char *step, int argc, const char **argv)
{
	size_t	 argvlen[4];
	int	 i;

	for (i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	if (send_argv(on_setup, (void *)step, argc, argv, argvlen) == -1) {
		went_down(step);
		R.state = R_DOWN;	/* dropped at the next tick */
	}
}

static void
redis_connect(void)
{
	redisAsyncContext	*ac;
	const char		*why = NULL;
	char			 path[128], db[16];
	const char		*slash;

	if (R.conf->tls) {
		if ((R.t = rtls_connect(R.base, R.conf->host, R.conf->port,
		    tls_down, &why)) == NULL) {
			went_down(why);
			return;
		}
	} else {
		if (R.conf->path != NULL) {
			/* Chrooted into the socket's directory (role_auth.c). */
			slash = strrchr(R.conf->path, '/');
			if (R.chrooted && slash != NULL)
				snprintf(path, sizeof(path), "%s", slash);
			else
				snprintf(path, sizeof(path), "%s",
				    R.conf->path);
			ac = redisAsyncConnectUnix(path);
		} else
			ac = redisAsyncConnect(R.conf->host,
			    atoi(R.conf->port));
		if (ac == NULL) {
			went_down("out of memory");
			return;
		}
		if (ac->err) {
			went_down(ac->errstr);
			redisAsyncFree(ac);
			return;
		}
		R.ac = ac;
		redisLibeventAttach(ac, R.base);
		redisAsyncSetConnectCallback(ac, on_connect);
		redisAsyncSetDisconnectCallback(ac, on_disconnect);
	}
	R.state = R_CONNECTING;
	if (R.has_password) {
		if (R.conf->user != NULL)
			send_setup("auth", 3, (const char *[]){ "AUTH",
			    R.conf->user, R.password });
		else
			send_setup("auth", 2, (const char *[]){ "AUTH",
			    R.password });
	}
	if (R.conf->db != 0) {
		snprintf(db, sizeof(db), "%u", R.conf->db);
		send_setup("select", 2, (const char *[]){ "SELECT", db });
	}
	send_setup("script", 3, (const char *[]){ "SCRIPT", "LOAD", script });
}

/*
 * Every second: a reconnect when down; a connection whose answers stopped
 * (REDIS_DEADLINE_MS) or whose setup failed is dropped.
 */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (connected() && R.state == R_DOWN) {
		drop("setup failed");
		return;
	}
	if (!connected()) {
		redis_connect();
		return;
	}
	if (R.sent > R.answered && R.answered == R.answered_seen) {
		if (++R.stalled_ticks * 1000 >= REDIS_DEADLINE_MS)
			drop("no answer");
	} else
		R.stalled_ticks = 0;
	if (R.state == R_CONNECTING && ++R.stalled_ticks * 1000 >=
	    2 * REDIS_DEADLINE_MS)
		drop("connect timeout");
	R.answered_seen = R.answered;
}

static int
read_password(const char *file)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("auth: state redis: password-file %s", file);
		return -1;
	}
	n = read(fd, R.password, sizeof(R.password) - 1);
	close(fd);
	if (n < 0) {
		log_warn("auth: state redis: password-file %s", file);
		return -1;
	}
	R.password[n] = '\0';
	R.password[strcspn(R.password, "\r\n")] = '\0';
	if (R.password[0] == '\0') {
		log_warnx("auth: state redis: password-file %s is empty", file);
		return -1;
	}
	R.has_password = 1;
	return 0;
}

int
state_redis_open(const struct conf *conf, struct event_base *base)
{
	struct timeval	 one = { 1, 0 }, zero = { 0, 0 };

	memset(&R, 0, sizeof(R));
	R.conf = conf->state_redis;
	R.base = base;
	if (base == NULL) {
		log_warnx("auth: state redis needs an event loop");
		return -1;
	}
	if (R.conf->password_file != NULL &&
	    read_password(R.conf->password_file) == -1)
		return -1;
	if (R.conf->tls && rtls_init(R.conf->ca) == -1)
		return -1;
	if ((R.ev_tick = event_new(base, -1, EV_PERSIST, on_tick, NULL)) ==
	    NULL || event_add(R.ev_tick, &one) == -1) {
		log_warnx("auth: state redis: timer");
		return -1;
	}
	/*
	 * The first connect from the loop, after the role's chroot (the root
	 * decides; it is gone by then).  Unreachable is not fatal:
	 * operations answer DOWN until Redis answers.
	 */
	R.chrooted = privsep_chroots();
	if (event_base_once(base, -1, EV_TIMEOUT, on_tick, NULL, &zero) == -1) {
		log_warnx("auth: state redis: timer");
		return -1;
	}
	return 0;
}

void
state_redis_close(void)
{
	if (R.ev_tick != NULL)
		event_free(R.ev_tick);
	R.ev_tick = NULL;
	if (R.ac != NULL) {
		redisAsyncContext *ac = R.ac;

		R.ac = NULL;
		redisAsyncFree(ac);
	}
	if (R.t != NULL) {
		struct rtls *t = R.t;

		R.t = NULL;
		rtls_free(t);
	}
	if (R.conf != NULL && R.conf->tls)
		rtls_fini();
	sodium_memzero(R.password, sizeof(R.password));
}

static int	op_send(struct op *, int evalsha);

/* The answer to a history ('h'): { now, current count, earlier ones }. */
static void
hist_answer(struct op *o, const redisReply *reply)
{
	struct state_answer	 a;
	uint64_t		 hist[HIST_MAX];
	size_t			 i;

	memset(&a, 0, sizeof(a));
	if (reply->type != REDIS_REPLY_ARRAY || o->nhist == 0 ||
	    o->nhist > HIST_MAX || reply->elements != (size_t)o->nhist + 1) {
		log_warnx("auth: state redis: unexpected answer%s%s",
		    reply->type == REDIS_REPLY_ERROR ? ": " : "",
		    reply->type == REDIS_REPLY_ERROR ? reply->str : "");
		a.down = 1;
		goto done;
	}
	for (i = 0; i < reply->elements; i++)
		if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
			a.down = 1;
			goto done;
		}
	a.now_ms = reply->element[0]->integer;
	for (i = 0; i < o->nhist; i++)
		hist[i] = reply->element[i + 1]->integer < 0 ? 0 :
		    (uint64_t)reply->element[i + 1]->integer;
	a.hist = hist;
	a.nhist = o->nhist;
done:
	if (o->cb != NULL)
		o->cb(o->arg, &a);
}

static void
on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply		*reply = r;
	struct op		*o = priv;
	struct state_answer	 a;
	long long		 v[4];
	size_t			 i, want;

	(void)ac;
	R.answered++;
	memset(&a, 0, sizeof(a));
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    o->evalsha && strncmp(reply->str, "NOSCRIPT", 8) == 0 &&
	    op_send(o, 0) == 0)
		return;		/* the script cache was flushed: EVAL it */
	if (reply == NULL) {
		a.down = 1;
		goto done;
	}
	if (o->kind == 'd') {
		a.down = reply->type == REDIS_REPLY_ERROR;
		goto done;
	}
	if (o->kind == 'h') {
		hist_answer(o, reply);
		free(o);
		return;
	}
	want = o->kind == 'w' || o->kind == 'l' ? 4 : 3;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != want) {
		log_warnx("auth: state redis: unexpected answer%s%s",
		    reply->type == REDIS_REPLY_ERROR ? ": " : "",
		    reply->type == REDIS_REPLY_ERROR ? reply->str : "");
		a.down = 1;
		goto done;
	}
	for (i = 0; i < want; i++) {
		if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
			a.down = 1;
			goto done;
		}
		v[i] = reply->element[i]->integer;
	}
	if (o->kind == 'w' || o->kind == 'l') {
		a.fits = v[0] != 0;
		a.wait_ms = v[1] < 0 ? WINDOW_NEVER : v[1];
		a.used = v[2] < 0 ? 0 : (uint64_t)v[2];
		a.now_ms = v[3];
	} else {
		a.until_ms = v[0];
		a.failures = v[1] < 0 || v[1] > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)v[1];
		a.now_ms = v[2];
	}
done:
	if (o->cb != NULL)
		o->cb(o->arg, &a);
	free(o);
}

/* Sends O; 0, or -1 (O not freed, nothing will answer). */
static int
op_send(struct op *o, int evalsha)
{
	const char	*argv[10];
	size_t		 argvlen[10];
	char		 key[STORE_KEY_MAX + 1 + sizeof(REDIS_PREFIX)];
	char		 key2[STORE_KEY_MAX + 1 + sizeof(REDIS_PREFIX)];
	char		 kind[2] = { o->kind, '\0' };
	int		 argc = 0, i;

	if (!connected() || R.state != R_UP)
		return -1;
	snprintf(key, sizeof(key), "%s%s", REDIS_PREFIX, o->key);
	snprintf(key2, sizeof(key2), "%s%s", REDIS_PREFIX, o->key2);
	if (o->kind == 'd') {
		argv[argc++] = "DEL";
		argv[argc++] = key;
	} else {
		o->evalsha = evalsha;
		argv[argc++] = evalsha ? "EVALSHA" : "EVAL";
		argv[argc++] = evalsha ? R.sha : script;
		argv[argc++] = o->key2[0] != '\0' ? "2" : "1";
		argv[argc++] = key;
		if (o->key2[0] != '\0')
			argv[argc++] = key2;
		argv[argc++] = kind;
		for (i = 0; i < o->na; i++)
			argv[argc++] = o->a[i];
	}
	for (i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	if (send_argv(on_reply, o, argc, argv, argvlen) == -1)
		return -1;
	R.sent++;
	return 0;
}

static void
op_run(struct op *o)
{
	if (op_send(o, 1) == -1) {
		answer_down(o->cb, o->arg);
		free(o);
	}
}

static struct op *
op_new(char kind, const char *key, state_cb cb, void *arg)
{
	struct op	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		fatal("state redis");
	o->kind = kind;
	o->cb = cb;
	o->arg = arg;
	snprintf(o->key, sizeof(o->key), "%s", key);
	return o;
}

void
state_redis_window(const char *key, const struct window_rate *r,
    enum state_op op, uint64_t n, state_cb cb, void *arg)
{
	struct op	*o;

	if (r->count == 0 || r->window_ms <= 0) {
		struct state_answer	 a;

		memset(&a, 0, sizeof(a));
		a.fits = 1;
		if (cb != NULL)
			cb(arg, &a);
		return;
	}
	o = op_new('w', key, cb, arg);
	snprintf(o->a[0], sizeof(o->a[0]), "%d", (int)op);
	snprintf(o->a[1], sizeof(o->a[1]), "%llu", (unsigned long long)n);
	snprintf(o->a[2], sizeof(o->a[2]), "%llu",
	    (unsigned long long)r->count);
	snprintf(o->a[3], sizeof(o->a[3]), "%lld", (long long)r->window_ms);
	o->na = 4;
	op_run(o);
}

void
state_redis_slot_take(const char *key, const struct window_rate *r,
    const char *key2, const struct window_rate *r2, state_cb cb, void *arg)
{
	struct op	*o = op_new('l', key, cb, arg);

	snprintf(o->a[0], sizeof(o->a[0]), "%llu",
	    (unsigned long long)r->count);
	snprintf(o->a[1], sizeof(o->a[1]), "%lld", (long long)r->window_ms);
	o->na = 2;
	if (key2 != NULL) {
		snprintf(o->key2, sizeof(o->key2), "%s", key2);
		snprintf(o->a[2], sizeof(o->a[2]), "%llu",
		    (unsigned long long)r2->count);
		snprintf(o->a[3], sizeof(o->a[3]), "%lld",
		    (long long)r2->window_ms);
		o->na = 4;
	}
	op_run(o);
}

void
state_redis_lock_get(const char *key, state_cb cb, void *arg)
{
	op_run(op_new('g', key, cb, arg));
}

void
state_redis_lock_set(const char *key, int64_t lock_ms, uint32_t failures,
    state_cb cb, void *arg)
{
	struct op	*o = op_new('s', key, cb, arg);

	snprintf(o->a[0], sizeof(o->a[0]), "%lld", (long long)lock_ms);
	snprintf(o->a[1], sizeof(o->a[1]), "%u", failures);
	o->na = 2;
	op_run(o);
}

void
state_redis_hist_add(const char *key, int64_t bucket_ms, unsigned nbuckets,
    uint64_t n, state_cb cb, void *arg)
{
	struct op	*o;

	if (bucket_ms <= 0 || nbuckets == 0 || nbuckets > HIST_MAX) {
		answer_down(cb, arg);
		return;
	}
	o = op_new('h', key, cb, arg);
	o->nhist = nbuckets;
	snprintf(o->a[0], sizeof(o->a[0]), "%lld", (long long)bucket_ms);
	snprintf(o->a[1], sizeof(o->a[1]), "%u", nbuckets);
	snprintf(o->a[2], sizeof(o->a[2]), "%llu", (unsigned long long)n);
	o->na = 3;
	op_run(o);
}

void
state_redis_del(const char *key, state_cb cb, void *arg)
{
	op_run(op_new('d', key, cb, arg));
}
