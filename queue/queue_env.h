/*
 * queue_env.h — the envelope file of a queued message (queue/ID.env): a
 * versioned, line-based text format, every value checked on read.  See
 * the FILES section of submitd(8) for the format; in short:
 *
 *	submitd-envelope 1
 *	id: 63F1A2B3C4D5E7A09F1
 *	created: 1764427847
 *	user: alice@example.org
 *	client: 192.0.2.7
 *	helo: laptop.example.org
 *	reverse-path: alice@example.org
 *	from-domain: example.org
 *	body: 8bitmime
 *	smtputf8: yes			(optional: RFC 6531, UTF-8 paths)
 *	size: 1234
 *	attempts: 0
 *	next-try: 1764427847
 *	last-try: 1764427547		(optional: after the first attempt)
 *	hold: yes			(optional: not scheduled until released)
 *	warned: yes			(optional: delay warning sent)
 *	bounce: yes			(optional: this message is itself a DSN)
 *	dkim: <base64 of the header fields sent before the message file>
 *	rcpt: pending bob@example.net
 *	reply: 451 4.3.0 try again later
 *	rcpt: done carol@example.net
 *	reply: 250 2.1.5 Ok
 *	end
 *
 * queue/: the spool, its scheduler and the signing at commit.  Knows
 * nothing of SMTP sessions, IPC or the roles; it reaches the relay through
 * struct queue_relay_ops.
 */
#ifndef QUEUE_QUEUE_ENV_H
#define QUEUE_QUEUE_ENV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/submitd.h"

#define QUEUE_ENV_VERSION	1
#define QUEUE_ENV_RCPT_MAX	10000		/* recipients per envelope */
#define QUEUE_PREFIX_MAX	16384		/* DKIM prefix, octets */
#define QUEUE_ENV_FILE_MAX	(16 * 1024 * 1024)	/* envelope file, octets */
#define QUEUE_ATTEMPTS_MAX	1000000

/* An envelope as the queue keeps it on disk. */
struct queue_env {
	struct envelope	 env;
	uint32_t	 attempts;	/* delivery attempts made so far */
	time_t		 next_try;	/* seconds since the epoch */
	time_t		 last_try;	/* 0: never tried */
	int		 hold;		/* held by the operator */
	int		 warned;	/* delay warning sent */
	int		 bounce;	/* a DSN: never bounced itself */
	char		*prefix;	/* malloc'd DKIM header fields, or NULL */
	size_t		 prefixlen;
};

/* queue_env_free: frees what QE owns (rcpt, prefix), not the struct. */
void	queue_env_free(struct queue_env *qe);

/* queue_env_copy: deep copy of ENV into *OUT (zeroed first); 0 or -1. */
int	queue_env_copy(struct envelope *out, const struct envelope *env);

/* queue_env_pending: how many recipients of ENV are still RCPT_PENDING. */
size_t	queue_env_pending(const struct envelope *env);

/*
 * queue_env_format: the file's text for QE into a new malloc'd *BUF of
 * *LEN octets.  -1 with errno EINVAL when a field would not read back
 * (control characters, too long, no recipients), ENOMEM on allocation.
 */
int	queue_env_format(const struct queue_env *qe, char **buf, size_t *len);

/*
 * queue_env_parse: reads BUF (LEN octets) into *QE (zeroed first; free
 * with queue_env_free).  When ID is not NULL the file's id must equal it.
 * Returns 0, or -1 with *WHY set to a short static reason (anything not
 * exactly as written by queue_env_format: unknown or repeated key, value
 * too long or with control characters, bad number or state, no "end").
 */
int	queue_env_parse(const char *buf, size_t len, const char *id,
	    struct queue_env *qe, const char **why);

/*
 * queue_env_read: reads and parses DIRFD/ID.env.  Returns 0; -1 with
 * *WHY NULL and errno set on an I/O error (ENOENT when missing); -1 with
 * *WHY set when the file is corrupt.
 */
int	queue_env_read(int dirfd, const char *id, struct queue_env *qe,
	    const char **why);

/*
 * queue_env_write: writes QE atomically as DIRFD/ID.env: ID.env.tmp
 * (0600, truncated), fsync, rename; then fsync(DIRFD) when SYNCDIR.  On
 * failure returns -1 with errno set, ID.env.tmp removed, and any old
 * ID.env untouched.
 */
int	queue_env_write(int dirfd, const char *id, const struct queue_env *qe,
	    int syncdir);
/*
 * queue_env_write_tmp: the first half of queue_env_write for the group
 * commit (queue_commit.c): QE written into DIRFD/ID.env.tmp (0600,
 * truncated), neither synced nor renamed.  Its fd (the caller closes it),
 * or -1 with errno set and nothing left behind.
 */
int	queue_env_write_tmp(int dirfd, const char *id, const struct queue_env *qe);

#endif
