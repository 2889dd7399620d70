/*
 * rspamd.h — rspamd's /checkv2 reply (rspamd.com/doc/developers/protocol):
 * the action, the score, the SMTP message, and the header fields to add
 * or remove (the "milter" object, "subject" for rewrite subject), turned
 * into a verdict whose fields are safe to write into a message: header
 * fields as CRLF-terminated RFC 5322 fields of printable ASCII, every
 * line under 1000 octets, names of header fields as ftext.
 *
 * proto/: SMTP and RFC 5322 syntax, without I/O.  Sits on lib/ only: knows
 * nothing of sockets, the config, the queue or the roles.
 */
#ifndef PROTO_RSPAMD_H
#define PROTO_RSPAMD_H

#include <stddef.h>
#include <stdint.h>

enum rspamd_action {
	RSPAMD_NO_ACTION = 0,
	RSPAMD_GREYLIST,
	RSPAMD_ADD_HEADER,
	RSPAMD_REWRITE_SUBJECT,
	RSPAMD_SOFT_REJECT,
	RSPAMD_REJECT,
	RSPAMD_ACTION_MAX = RSPAMD_REJECT
};

#define RSPAMD_MESSAGE_MAX	200	/* octets of the SMTP text kept, with NUL */
#define RSPAMD_ADD_MAX		8192	/* header fields to add, octets */
#define RSPAMD_REMOVE_MAX	1024	/* names to remove, "\n"-separated */
#define RSPAMD_REPLY_MAX	(1024 * 1024)	/* JSON reply accepted */

/* What rspamd decided, ready for the queue (fixed size: it travels by IPC). */
struct rspamd_verdict {
	int32_t		 action;	/* enum rspamd_action */
	int32_t		 pad;
	int64_t		 score_milli;	/* score * 1000 */
	int64_t		 required_milli;
	char		 message[RSPAMD_MESSAGE_MAX];	/* "" if none */
	uint32_t	 addlen;
	char		 add[RSPAMD_ADD_MAX];		/* "Name: value\r\n"... */
	char		 remove[RSPAMD_REMOVE_MAX];	/* "Name\n"..., NUL-ended */
};

/*
 * rspamd_init: seeds the JSON parser's hash tables now (from
 * /dev/urandom): call it before a sandbox that forbids open.
 */
void	rspamd_init(void);

/* rspamd_action_name: "reject", "no action", ... as rspamd spells them. */
const char	*rspamd_action_name(int action);

/* What rspamd_reply_parse left out of a verdict, for the message's log. */
struct rspamd_left_out {
	int	 unsafe;		/* fields not writable safely */
	int	 kept;			/* changes to a kept field, ignored */
	char	 unsafe_names[256];	/* their names as rspamd gave them,
					   ","-separated, cut when long */
	char	 kept_names[128];	/* "From,Date": each kept field once,
					   in rspamd_field_kept's order */
};

/*
 * rspamd_reply_parse: the JSON reply JSON (LEN octets) into OUT; 0, or -1
 * with WHY (static text) set when it is not a reply (no action, bad JSON).
 * What cannot be applied is left out, the rest of the reply applies:
 * header fields that cannot be written safely (a control octet, NUL
 * included, in a name or value, a line break that is not a fold, 8-bit,
 * a long line), and any removal or addition of a field
 * rspamd_field_kept names; both are told in *LEFT (which may be NULL).
 * On "add header" with no milter field, "X-Spam: Yes" is added, as
 * rspamd's own milter does.
 */
int	rspamd_reply_parse(const char *json, size_t len,
	    struct rspamd_verdict *out, struct rspamd_left_out *left,
	    const char **why);

/*
 * rspamd_field_kept: 0, or the rank (1...) of NAME (LEN octets, any case)
 * among the fields a filter may neither remove nor add: From, Date,
 * Message-ID (the submission server guarantees one each, RFC 6409 8 and
 * RFC 5322 3.6; From: is what the queue checks against the login and
 * signs for), Received (trace: RFC 5321 4.4 forbids deleting it), and
 * MIME-Version, Content-Type, Content-Transfer-Encoding (they say how the
 * body reads: the filter annotates the message, it does not rewrite it).
 */
int	rspamd_field_kept(const char *name, size_t len);

/*
 * rspamd_verdict_valid: 1 when V (from another process) holds only what
 * rspamd_reply_parse can produce: action in range, strings terminated,
 * message printable ASCII, add a run of valid fields, remove valid names,
 * no kept field (rspamd_field_kept) among either.
 */
int	rspamd_verdict_valid(const struct rspamd_verdict *v);

/* rspamd_field_name_valid: NAME (LEN octets) is a header field name (ftext). */
int	rspamd_field_name_valid(const char *name, size_t len);

#endif
