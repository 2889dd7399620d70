/*
 * smtp_data_reader.h — the receiving side of RFC 5321 4.1.1.4 and 4.5.2:
 * cuts message data, as it arrives in chunks of any size, into lines, says
 * what is wrong with each (bare CR or LF, NUL, over 1000 octets) and where
 * the data ends.  Only <CRLF>.<CRLF> ends it: no look-alike does (SMTP
 * smuggling).  What it decides depends on the octets only, never on how
 * they were split into reads: a CR that ends one read and the LF that
 * starts the next are one line end.
 *
 * proto/: SMTP and RFC 5322 syntax, without I/O.  Sits on lib/ only: knows
 * nothing of sockets, the config, the queue or the roles.
 */
#ifndef PROTO_SMTP_DATA_READER_H
#define PROTO_SMTP_DATA_READER_H

#include <stddef.h>

struct smtp_data_reader {
	int	 prev_crlf;	/* the last line ended in CRLF */
	int	 mid_line;	/* inside an overlong line */
	int	 last_cr;	/* that line's last fragment ended in CR */
};

enum smtp_data_unit {
	SDR_MORE = 0,		/* wait for more octets */
	SDR_LINE,		/* a line, LF included */
	SDR_FRAGMENT,		/* 1001 octets of a line without its end yet */
	SDR_END,		/* the final "." line: the data ends */
};

/* What is wrong with a line (flags). */
#define SDR_BARE_EOL	0x01	/* a CR not before LF, or LF without CR */
#define SDR_NUL		0x02	/* a NUL octet */
#define SDR_TOO_LONG	0x04	/* over 1000 octets with CRLF */

void	smtp_data_reader_init(struct smtp_data_reader *);
/*
 * smtp_data_reader_next: looks at the first AVAIL octets of the input P and
 * says what comes first; *N is how many octets that is (the caller removes
 * them; 0 with SDR_MORE), *FLAGS what is wrong with it.  A line with
 * SDR_TOO_LONG set is the end of an overlong line (the fragments came
 * before).  Lines still carry their dot-stuffing.
 */
enum smtp_data_unit smtp_data_reader_next(struct smtp_data_reader *,
	    const char *p, size_t avail, size_t *n, unsigned *flags);

#endif
