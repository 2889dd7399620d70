/*
 * signer.h — the DKIM keys of the configuration and the queue's signer
 * callback: every "dkim domain D selector S ..." line whose domain is the
 * From: domain signs the message (RFC 6376; dual RSA + Ed25519 signing as
 * RFC 8463 advises).  Keys are read once, before any privilege is dropped.
 * The queue calls signer_sign on a thread of its own: it reads only the
 * struct signer and what it is given, and the queue waits for it to
 * return before a reload frees the keys (queue_set_signer).
 *
 * queue/: the spool, its scheduler and the signing at commit.  Knows
 * nothing of SMTP sessions, IPC or the roles; it reaches the relay through
 * struct queue_relay_ops.
 */
#ifndef QUEUE_SIGNER_H
#define QUEUE_SIGNER_H

#include <stddef.h>

#include "queue/queue.h"

struct conf;
struct signer;

/*
 * signer_new: loads every DKIM key of CONF; errors as "file:line: message"
 * on ERRF-less log lines.  NULL on error (a key missing, unreadable, or an
 * RSA key under 1024 bits).
 */
struct signer	*signer_new(const struct conf *);
void		 signer_free(struct signer *);

/* signer_sign: a queue_signer_fn; ARG is the struct signer. */
int		 signer_sign(void *arg, const char *from_domain, const char *hdr,
		    size_t hdrlen, const struct queue_sign_input *,
		    char **prefix, size_t *prefixlen);

/* signer_has_key: a queue_signer_has_key_fn; ARG is the struct signer. */
int		 signer_has_key(void *arg, const char *from_domain);

#endif
