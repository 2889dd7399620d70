/*
 * workq.h — work off the event loop: a few threads run a job's WORK, and
 * the loop then runs its DONE.  The queue role's DKIM signing and the
 * fsyncs of its group commit go through one each, so that the loop keeps
 * reading, opening and committing while a signature is made or a disk
 * flush waits.
 *
 * WORK runs on a thread and must touch only what its ARG owns (and what
 * no one changes meanwhile); DONE runs on the event loop, in the order
 * the jobs finished, never inside workq_run.  Threads start at the first
 * job (under the role's seccomp filter: clone with CLONE_THREAD, futex).
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_WORKQ_H
#define LIB_WORKQ_H

struct event_base;
struct workq;

typedef void (*workq_fn)(void *arg);

/* workq_new: NTHREADS threads (started later) on BASE; NULL on error. */
struct workq	*workq_new(struct event_base *, int nthreads, const char *name);
/*
 * workq_run: WORK(ARG) on a thread, then DONE(ARG) on the loop.  0, or
 * -1 (a thread could not be started; logged): nothing will run.
 */
int		 workq_run(struct workq *, workq_fn work, workq_fn done,
		    void *arg);
/*
 * workq_drain: waits until every WORK given so far has returned (their
 * DONEs still run later, from the loop).  For a reload that frees what
 * the work uses.
 */
void		 workq_drain(struct workq *);
/*
 * workq_free: stops and joins the threads; jobs not yet run, and DONEs
 * not yet called, are dropped (their ARGs are the caller's to free).
 */
void		 workq_free(struct workq *);

#endif
