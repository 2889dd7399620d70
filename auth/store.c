/*
 * store.c — the auth role's LMDB counters; see store.h.
 *
 * Writes share one write transaction per turn of the event loop: the
 * first write of a turn begins it and makes T.ev_commit active, which
 * libevent runs after every callback already active in that turn (the
 * IPC reads that brought the requests), so the policy requests read in
 * one turn cost one commit (a meta page and the touched pages written
 * once) rather than one each.  Reads in the turn see its writes (they
 * use the write transaction).  Nothing waits in epoll with it open: the
 * commit is on the active queue.  Without an event base (tests) every
 * write commits at once, as before.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <lmdb.h>

#include "auth/store.h"
#include "lib/log.h"

#define STORE_MAPSIZE		(256UL * 1024 * 1024)	/* address space */
#define STORE_SWEEP_SECONDS	60

static struct {
	MDB_env		*env;
	MDB_dbi		 dbi;
	int		 dirty;
	MDB_txn		*wtxn;		/* this turn's writes, NULL: none */
	unsigned	 nwrites;	/* in WTXN */
	struct event	*ev_commit;	/* active while WTXN is open */
	struct event	*ev_sync;
	struct event	*ev_sweep;
} T;

int64_t
store_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* store_commit: commits this turn's writes; 0 or -1 (logged). */
static int
store_commit(void)
{
	unsigned	 n = T.nwrites;
	int		 rc;

	if (T.wtxn == NULL)
		return 0;
	rc = mdb_txn_commit(T.wtxn);
	T.wtxn = NULL;
	T.nwrites = 0;
	if (rc != 0) {
		log_warnx("auth: state write: commit of %u writes: %s", n,
		    mdb_strerror(rc));
		return -1;
	}
	T.dirty = 1;
	return 0;
}

/* The write transaction of this turn, begun when there is none. */
static MDB_txn *
store_wtxn(int *rcp)
{
	if (T.wtxn == NULL) {
		if ((*rcp = mdb_txn_begin(T.env, NULL, 0, &T.wtxn)) != 0) {
			T.wtxn = NULL;
			return NULL;
		}
		if (T.ev_commit != NULL)
			event_active(T.ev_commit, EV_TIMEOUT, 0);
	}
	return T.wtxn;
}

/*
 * A write in the turn's transaction ended: RC 0 keeps it (committed now
 * when there is no loop to do it at the turn's end), else the
 * transaction is in error (LMDB) and is dropped with the turn's earlier
 * writes.
 */
static int
store_wrote(int rc)
{
	if (rc != 0) {
		if (T.nwrites > 0)
			log_warnx("auth: state write: %u earlier writes of "
			    "this turn dropped", T.nwrites);
		mdb_txn_abort(T.wtxn);
		T.wtxn = NULL;
		T.nwrites = 0;
		return rc;
	}
	T.nwrites++;
	if (T.ev_commit == NULL && store_commit() == -1)
		return MDB_PANIC;
	return 0;
}

unsigned
store_pending(void)
{
	return T.wtxn != NULL ? T.nwrites : 0;
}

static void
store_on_commit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	(void)store_commit();
}

static void
store_on_sync(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (T.dirty)
		store_sync();
}

static void
store_on_sweep(evutil_socket_t fd, short what, void *arg)
{
	size_t	 n;

	(void)fd;
	(void)what;
	(void)arg;
	if ((n = store_sweep(store_now_ms())) > 0)
		log_debug("auth: event=store-sweep removed=%zu", n);
}

