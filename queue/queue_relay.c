/*
 * queue_relay.c — the scheduler's link to the real relay client
 * (relay/relay.h).  Alone in its file so that programs and tests that
 * never call queue_set_relay() link without the relay.
 */
#include "queue/queue.h"
#include "relay/relay.h"

static int
ops_has_capacity(void *ctx)
{
	return relay_has_capacity(ctx);
}

static int
ops_deliver(void *ctx, uint64_t reqid, int msg_fd, const char *prefix,
    size_t prefixlen, const struct envelope *env)
{
	return relay_deliver(ctx, reqid, msg_fd, prefix, prefixlen, env);
}

static const struct queue_relay_ops relay_ops = {
	.has_capacity = ops_has_capacity,
	.deliver = ops_deliver,
};

void
queue_set_relay(struct queue *q, struct relay *relay)
{
	queue_set_relay_ops(q, &relay_ops, relay);
}
