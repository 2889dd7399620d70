/*
 * queue_priv.h — the queue's internals, shared by the queue/ files only:
 * struct queue, the requests waiting for the event loop, and deliveries in
 * flight.  Nothing outside queue/ includes this.
 *
 * queue/: the spool, its scheduler and the signing at commit.  Knows
 * nothing of SMTP sessions, IPC or the roles; it reaches the relay through
 * struct queue_relay_ops.
 */
#ifndef QUEUE_QUEUE_PRIV_H
#define QUEUE_QUEUE_PRIV_H

#include <sys/queue.h>

#include <stdint.h>

#include <event2/util.h>

#include "queue/queue.h"
#include "queue/queue_env.h"
#include "queue/queue_sched.h"

struct event;
struct workq;
struct qround;

/*
 * Writers' files kept, emptied, for the next messages (queue_open.c):
 * each saves an inode allocated and freed per message.
 */
#define QUEUE_SPARE_WRITERS	32

/* A file handed out by queue_message_open and not yet committed. */
struct qopen {
	TAILQ_ENTRY(qopen)	 entry;
	char			 id[QUEUE_ID_SIZE];
	int			 fd;	/* the writer's file, then the copy */
	int			 sealed;	/* fd is the queue's own copy */
};

enum qreq_type { QREQ_OPEN, QREQ_COMMIT };

/*
 * A request waiting for the event loop (callbacks never run inline); a
 * commit then goes its way through queue_commit.c: checked and sealed on
 * the loop, signed on the signer's thread, its envelope written, then
 * made durable by a sync round with every commit that got there while
 * the round before ran (group commit), and only then answered.
 */
struct qreq {
	TAILQ_ENTRY(qreq)	 entry;
	TAILQ_ENTRY(qreq)	 live;		/* on q->committing until answered */
	enum qreq_type		 type;
	queue_open_cb		 open_cb;
	queue_commit_cb		 commit_cb;
	void			*arg;
	char			 id[QUEUE_ID_SIZE];
	struct queue_env	 qe;		/* commit: the envelope (copy) */
	int			 has_sign;
	struct queue_sign_input	 sign;
	enum queue_status	 status;	/* commit: result so far */
	int			 verify;	/* check against SENDERS (issue 12) */
	uint64_t		 grant;		/* for the logs */
	char			 senders[AUTH_SENDERS_MAX];
	/* Once the commit started (queue_commit.c): */
	struct queue		*q;
	int			 fd;		/* ID.tmp: the queue's copy */
	int			 envfd;		/* ID.env.tmp, written */
	char			*hdr;		/* the header section to sign */
	queue_signer_fn		 sign_fn;	/* the signer when it was given */
	void			*sign_arg;
	int			 sign_rv;
	int			 err;		/* errno of the sync round, or 0 */
	struct qround		*round;
};
TAILQ_HEAD(qreq_list, qreq);

/* A delivery handed to the relay. */
struct qflight {
	TAILQ_ENTRY(qflight)	 entry;
	uint64_t		 reqid;
	struct qmsg		*msg;
	struct queue_env	 qe;	/* kept alive: the relay may read it */
	time_t			 paced_until;	/* held back by the relay */
	char			 paced_login[AUTH_USER_MAX + 1];
};

/* Queue IDs, sorted once filled. */
struct qidlist {
	char		(*v)[QUEUE_ID_SIZE];
	size_t		 n, cap;
};

/* At the spool's top (beside queue/): present while the relay is paused. */
#define QUEUE_PAUSED_FILE	"relay.paused"

struct queue {
	struct event_base	*base;
	const struct conf	*conf;
	int			 dirfd;		/* queue/ */
	int			 corruptfd;	/* corrupt/ */

	queue_signer_fn		 signer;
	void			*signer_arg;
	queue_signer_has_key_fn	 signer_has_key;
	queue_refused_cb	 refused_cb;	/* issue 15: may be NULL */
	const struct queue_relay_ops *relay_ops;
	void			*relay_ctx;

	struct event		*ev_work;	/* runs q->reqs */
	struct event		*ev_sched;	/* the scheduler's timer */
	struct qreq_list	 reqs;
	/* The commit's way (queue_commit.c): */
	struct workq		*signq;		/* DKIM signatures: one thread */
	struct workq		*syncq;		/* fdatasync, rename, dir fsync */
	struct qreq_list	 committing;	/* started, not answered (live) */
	struct qreq_list	 sync_wait;	/* written, for the next round */
	struct qround		*round;		/* the sync round running */
	int			 test_hold;	/* test hooks: see queue_commit.c */
	uint64_t		 sync_rounds, sync_msgs;	/* since start */
	TAILQ_HEAD(, qopen)	 opens;
	int			 spare[QUEUE_SPARE_WRITERS];	/* emptied */
	size_t			 nspare;
	struct qheap		 heap;
	TAILQ_HEAD(, qflight)	 flights;
	size_t			 nflights;
	int			 relay_paused;	/* submitctl pause relay */
	uint64_t		 next_reqid;