int
store_open(const char *dir, struct event_base *base)
{
	MDB_txn		*txn;
	struct timeval	 one = { 1, 0 }, sweep = { STORE_SWEEP_SECONDS, 0 };
	int		 rc;

	if ((rc = mdb_env_create(&T.env)) != 0 ||
	    (rc = mdb_env_set_mapsize(T.env, STORE_MAPSIZE)) != 0 ||
	    (rc = mdb_env_open(T.env, dir, MDB_NOSYNC |
	    MDB_NOTLS, 0600)) != 0) {
		log_warnx("auth: state %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_txn_begin(T.env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &T.dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		log_warnx("auth: state %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if (base == NULL)
		return 0;
	if ((T.ev_commit = event_new(base, -1, 0, store_on_commit,
	    NULL)) == NULL ||
	    (T.ev_sync = event_new(base, -1, EV_PERSIST, store_on_sync,
	    NULL)) == NULL || event_add(T.ev_sync, &one) == -1 ||
	    (T.ev_sweep = event_new(base, -1, EV_PERSIST, store_on_sweep,
	    NULL)) == NULL || event_add(T.ev_sweep, &sweep) == -1) {
		log_warnx("auth: state: timers");
		goto fail;
	}
	return 0;
fail:
	if (T.ev_commit != NULL)
		event_free(T.ev_commit);
	if (T.ev_sync != NULL)
		event_free(T.ev_sync);
	T.ev_commit = T.ev_sync = NULL;
	if (T.env != NULL)
		mdb_env_close(T.env);
	T.env = NULL;
	return -1;
}

void
store_close(void)
{
	if (T.env == NULL)
		return;
	store_sync();
	if (T.ev_commit)
		event_free(T.ev_commit);
	if (T.ev_sync)
		event_free(T.ev_sync);
	if (T.ev_sweep)
		event_free(T.ev_sweep);
	T.ev_commit = T.ev_sync = T.ev_sweep = NULL;
	mdb_env_close(T.env);
	T.env = NULL;
}

int
store_sync(void)
{
	int	 rc;

	if (T.env == NULL)
		return -1;
	(void)store_commit();
	if ((rc = mdb_env_sync(T.env, 1)) != 0) {
		log_warnx("auth: state sync: %s", mdb_strerror(rc));
		return -1;
	}
	T.dirty = 0;
	return 0;
}

static int
key_val(const char *key, MDB_val *k)
{
	size_t	 len = strlen(key);

	if (len == 0 || len > STORE_KEY_MAX)
		return -1;
	k->mv_data = (void *)(uintptr_t)key;
	k->mv_size = len;
	return 0;
}

int
store_get(const char *key, void *val, size_t len)
{
	MDB_txn	*txn;
	MDB_val	 k, v;
	int	 rc, ret = 1;

	if (T.env == NULL || key_val(key, &k) == -1)
		return -1;
	if ((txn = T.wtxn) == NULL &&
	    (rc = mdb_txn_begin(T.env, NULL, MDB_RDONLY, &txn)) != 0) {
		log_warnx("auth: state read: %s", mdb_strerror(rc));
		return -1;
	}
	rc = mdb_get(txn, T.dbi, &k, &v);
	if (rc == 0 && v.mv_size == len) {
		memcpy(val, v.mv_data, len);
		ret = 0;
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		log_warnx("auth: state read: %s", mdb_strerror(rc));
		ret = -1;
	}
	if (txn != T.wtxn)
		mdb_txn_abort(txn);
	return ret;
}

int
store_put(const char *key, const void *val, size_t len)
{
	MDB_txn	*txn;
	MDB_val	 k, v;
	int	 rc;

	if (T.env == NULL || key_val(key, &k) == -1)
		return -1;
	v.mv_data = (void *)(uintptr_t)val;
	v.mv_size = len;
	if ((txn = store_wtxn(&rc)) == NULL ||
	    (rc = store_wrote(mdb_put(txn, T.dbi, &k, &v, 0))) != 0)
		goto fail;
	return 0;
fail:
	log_warnx("auth: state write %s: %s", key, mdb_strerror(rc));
	return -1;
}

int
store_del(const char *key)
{
	MDB_txn	*txn;
	MDB_val	 k;
	int	 rc;

	if (T.env == NULL || key_val(key, &k) == -1)
		return -1;
	if ((txn = store_wtxn(&rc)) == NULL)
		goto fail;
	if ((rc = mdb_del(txn, T.dbi, &k, NULL)) == MDB_NOTFOUND)
		rc = 0;
	if ((rc = store_wrote(rc)) != 0)
		goto fail;
	return 0;
fail:
	log_warnx("auth: state delete %s: %s", key, mdb_strerror(rc));
	return -1;
}

int
store_each(const char *prefix, store_each_cb cb, void *arg)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	char		 key[STORE_KEY_MAX + 1];
	size_t		 plen = strlen(prefix);
	int		 rc;

	if (T.env == NULL || plen > STORE_KEY_MAX)
		return -1;
	(void)store_commit();	/* CB may write: not under our cursor */
	if ((rc = mdb_txn_begin(T.env, NULL, MDB_RDONLY, &txn)) != 0)
		return -1;
	if ((rc = mdb_cursor_open(txn, T.dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	k.mv_data = (void *)(uintptr_t)prefix;
	k.mv_size = plen;
	rc = plen > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (k.mv_size > STORE_KEY_MAX)
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		cb(key, v.mv_data, v.mv_size, arg);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return 0;
}

size_t
store_sweep(int64_t now_ms)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int64_t		 expires;
	size_t		 n = 0;
	int		 rc;

	if (T.env == NULL)
		return 0;
	(void)store_commit();
	if (mdb_txn_begin(T.env, NULL, 0, &txn) != 0)
		return 0;
	if (mdb_cursor_open(txn, T.dbi, &cur) != 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size < sizeof(expires))
			continue;
		memcpy(&expires, v.mv_data, sizeof(expires));
		if (expires <= now_ms && mdb_cursor_del(cur, 0) == 0)
			n++;
	}
	mdb_cursor_close(cur);
	if (mdb_txn_commit(txn) != 0)
		return 0;
	if (n > 0)
		T.dirty = 1;
	return n;
}
