/*
 * msg_header.h — what submission needs to know of a message's header
 * section (RFC 5322 3.6): its From: mailboxes, whether Date: and
 * Message-ID: are there (RFC 6409 8.2, 8.3), and whether a field that may
 * occur only once (From, Sender, Subject, To, ...) occurs twice.
 *
 * proto/: SMTP and RFC 5322 syntax, without I/O.  Sits on lib/ only: knows
 * nothing of sockets, the config, the queue or the roles.
 */
#ifndef PROTO_MSG_HEADER_H
#define PROTO_MSG_HEADER_H

#include <stddef.h>

#include "lib/submitd.h"

#define MSG_FROM_MAX	16	/* mailboxes kept from From: */

struct msg_header_info {
	int	 nfrom_fields;		/* number of From: fields */
	int	 nfrom;			/* mailboxes found in the first one */
	char	 from[MSG_FROM_MAX][SMTP_PATH_MAX + 1];
	int	 from_bad;		/* From: unparsable or too many */
	int	 has_date;
	int	 has_message_id;
	/* The first field that RFC 5322 3.6 allows once and that came
	 * twice or more, by its canonical name ("Subject"); "" if none. */
	const char *dup_field;
};

/*
 * msg_header_scan: scans the header section HDR (LEN octets of CRLF lines,
 * folded lines allowed, without the empty line) into INFO.  Never fails:
 * what it cannot read shows as from_bad.
 */
void	msg_header_scan(const char *hdr, size_t len, struct msg_header_info *info);

/*
 * msg_header_parse_mailboxes: the addr-specs of an RFC 5322 mailbox-list
 * or address-list VALUE (display names, comments, quoted strings and groups
 * handled) into OUT (at most MAX); returns the count, or -1 when the value
 * cannot be read or holds more than MAX.
 */
int	msg_header_parse_mailboxes(const char *value, size_t len,
	    char out[][SMTP_PATH_MAX + 1], int max);

#endif
