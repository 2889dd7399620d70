/* msg_header.c — header fields submission looks at; see msg_header.h. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "proto/msg_header.h"
#include "proto/smtp_parse.h"

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

/*
 * Append one addr-spec (comments and folding white space removed) after
 * checking that it is one: it must parse as an RFC 5321 mailbox.
 */
static int
add_mailbox(const char *s, size_t len, char out[][SMTP_PATH_MAX + 1],
    int *n, int max)
{
	char		 buf[SMTP_PATH_MAX + 3], chk[SMTP_PATH_MAX + 1];
	const char	*rest;
	size_t		 i, o = 1;
	int		 inq = 0, gap = 0;

	buf[0] = '<';
	for (i = 0; i < len; i++) {
		char	 c = s[i];

		if (!inq && c == '(') {
			if (skip_comment(s, len, &i) == -1)
				return -1;
			i--;
			gap = 1;
			continue;
		}
		if (!inq && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			gap = 1;
			continue;
		}
		/* White space only around '@' and '.' (RFC 5322 obs-local-part,
		 * obs-domain): "alice@example.org mallory" is no address. */
		if (gap && !inq && o > 1 && buf[o - 1] != '@' &&
		    buf[o - 1] != '.' && c != '@' && c != '.')
			return -1;
		gap = 0;
		if (c == '"')
			inq = !inq;
		if (o + 2 >= sizeof(buf))
			return -1;
		buf[o++] = c;
	}
	if (o == 1 || inq || *n >= max)
		return -1;
	buf[o++] = '>';
	buf[o] = '\0';
	if (smtp_parse_path(buf, 0, chk, sizeof(chk), &rest) == -1 || *rest != '\0')
		return -1;
	memcpy(out[*n], chk, strlen(chk) + 1);
	(*n)++;
	return 0;
}

/* Only comments and folding white space in S[a..b)? */
static int
only_cfws(const char *s, size_t a, size_t b)
{
	for (; a < b; a++) {
		if (s[a] == '(') {
			if (skip_comment(s, b, &a) == -1)
				return 0;
			a--;
		} else if (s[a] != ' ' && s[a] != '\t' && s[a] != '\r' &&
		    s[a] != '\n')
			return 0;
	}
	return 1;
}

/* A display name (phrase): no unquoted '@', '<', '>', ':' or ';'. */
static int
phrase_ok(const char *s, size_t a, size_t b)
{
	int	 inq = 0;

	for (; a < b; a++) {
		if (s[a] == '\\' && inq) {
			a++;
			continue;
		}
		if (s[a] == '"')
			inq = !inq;
		else if (!inq && s[a] == '(') {
			if (skip_comment(s, b, &a) == -1)
				return 0;
			a--;
		} else if (!inq && strchr("@<>:;,[]", s[a]) != NULL)
			return 0;
	}
	return !inq;
}

/* One list element S[a..b): "addr-spec" or "[phrase] <addr-spec> [CFWS]". */
static int
parse_element(const char *s, size_t a, size_t b, char out[][SMTP_PATH_MAX + 1],
    int *n, int max)
{
	size_t	 i, lt = 0, gt = 0;
	int	 nlt = 0, ngt = 0, inq = 0;

	if (only_cfws(s, a, b))
		return 0;	/* empty element (RFC 5322 4.4) */
	for (i = a; i < b; i++) {
		if (inq) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				inq = 0;
			continue;
		}
		if (s[i] == '"')
			inq = 1;
		else if (s[i] == '(') {
			if (skip_comment(s, b, &i) == -1)
				return -1;
			i--;
		} else if (s[i] == '<') {
			lt = i;
			nlt++;
		} else if (s[i] == '>') {
			gt = i;
			ngt++;
		}
	}
	if (inq || nlt != ngt || nlt > 1)
		return -1;
	if (nlt == 0)
		return add_mailbox(s + a, b - a, out, n, max);
	/* angle-addr: a phrase before, nothing but CFWS after */
	if (gt < lt || !phrase_ok(s, a, lt) || !only_cfws(s, gt + 1, b))
		return -1;
	return add_mailbox(s + lt + 1, gt - lt - 1, out, n, max);
}

int
msg_header_parse_mailboxes(const char *v, size_t len,
    char out[][SMTP_PATH_MAX + 1], int max)
{
	size_t	 i, start = 0;
	int	 n = 0, inq = 0, inangle = 0, ingroup = 0;

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
			inangle = 1;
			break;
		case '>':
			inangle = 0;
			break;
		case ':':
			/* group "phrase: a@b, c@d;" — once, with a real phrase */
			if (inangle || ingroup || !phrase_ok(v, start, i) ||
			    only_cfws(v, start, i))
				return -1;
			ingroup = 1;
			start = i + 1;
			break;
		case ';':
			if (!ingroup || inangle)
				return -1;
			if (parse_element(v, start, i, out, &n, max) == -1)
				return -1;
			ingroup = 0;
			/* only CFWS, or a ',' and more, may follow a group */
			start = i + 1;
			break;
		case ',':
			if (inangle)
				return -1;
			if (parse_element(v, start, i, out, &n, max) == -1)
				return -1;
			start = i + 1;
			break;
		}
	}
	if (inq || inangle || ingroup)
		return -1;
	return n;
}

/* RFC 5322 3.6: the fields with a maximum of one occurrence. */
static const char *const once_fields[] = {
	"Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"Message-ID", "In-Reply-To", "References", "Subject",
};
#define NONCE	(sizeof(once_fields) / sizeof(once_fields[0]))

static void
count_once(const char *line, size_t len, unsigned *seen,
    struct msg_header_info *info)
{
	size_t	 i, off;

	for (i = 0; i < NONCE; i++)
		if (field_is(line, len, once_fields[i], &off)) {
			if (seen[i]++ == 1 && info->dup_field[0] == '\0')
				info->dup_field = once_fields[i];
			return;
		}
}

void
msg_header_scan(const char *hdr, size_t len, struct msg_header_info *info)
{
	size_t		 pos = 0;
	unsigned	 seen[NONCE] = { 0 };

	memset(info, 0, sizeof(*info));
	info->dup_field = "";
	while (pos < len) {
		size_t	 end = pos, off;

		/* A field runs until a line that does not start with WSP. */
		for (;;) {
			const char *nl = memchr(hdr + end, '\n', len - end);

			end = nl ? (size_t)(nl - hdr) + 1 : len;
			if (end >= len || (hdr[end] != ' ' && hdr[end] != '\t'))
				break;
		}
		count_once(hdr + pos, end - pos, seen, info);
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
