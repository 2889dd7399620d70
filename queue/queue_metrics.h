/*
 * queue_metrics.h — the queue role's counters for the metrics endpoint
 * (issue 15): messages accepted and their octets, what the upstream
 * answered per recipient (by class), DSNs sent, and how long accepted
 * mail waited until the upstream's 250.  The queue's own state (messages
 * by state, the oldest one's age) is read from the queue when printed
 * (queue_ctl.c, "metrics").
 *
 * queue/: includes lib/ (and the floors below it) only.
 */
#ifndef QUEUE_QUEUE_METRICS_H
#define QUEUE_QUEUE_METRICS_H

#include <stdint.h>
#include <time.h>

struct evbuffer;

/* A message committed (SIZE octets). */
void	queue_metrics_accepted(uint64_t size);
/* The upstream's reply CODE for one recipient (0: no reply at all). */
void	queue_metrics_reply(int code);
/*
 * A recipient refused by the upstream with CODE (4xx or 5xx), SUBJECT the
 * RFC 3463 subject of its enhanced code (X.SUBJECT.Z: 1 addressing, 2
 * mailbox, 7 policy...), -1 when the reply had none.
 */
void	queue_metrics_refused(int code, int subject);
/* A recipient delivered, of a message accepted at CREATED. */
void	queue_metrics_delivered(time_t created, time_t now);
/* A DSN queued. */
void	queue_metrics_dsn(void);
void	queue_metrics_print(struct evbuffer *);

struct queue;
/* The oldest message's creation time (0: the queue is empty). */
time_t	queue_metrics_oldest(const struct queue *);
/*
 * queue_metrics_start: with "alert queue-age DUR", a timer that logs one
 * event=alert kind=queue-age line when the oldest message gets older
 * than DUR, and again only once the queue has been younger since.
 */
void	queue_metrics_start(struct queue *);

#endif
