/*
 * submitd.h — types every role of submitd shares: limits, the queue ID and
 * the envelope.  Nothing here does anything; modules include it for the
 * vocabulary.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef SUBMITD_H
#define SUBMITD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SUBMITD_VERSION		"0.1"

/* RFC 5321 4.5.3.1: size limits, in octets. */
#define SMTP_LOCALPART_MAX	64
#define SMTP_DOMAIN_MAX		255
#define SMTP_PATH_MAX		256	/* reverse-path / forward-path */
#define SMTP_CMDLINE_MAX	512	/* command line with CRLF */
#define SMTP_TEXTLINE_MAX	1000	/* text line with CRLF */
#define SMTP_REPLYLINE_MAX	512

/* Our own bounds. */
#define AUTH_USER_MAX		256	/* login name, octets */
#define AUTH_PASS_MAX		256	/* password, octets */
#define AUTH_SENDERS_MAX	1024	/* comma-separated sender patterns */
#define HEADER_SECTION_MAX	(256 * 1024)	/* header section kept in memory */
#define SMTP_OUTPUT_MAX		(64 * 1024)	/* replies waiting for a slow reader */
/* Forward-path octets of one message: its envelope must fit one IPC packet. */
#define ENVELOPE_RCPT_BYTES_MAX	(40 * 1024)

/*
 * Queue ID: 13 hex digits of microseconds since the epoch, then 6 random hex
 * digits: short, unique across restarts and hosts, sortable by time.
 */
#define QUEUE_ID_LEN		19
#define QUEUE_ID_SIZE		(QUEUE_ID_LEN + 1)

/*
 * DKIM signing algorithms (RFC 8301, RFC 8463): named by the config
 * ("dkim ... rsa | ed25519"), implemented by dkim/.
 */
enum dkim_alg { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 };

enum rcpt_state {
	RCPT_PENDING = 0,	/* not yet accepted by the smarthost */
	RCPT_DONE,		/* smarthost answered 2xx */
	RCPT_FAILED,		/* smarthost answered 5xx, or lifetime over */
};

struct envelope_rcpt {
	char		 forward_path[SMTP_PATH_MAX + 1];
	enum rcpt_state	 state;
	char		 last_reply[SMTP_REPLYLINE_MAX];
};

/* What the SMTP session hands the queue with a message. */
struct envelope {
	char		 queue_id[QUEUE_ID_SIZE];
	char		 user[AUTH_USER_MAX + 1];	/* who logged in */
	char		 client_addr[64];		/* numeric peer address */
	char		 helo[SMTP_DOMAIN_MAX + 1];
	char		 reverse_path[SMTP_PATH_MAX + 1];	/* "" for <> */
	char		 from_domain[SMTP_DOMAIN_MAX + 1];	/* From: header's */
	int		 body_8bitmime;
	int		 smtputf8;	/* RFC 6531: MAIL ... SMTPUTF8 given; paths
					   may hold UTF-8, else ASCII only */
	time_t		 created;	/* seconds since the epoch */
	uint64_t	 size;		/* message file, octets */
	size_t		 nrcpt;
	struct envelope_rcpt *rcpt;	/* nrcpt entries, malloc'd */
};

/* envelope_free: frees what an envelope owns (rcpt), not the struct. */
void	envelope_free(struct envelope *);

#endif
