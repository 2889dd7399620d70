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

/*
 * rspamd_reply_parse: the JSON reply JSON (LEN octets) into OUT; 0, or -1
 * with WHY (static text) set when it is not a reply (no action, bad JSON).
 * Header fields that cannot be written safely are left out (counted in
 * *DROPPED, which may be NULL); on "add header" with no milter field,
 * "X-Spam: Yes" is added, as rspamd's own milter does.
 */
int	rspamd_reply_parse(const char *json, size_t len,
	    struct rspamd_verdict *out, int *dropped, const char **why);

/*
 * rspamd_verdict_valid: 1 when V (from another process) holds only what
 * rspamd_reply_parse can produce: action in range, strings terminated,
 * message printable ASCII, add a run of valid fields, remove valid names.
 */
int	rspamd_verdict_valid(const struct rspamd_verdict *v);

/* rspamd_field_name_valid: NAME (LEN octets) is a header field name (ftext). */
int	rspamd_field_name_valid(const char *name, size_t len);

#endif
