/* msg_header.c — header fields submission looks at; see msg_header.h. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "smtpd/msg_header.h"

/* Field name match at the start of a line: "From:" with optional WSP before ':'. */
static int
field_is(const char *line, size_t len, const char *name, size_t *valoff)
{
	size_t	 n = strlen(name), i;

	if (len < n + 1 || strncasecmp(line, name, n) != 0)
		return 0;
	for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i >= len || line[i] != ':')
		return 0;
	*valoff = i + 1;
	return 1;
}

/* Skip a (possibly nested) comment starting at s[*i] == '('. */
static int
skip_comment(const char *s, size_t len, size_t *i)
{
	int	 depth = 0;

	for (; *i < len; (*i)++) {
		if (s[*i] == '\\')
			(*i)++;
		else if (s[*i] == '(')
			depth++;
		else if (s[*i] == ')' && --depth == 0) {
			(*i)++;
			return 0;
		}
	}
	return -1;
}

/* Append one addr-spec (comments and folding white space removed). */
static int
add_mailbox(const char *s, size_t len, char out[][SMTP_PATH_MAX + 1],
    int *n, int max)
{
	char	 buf[SMTP_PATH_MAX + 1];
	size_t	 i, o = 0;
	int	 inq = 0;

	for (i = 0; i < len; i++) {
		char	 c = s[i];

		if (!inq && c == '(') {
			if (skip_comment(s, len, &i) == -1)
				return -1;
			i--;
			continue;
		}
		if (c == '"')
			inq = !inq;
		if (!inq && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (o + 1 >= sizeof(buf))
			return -1;
		buf[o++] = c;
	}
	buf[o] = '\0';
	if (o == 0)
		return 0;	/* empty list element */
	if (inq || strchr(buf, '@') == NULL || *n >= max)
		return -1;
	memcpy(out[*n], buf, o + 1);
	(*n)++;
	return 0;
}

int
msg_header_parse_mailboxes(const char *v, size_t len,
    char out[][SMTP_PATH_MAX + 1], int max)
{
	size_t	 i, start = 0;
	int	 n = 0, inq = 0;
	const char *angle = NULL;

	for (i = 0; i <= len; i++) {
		char	 c = i < len ? v[i] : ',';

		if (inq) {
			if (c == '\\')
				i++;
			else if (c == '"')
				inq = 0;
			continue;
		}
		switch (c) {
		case '"':
			inq = 1;
			break;
		case '(':
			if (skip_comment(v, len, &i) == -1)
				return -1;
			i--;
			break;
		case '<':
			angle = v + i + 1;
			break;
		case ':':	/* group "name: a@b, c@d;" */
			if (angle == NULL)
				start = i + 1;
			break;
		case ',':
		case ';':
			if (angle != NULL) {
				const char *end = memchr(angle, '>',
				    (v + i) - angle);

				if (end == NULL)
					return -1;
				if (add_mailbox(angle, end - angle, out, &n,
				    max) == -1)
					return -1;
			} else if (add_mailbox(v + start, i - start, out, &n,
			    max) == -1)
				return -1;
			angle = NULL;
			start = i + 1;
			break;
		}
	}
	return inq ? -1 : n;
}

void
msg_header_scan(const char *hdr, size_t len, struct msg_header_info *info)
{
	size_t	 pos = 0;

	memset(info, 0, sizeof(*info));
	while (pos < len) {
		size_t	 end = pos, off;

		/* A field runs until a line that does not start with WSP. */
		for (;;) {
			const char *nl = memchr(hdr + end, '\n', len - end);

			end = nl ? (size_t)(nl - hdr) + 1 : len;
			if (end >= len || (hdr[end] != ' ' && hdr[end] != '\t'))
				break;
		}
		if (field_is(hdr + pos, end - pos, "From", &off)) {
			if (info->nfrom_fields++ == 0) {
				int	 n;

				n = msg_header_parse_mailboxes(hdr + pos + off,
				    end - pos - off, info->from, MSG_FROM_MAX);
				if (n <= 0)
					info->from_bad = 1;
				else
					info->nfrom = n;
			}
		} else if (field_is(hdr + pos, end - pos, "Date", &off))
			info->has_date = 1;
		else if (field_is(hdr + pos, end - pos, "Message-ID", &off))
			info->has_message_id = 1;
		pos = end;
	}
}
