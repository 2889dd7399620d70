/*
 * queue.h — the disk queue: commit of accepted messages, the spool format,
 * and the scheduler that hands messages to the relay and retries.
 *
 * Spool layout under conf->queue_dir:
 *   queue/ID.tmp      message being received (smtp writes it)
 *   queue/ID.msg      committed message: exact octets to send, CRLF, unstuffed
 *   queue/ID.env      envelope (text); its presence means "committed"
 *   queue/ID.env.tmp  envelope being rewritten
 *   corrupt/          envelopes that could not be read, moved aside
 *
 * The session reaches the queue only through the asynchronous calls below,
 * so that they can later travel over a socketpair between processes: a
 * callback never runs from inside the call that asked for it.
 *
 * queue/: the spool, its scheduler and the signing at commit.  Knows
 * nothing of SMTP sessions, IPC or the roles; it reaches the relay through
 * struct queue_relay_ops.
 */
#ifndef QUEUE_QUEUE_H
#define QUEUE_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/submitd.h"
#include "relay/relay.h"

struct event_base;
struct conf;
struct queue;

enum queue_status {
	QUEUE_OK = 0,
	QUEUE_ERR_TEMP,		/* reply 451 4.3.0 */
	QUEUE_ERR_NOSPACE,	/* reply 452 4.3.1 */
	/* issue 16, the content filter's answers (never from queue/ itself): */
	QUEUE_ERR_REJECTED,	/* reply 550 5.7.1 with the filter's text */
	QUEUE_ERR_POLICY,	/* reply 451 4.7.1 with the filter's text */
	QUEUE_ERR_REFUSED,	/* issue 12: the commit's claims do not hold
				   (no grant, sender, From:, body hash) */
	QUEUE_ERR_QUOTA,	/* issue 12: the quota, checked at commit */
};

/* What the queue needs to DKIM-sign at commit (RFC 6376). */
struct queue_sign_input {
	size_t		 header_len;	/* octets of the header section at the
					   start of the file, without the
					   empty line */
	unsigned char	 bh_relaxed[32];	/* body hashes, RFC 6376 3.7 */
	unsigned char	 bh_simple[32];
};

/*
 * A signer: given the From: domain, the header section (HDR, HDRLEN
 * octets) and the body hashes, returns 0 and sets *PREFIX to a malloc'd
 * run of header fields to prepend (maybe NULL/0 when the domain has no
 * key), or -1 on error (the message is then refused with 451 4.3.0).
 */
typedef int (*queue_signer_fn)(void *arg, const char *from_domain,
    const char *hdr, size_t hdrlen, const struct queue_sign_input *,
    char **prefix, size_t *prefixlen);

/*
 * queue_new: opens (creating if needed, mode 0700) the spool at
 * conf->queue_dir, removes half-written files left by a crash, moves
 * unreadable envelopes to corrupt/ (logged), and loads every committed
 * message into the scheduler.  NULL on error (logged).
 */
struct queue	*queue_new(struct event_base *, const struct conf *);
/* queue_set_relay: where the scheduler sends; starts scheduling. */
void		 queue_set_relay(struct queue *, struct relay *);

/*
 * The scheduler's view of the relay (relay/relay.h) as function pointers,
 * so that tests can put a fake in its place: has_capacity and deliver
 * behave as relay_has_capacity and relay_deliver with CTX as the relay.
 * queue_set_relay() sets the real ones (and lives in its own file, so a
 * program that never calls it need not link the relay).
 */
struct queue_relay_ops {
	int	(*has_capacity)(void *ctx);
	int	(*deliver)(void *ctx, uint64_t reqid, int msg_fd,
		    const char *prefix, size_t prefixlen,
		    const struct envelope *env);
};
/* queue_set_relay_ops: like queue_set_relay; OPS must outlive the queue. */
void		 queue_set_relay_ops(struct queue *,
		    const struct queue_relay_ops *ops, void *ctx);
/* queue_count: messages in the queue (waiting or being delivered). */
size_t		 queue_count(const struct queue *);
/*
 * queue_set_conf (issue 14, reload): CONF (same spool) takes over for
 * what comes next: lifetimes, retries, bounces.  The spool is untouched.
 */
void		 queue_set_conf(struct queue *, const struct conf *);
/*
 * queue_set_signer: the DKIM signer called at commit (optional), on a
 * thread of its own (so it uses only its ARG and what it is given).  A
 * signer given before is no longer used once this returns: it waits for
 * the signatures under way.
 */
void		 queue_set_signer(struct queue *, queue_signer_fn, void *arg);
/*
 * queue_set_signer_has_key (optional): HAS_KEY(ARG, FROM_DOMAIN) says
 * whether the signer would sign for that domain at all; when it would
 * not, the signer is called on the event loop (it only logs), not on its
 * thread.  ARG is the one given to queue_set_signer at the time.
 */