	struct {
		uint64_t	 delivered;	/* recipients, since start */
		uint64_t	 bounced;	/* recipients */
		uint64_t	 deferred;	/* attempts that left some pending */
		uint64_t	 removed;	/* by the operator */
	}			 stats;

	struct qidlist		 loading;	/* envelopes still to index */
	size_t			 loadpos;
	struct event		*ev_load;	/* indexes the rest in batches */
};

/* queue_open.c: the files being received (no name in the spool). */
/* queue_status_errno: the status for a failed system call's ERR. */
enum queue_status queue_status_errno(int err);
/*
 * queue_open_file: an empty file without a name under a new queue ID
 * (written to ID); the writable fd, or -1 with *STATUS set
 * (QUEUE_ERR_NOSPACE when the spool is short of room).
 */
int		 queue_open_file(struct queue *, char id[QUEUE_ID_SIZE],
		    enum queue_status *status);
/* queue_open_find: the open file ID, or NULL. */
struct qopen	*queue_open_find(struct queue *, const char *id);
/* queue_open_take: the fd of open file ID's sealed copy (forgotten), or -1. */
int		 queue_open_take(struct queue *, const char *id);
/*
 * queue_open_seal: O's file copied into a new ID.msg that only the queue
 * holds (queue_edit.c), once; what the filter scans and the commit keeps.
 * 0, or -1 (logged) with errno EFBIG past "limit message-size".
 */
int		 queue_open_seal(struct queue *, struct qopen *o);
/*
 * queue_writer_done: a writer's file FD that the queue no longer needs
 * (copied by the seal, or aborted), emptied and kept for a next message,
 * or closed.
 */
void		 queue_writer_done(struct queue *, int fd);
/* queue_open_free: closes every file still being received, and the spares. */
void		 queue_open_free(struct queue *);
/*
 * queue_load: start-up scan of the spool (queue_load.c); 0 or -1.  The
 * first envelopes are indexed at once, a large spool's rest in batches
 * from the event loop, oldest first, so delivery starts at once.
 */
int		 queue_load(struct queue *);
/* queue_load_free: drops what is left of the start-up indexing. */
void		 queue_load_free(struct queue *);
/*
 * queue_handoff_run: the scheduler's timer (queue_handoff.c): hands every
 * due message to the relay while it has capacity, then re-arms the timer
 * for the next one.  ARG is the struct queue.
 */
void		 queue_handoff_run(evutil_socket_t, short, void *arg);
/* queue_corrupt: move ID.env and ID.msg to corrupt/ and log WHY. */
void		 queue_corrupt(struct queue *, const char *id, const char *why);
/*
 * queue_verify: R's claims (header length, From: domain, body hashes)
 * checked against the file FD of SIZE octets and R->senders (queue_verify.c);
 * 0 with *HDR the header section read (malloc'd, R->sign.header_len
 * octets: what is signed), or -1 (logged: event=commit-refused).
 */
int		 queue_verify(struct queue *, struct qreq *r, int fd, off_t size,
		    char **hdr);
/*
 * queue_commit_batch: starts the commit of every QREQ_COMMIT in LIST
 * (queue_commit.c); each one's callback comes from the event loop once
 * its sync round is over (or at once when it fails before).
 */
void		 queue_commit_batch(struct queue *, struct qreq_list *list);
/* queue_commit_signer_set: queue_set_signer, once no signature is made. */
void		 queue_commit_signer_set(struct queue *, queue_signer_fn,
		    void *arg);
/* queue_commit_free: stops the threads, frees the commits under way. */
void		 queue_commit_free(struct queue *);
/* queue_settle: after an attempt, remove, expire or reschedule (queue_done.c). */
void		 queue_settle(struct queue *, struct qmsg *m,
		    struct queue_env *qe, time_t now);
/*
 * queue_settle_from: queue_settle where WAS_PENDING[i] (env->nrcpt
 * entries) says which recipients were pending before the attempt: those
 * now failed get a DSN (queue_bounce) before the envelope changes.
 * queue_settle takes them from QE as it is.
 */
void		 queue_settle_from(struct queue *, struct qmsg *m,
		    struct queue_env *qe, const uint8_t *was_pending, time_t now);

#define QUEUE_BOUNCE_FAILED	1	/* 5xx from the smarthost */
#define QUEUE_BOUNCE_EXPIRED	2	/* lifetime over */
/*
 * queue_bounce: a DSN (RFC 3464) for message ORIGID's recipients with
 * SEL[i] set (QUEUE_BOUNCE_*), committed to the spool as a new message
 * to qe's reverse-path and scheduled.  Nothing when QE is itself a DSN
 * or has a null reverse-path (logged: event=bounce-dropped).  0, or -1
 * when it could not be written (logged).
 */
int		 queue_bounce(struct queue *, const char *origid,
		    const struct queue_env *qe, const uint8_t *sel, time_t now);
/*
 * queue_remove_files: unlink ID.env then ID.msg; with SYNC, fsync the
 * directory too (after a delivery it need not: see queue_done.c).
 */
int		 queue_remove_files(struct queue *, const char *id, int sync);

#endif
