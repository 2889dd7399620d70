/* smtp_data_reader.c — message data into lines; see smtp_data_reader.h. */
#include <string.h>

#include "lib/submitd.h"
#include "proto/smtp_data_reader.h"

void
smtp_data_reader_init(struct smtp_data_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->prev_crlf = 1;	/* the data starts at the beginning of a line */
}

enum smtp_data_unit
smtp_data_reader_next(struct smtp_data_reader *r, const char *p, size_t avail,
    size_t *n, unsigned *flags)
{
	size_t		 take, len;
	const char	*nl;
	int		 crlf;

	*n = 0;
	*flags = 0;
	if (avail == 0)
		return SDR_MORE;
	take = avail < SMTP_TEXTLINE_MAX + 1 ? avail : SMTP_TEXTLINE_MAX + 1;
	if ((nl = memchr(p, '\n', take)) == NULL) {
		if (avail <= SMTP_TEXTLINE_MAX)
			return SDR_MORE;	/* wait for the rest */
		/* No end within 1000 octets: this much, too long, move on. */
		r->mid_line = 1;
		r->last_cr = p[take - 1] == '\r';
		*n = take;
		*flags = SDR_TOO_LONG;
		return SDR_FRAGMENT;
	}
	len = (size_t)(nl - p) + 1;
	*n = len;
	if (r->mid_line) {
		/*
		 * The end of an overlong line.  Its CR may have been the last
		 * octet of the fragment before: remember it, or the "." line
		 * that follows is not seen as the end (issue 13).
		 */
		r->mid_line = 0;
		r->prev_crlf = len >= 2 ? p[len - 2] == '\r' : r->last_cr;
		*flags = SDR_TOO_LONG;
		return SDR_LINE;
	}
	crlf = len >= 2 && p[len - 2] == '\r';
	if (crlf && len == 3 && p[0] == '.' && r->prev_crlf)
		return SDR_END;
	r->prev_crlf = crlf;
	if (!crlf || memchr(p, '\r', len - 2) != NULL)
		*flags |= SDR_BARE_EOL;
	if (memchr(p, '\0', len) != NULL)
		*flags |= SDR_NUL;		/* RFC 5321 2.3.8 */
	if (len > SMTP_TEXTLINE_MAX)
		*flags |= SDR_TOO_LONG;
	return SDR_LINE;
}
