/*
 * queue_filter.h — the queue role's side of the content filter (issue
 * 16): between the end of DATA and the commit, each message goes to the
 * filter role as a read-only fd; rspamd's verdict then decides what the
 * client hears:
 *
 *   reject, discard, quarantine 550 5.7.1 rspamd's text; nothing queued
 *   soft reject, greylist       451 4.7.1; nothing queued
 *   add header, rewrite subject the fields rspamd gave added/removed
 *                               (never From, Date, Message-ID, Received
 *                               nor the MIME fields: rspamd_field_kept),
 *                               then signed and committed (250)
 *   no action                   committed as it is (250)
 *   no answer (down, timeout)   on-error tempfail: 451 4.7.1 (default);
 *                               on-error accept: committed; both log
 *                               event=alert kind=filter-down
 *
 * smtpd/, the top floor: the daemon itself.
 */
#ifndef SMTPD_QUEUE_FILTER_H
#define SMTPD_QUEUE_FILTER_H

#include <stdint.h>

#include "queue/queue.h"

struct conf;
struct ipc;
struct ipc_msg;

/* What the queue role does once the filter has spoken. */
struct queue_filter_ops {
	/* commit ENV (SIGN as the filter left it) for the smtp request */
	void	(*commit)(uint64_t smtp_reqid, const struct envelope *,
		    const struct queue_sign_input *);
	/* answer the smtp request without a commit (the file is gone) */
	void	(*answer)(uint64_t smtp_reqid, enum queue_status,
		    const char *queue_id, const char *text);
};

/* queue_filter_init: FILTER is the channel to the filter role. */
void	queue_filter_init(struct queue *, const struct conf *,
	    struct ipc *filter, const struct queue_filter_ops *);
/*
 * queue_filter_set_conf: the config after a reload (issue 14): on-error
 * follows it.  The filter role itself (URL, timeout) and whether there is
 * one at all are fixed at start: a change there needs a restart.
 */
void	queue_filter_set_conf(const struct conf *);
/*
 * queue_filter_check: sends the message of ENV to the filter; the
 * queue_filter_ops callbacks finish the request later.  ENV is taken
 * (envelope_free'd when done).  -1 when it could not be sent: the caller
 * commits as without a filter (ENV is still the caller's).
 */
int	queue_filter_check(uint64_t smtp_reqid, struct envelope *env,
	    const struct queue_sign_input *);
/* queue_filter_result: an IPC_FILTER_RESULT from the filter role. */
void	queue_filter_result(const struct ipc_msg *);

struct evbuffer;
/*
 * queue_filter_show: "submitctl show filter": per login since start,
 * messages scanned, rejected (550), tempfailed (451: soft reject or
 * greylist), with headers changed, and filter errors (no answer, whatever
 * on-error then did); text for people or JSON.
 */
void	queue_filter_show(int json, struct evbuffer *out);
/*
 * queue_filter_metrics: the same counters for the metrics endpoint
 * (issue 15), appended to the queue role's answer to "metrics": totals
 * by result, and rejects per login.  Nothing without a filter.
 */
void	queue_filter_metrics(struct evbuffer *out);

#endif