typedef int (*queue_signer_has_key_fn)(void *arg, const char *from_domain);
void		 queue_set_signer_has_key(struct queue *, queue_signer_has_key_fn);
/*
 * queue_relay_paced: delivery REQID is held back by the relay for WAIT
 * seconds by "relay limit messages" for upstream LOGIN (show queue says so).
 */
void		 queue_relay_paced(struct queue *, uint64_t reqid, time_t wait,
		    const char *login);
/*
 * queue_set_refused_cb (issue 15, optional): CB(USER, N) after a delivery
 * attempt in which the upstream refused (5xx) N recipients of a message
 * that login USER submitted (never for a bounce).  USER is the login the
 * auth role granted the commit, not what the smtp role said.
 */
typedef void (*queue_refused_cb)(const char *user, uint32_t n);
void		 queue_set_refused_cb(struct queue *, queue_refused_cb);
/* queue_relay_done: the relay_done_cb to give relay_new() (ARG = queue). */
void		 queue_relay_done(const struct relay_result *, void *arg);
void		 queue_free(struct queue *);

/*
 * queue_message_open: a new queue ID and an empty file for the message.
 * CB gets a writable fd that the caller owns and must close, and the ID;
 * fd is -1 when the spool cannot take it (STATUS says why).
 */
typedef void (*queue_open_cb)(void *arg, enum queue_status status, int fd,
    const char *queue_id);
void		 queue_message_open(struct queue *, queue_open_cb, void *arg);

/*
 * queue_message_commit: the caller has written and closed the file of
 * QUEUE_ID; SIGN (may be NULL) carries the DKIM inputs.  The queue signs,
 * writes ENV (copied; env->queue_id must equal QUEUE_ID), fsyncs the
 * message, the envelope and the directory, and only then calls CB with
 * QUEUE_OK: the message is safe from a crash or power cut (one round of
 * fsyncs serves every commit that came while the round before ran: group
 * commit, queue_commit.c).  On failure
 * nothing is left in the spool.  What is checked, signed and kept is the
 * queue's own copy of the file, taken then (or when the filter asks for
 * it): writes through a writable fd kept after that go nowhere, and a
 * file past "limit message-size" gets QUEUE_ERR_REFUSED.
 */
typedef void (*queue_commit_cb)(void *arg, enum queue_status status,
    const char *queue_id);
void		 queue_message_commit(struct queue *, const char *queue_id,
		    const struct envelope *env, const struct queue_sign_input *sign,
		    queue_commit_cb, void *arg);

/*
 * Issue 16, the content filter, between the end of DATA and the commit:
 *
 * queue_message_fd: a new read-only fd of the uncommitted message
 * QUEUE_ID (for the filter role), or -1.
 */
int		 queue_message_fd(struct queue *, const char *queue_id);
/*
 * queue_message_edit: rewrites the header section (its first *HEADER_LEN
 * octets) of the uncommitted message QUEUE_ID: every field named in
 * REMOVE ("Name\n"..., case-insensitive) is dropped, the fields ADD
 * (ADDLEN octets of "Name: value\r\n") go first; the body is copied as
 * it is.  *HEADER_LEN becomes the new length.  Nothing is done when
 * neither changes anything.  0, or -1 (logged; the message is unchanged).
 */
int		 queue_message_edit(struct queue *, const char *queue_id,
		    const char *add, size_t addlen, const char *remove,
		    size_t *header_len);
/*
 * queue_message_commit_as: queue_message_commit for a login with sender
 * patterns SENDERS (issue 12): before signing, the queue finds the header
 * section itself, checks that From: is one field whose every mailbox
 * SENDERS allows and names ENV->from_domain, and hashes the body: when a
 * claim of SIGN or ENV differs, CB gets QUEUE_ERR_REFUSED and nothing is
 * kept.  GRANT only names the login in the logs.
 */
void		 queue_message_commit_as(struct queue *, const char *queue_id,
		    const struct envelope *env, const struct queue_sign_input *sign,
		    const char *senders, uint64_t grant, queue_commit_cb,
		    void *arg);

/* queue_message_abort: drop an uncommitted message (file removed). */
void		 queue_message_abort(struct queue *, const char *queue_id);

struct evbuffer;
/*
 * queue_ctl: one submitctl command on the queue (queue_ctl.c): ARGV
 * (ARGC >= 1) is "show queue", "show message ID", "show stats",
 * "flush [ID]", "remove ID", "hold ID" or "release ID".  The answer goes
 * to OUT as text for people, or JSON when JSON is set.  Returns 0 when
 * done, 1 when refused (OUT says why: unknown ID, being delivered, usage).
 */
int		 queue_ctl(struct queue *, int argc, char **argv, int json,
		    struct evbuffer *out);

/*
 * queue_hold_user: holds USER's queued mail, as "hold user LOGIN" does
 * (issue 15: an alert held the login; logged with by=alert).
 */
void		 queue_hold_user(struct queue *, const char *user);

/* queue_id_new: writes a fresh queue ID (QUEUE_ID_SIZE octets) into OUT. */
void		 queue_id_new(char out[QUEUE_ID_SIZE]);

#endif
