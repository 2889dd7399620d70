/*
 * smtp_client_reply.c — upstream SMTP replies and EHLO keywords; see
 * smtp_client_reply.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "proto/smtp_client_reply.h"

void
smtp_client_reply_init(struct smtp_client_reply *r)
{
	struct smtp_client_caps	*caps = r->caps;

	memset(r, 0, sizeof(*r));
	r->caps = caps;
}

/* The 3-digit code at LINE (RFC 5321 4.2: 2yz..5yz, second digit 0..5). */
static int
reply_code(const char *line, size_t len)
{
	if (len < 3)
		return -1;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Keep "CODE text" of the first line, printable and safe to quote. */
static void
reply_keep_text(struct smtp_client_reply *r, const char *line, size_t len)
{
	size_t	 i;

	if (len > sizeof(r->text) - 1)
		len = sizeof(r->text) - 1;
	for (i = 0; i < len; i++) {
		unsigned char	 c = line[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			c = '?';
		r->text[i] = c;
	}
	r->text[len] = '\0';
	if (len > 3 && r->text[3] == '-')
		r->text[3] = ' ';
}

int
smtp_client_reply_line(struct smtp_client_reply *r, const char *line,
    size_t len)
{
	int	 code, last;

	if (r->done || len > SMTP_REPLYLINE_MAX - 2 ||
	    r->nlines >= SMTP_REPLY_LINES_MAX)
		return -1;
	if (memchr(line, '\0', len) != NULL)
		return -1;
	if ((code = reply_code(line, len)) == -1)
		return -1;
	if (len == 3 || line[3] == ' ')
		last = 1;
	else if (line[3] == '-')
		last = 0;
	else
		return -1;
	if (r->nlines == 0) {
		r->code = code;
		reply_keep_text(r, line, len);
	} else if (code != r->code)
		return -1;
	else if (r->caps != NULL && len > 4)
		smtp_client_ehlo_keyword(r->caps, line + 4, len - 4);
	r->nlines++;
	r->done = last;
	return last;
}

int
smtp_client_reply_read(struct evbuffer *in, struct smtp_client_reply *r)
{
	char			 line[SMTP_REPLYLINE_MAX];
	struct evbuffer_ptr	 eol;
	size_t			 eol_len, len;
	int			 rv;

	for (;;) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) > SMTP_REPLYLINE_MAX - 2)
				return -1;
			return 0;
		}
		len = eol.pos;
		if (len > SMTP_REPLYLINE_MAX - 2)
			return -1;
		if (evbuffer_remove(in, line, len) != (int)len)
			return -1;
		evbuffer_drain(in, eol_len);
		if ((rv = smtp_client_reply_line(r, line, len)) != 0)
			return rv;
	}
}

/* Is WORD (LEN octets) the keyword KW, case-insensitively? */
static int
word_is(const char *word, size_t len, const char *kw)
{
	return strlen(kw) == len && strncasecmp(word, kw, len) == 0;
}

/* SIZE's argument (RFC 1870 4): digits, at most 20 of them. */
static uint64_t
size_arg(const char *p, size_t len)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < len && i < 19; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	return i == len ? v : 0;
}

void
smtp_client_ehlo_keyword(struct smtp_client_caps *caps, const char *text,
    size_t len)
{
	size_t	 i = 0, start, klen;
	int	 auth = 0, size = 0, nword = 0;

	while (i < len) {
		while (i < len && (text[i] == ' ' || text[i] == '='))
			i++;
		start = i;
		while (i < len && text[i] != ' ' &&
		    !(nword == 0 && text[i] == '='))
			i++;
		if ((klen = i - start) == 0)
			break;
		if (nword == 0) {
			/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN". */
			if (word_is(text + start, klen, "AUTH"))
				auth = 1;
			else if (word_is(text + start, klen, "PIPELINING"))
				caps->flags |= SMTP_CAP_PIPELINING;
			else if (word_is(text + start, klen, "8BITMIME"))
				caps->flags |= SMTP_CAP_8BITMIME;
			else if (word_is(text + start, klen, "STARTTLS"))
				caps->flags |= SMTP_CAP_STARTTLS;
			else if (word_is(text + start, klen, "SMTPUTF8"))
				caps->flags |= SMTP_CAP_SMTPUTF8;
			else if (word_is(text + start, klen, "SIZE")) {
				caps->flags |= SMTP_CAP_SIZE;
				size = 1;
			}
			else
				return;
		} else if (auth && word_is(text + start, klen, "PLAIN"))
			caps->flags |= SMTP_CAP_AUTH_PLAIN;
		else if (auth && word_is(text + start, klen, "LOGIN"))
			caps->flags |= SMTP_CAP_AUTH_LOGIN;
		else if (size && nword == 1)
			caps->size_max = size_arg(text + start, klen);
		nword++;
	}
}
