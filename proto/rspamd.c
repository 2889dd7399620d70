/* rspamd.c — rspamd's /checkv2 reply as a verdict; see rspamd.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "proto/rspamd.h"

#define LINE_MAX_OCTETS	998	/* RFC 5322 2.1.1, without CRLF */

static const char *const action_names[] = {
	[RSPAMD_NO_ACTION] = "no action",
	[RSPAMD_GREYLIST] = "greylist",
	[RSPAMD_ADD_HEADER] = "add header",
	[RSPAMD_REWRITE_SUBJECT] = "rewrite subject",
	[RSPAMD_SOFT_REJECT] = "soft reject",
	[RSPAMD_REJECT] = "reject",
};

/* rspamd's SCORE (points) in milli-points, clamped to +-1e15 (a double
 * past int64's range converts to nothing defined). */
static int64_t
milli(double score)
{
	if (!(score > -1e12))
		return -1000000000000000LL;
	if (score > 1e12)
		return 1000000000000000LL;
	return (int64_t)(score * 1000);
}

void
rspamd_init(void)
{
	json_object_seed(0);
}

const char *
rspamd_action_name(int action)
{
	if (action < 0 || action > RSPAMD_ACTION_MAX)
		return "?";
	return action_names[action];
}

int
rspamd_field_name_valid(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 76)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 33 ||
		    (unsigned char)name[i] > 126 || name[i] == ':')
			return 0;
	return 1;
}

/* rspamd_field_kept's fields, in the order kept_names lists them. */
static const char *const kept_fields[] = {
	"From", "Date", "Message-ID", "Received",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
};
#define NKEPT	(sizeof(kept_fields) / sizeof(kept_fields[0]))

int
rspamd_field_kept(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < NKEPT; i++)
		if (strlen(kept_fields[i]) == len &&
		    strncasecmp(kept_fields[i], name, len) == 0)
			return (int)i + 1;
	return 0;
}

/* Appends NAME to LIST (SIZE octets, ","-separated); "..." once full. */
static void
note_name(char *list, size_t size, const char *name)
{
	size_t	 have = strlen(list);
	int	 n;

	if (have + 4 >= size)
		return;		/* already cut */
	n = snprintf(list + have, size - have, "%s%s", have ? "," : "", name);
	if (n < 0 || (size_t)n >= size - have)
		memcpy(list + size - 4, "...", 4);
}

/*
 * A change rspamd asks to field NAME: 1 when NAME is a kept field (the
 * change is ignored, told in LEFT), else 0.
 */
static int
kept_change(struct rspamd_left_out *left, unsigned *mask, const char *name)
{
	int	 rank = rspamd_field_kept(name, strlen(name));

	if (rank == 0)
		return 0;
	*mask |= 1u << (rank - 1);
	left->kept++;
	return 1;
}

/*
 * The reply with what jansson would refuse inside a string made readable,
 * into OUT (NULL: only counted); its length, *CHANGED the number of
 * changes.  "\u0000" becomes "\u0001": jansson refuses a NUL in an
 * object key whatever its flags, and a C string would end there.  A raw
 * control octet inside a string (not JSON, but an emitter may leave one)
 * becomes its \u00XX escape (a raw NUL \u0001).  Either way a header
 * field holding one is then dropped like any other with a control octet,
 * and the action and the rest of the reply still apply.
 */
static size_t
controls_pass(const char *text, size_t len, char *out, int *changed)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, n = 0;
	int			 in = 0;

	*changed = 0;
	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)text[i];

		if (in && c == '\\' && i + 1 < len) {
			if (len - i >= 6 && memcmp(text + i + 1, "u0000", 5) == 0) {
				if (out != NULL)
					memcpy(out + n, "\\u0001", 6);
				n += 6;
				i += 5;
				(*changed)++;
				continue;
			}
			if (out != NULL) {	/* the escape, whole */
				out[n] = '\\';
				out[n + 1] = text[i + 1];
			}
			n += 2;
			i++;
			continue;
		}
		if (in && c < 0x20) {
			if (c == 0)
				c = 1;
			if (out != NULL) {
				memcpy(out + n, "\\u00", 4);
				out[n + 4] = hex[c >> 4];
				out[n + 5] = hex[c & 15];
			}
			n += 6;
			(*changed)++;
			continue;
		}
		if (c == '"')
			in = !in;
		if (out != NULL)
			out[n] = (char)c;
		n++;
	}
	return n;
}

/* The SMTP text: printable ASCII, at most RSPAMD_MESSAGE_MAX - 1 octets. */
static void
message_copy(char *dst, const char *src)
{
	size_t	 i, n = 0;

	for (i = 0; src[i] != '\0' && n < RSPAMD_MESSAGE_MAX - 1; i++)
		dst[n++] = ((unsigned char)src[i] >= 32 &&
		    (unsigned char)src[i] < 127) ? src[i] : ' ';
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/*
 * Appends "NAME: VALUE\r\n" to V->add, folding kept (any CR/LF followed
 * by SP or HT becomes CRLF + that), or nothing when the field cannot be
 * written safely: 0 added, -1 dropped.
 */
static int
add_field(struct rspamd_verdict *v, const char *name, const char *value)
{
	char	 buf[RSPAMD_ADD_MAX];
	size_t	 n, col, i, nlen = strlen(name);

	if (!rspamd_field_name_valid(name, nlen) ||
	    nlen + 2 >= sizeof(buf))
		return -1;
	memcpy(buf, name, nlen);
	buf[nlen] = ':';
	buf[nlen + 1] = ' ';
	n = col = nlen + 2;
	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (n + 4 >= sizeof(buf))
			return -1;
		if (c == '\r' || c == '\n') {
			/* A line break must be a fold: CR? LF then WSP. */
			if (c == '\r' && value[i + 1] == '\n')
				i++;
			if (value[i + 1] != ' ' && value[i + 1] != '\t')
				return -1;
			buf[n++] = '\r';
			buf[n++] = '\n';
			col = 0;
			continue;
		}
		if (c != '\t' && (c < 32 || c > 126))
			return -1;
		if (++col > LINE_MAX_OCTETS)
			return -1;
		buf[n++] = (char)c;
	}
	buf[n++] = '\r';
	buf[n++] = '\n';
	if (v->addlen + n > sizeof(v->add) - 1)
		return -1;
	memcpy(v->add + v->addlen, buf, n);
	v->addlen += (uint32_t)n;
	v->add[v->addlen] = '\0';
	return 0;
}

static int
remove_name(struct rspamd_verdict *v, const char *name)
{
	size_t	 have = strlen(v->remove), nlen = strlen(name);

	if (!rspamd_field_name_valid(name, nlen) ||
	    have + nlen + 2 > sizeof(v->remove))
		return -1;
	memcpy(v->remove + have, name, nlen);
	v->remove[have + nlen] = '\n';
	v->remove[have + nlen + 1] = '\0';
	return 0;
}

/* One add_headers value: "v", {"value": "v", "order": n}, or an array. */
static int
add_json(struct rspamd_verdict *v, const char *name, json_t *val)
{
	json_t	*x;
	size_t	 i;
	int	 bad = 0;

	if (json_is_string(val))
		return add_field(v, name, json_string_value(val)) == -1;
	if (json_is_object(val)) {
		x = json_object_get(val, "value");
		if (!json_is_string(x))
			return 1;
		return add_field(v, name, json_string_value(x)) == -1;
	}
	if (json_is_array(val)) {
		json_array_foreach(val, i, x)
			bad += add_json(v, name, x);
		return bad;
	}
	return 1;
}

int
rspamd_reply_parse(const char *text, size_t len, struct rspamd_verdict *out,
    struct rspamd_left_out *left, const char **why)
{
	struct rspamd_left_out	 lo;
	json_t			*root, *x, *milter, *val;
	json_error_t		 err;
	const char		*act, *key;
	char			*fixed = NULL;
	size_t			 i, flen;
	unsigned		 kept = 0;
	uint32_t		 addlen;
	int			 a, bad, had_add = 0, changed;

	memset(out, 0, sizeof(*out));
	memset(&lo, 0, sizeof(lo));
	if (left != NULL)
		*left = lo;
	if (len > RSPAMD_REPLY_MAX) {
		*why = "reply too large";
		return -1;
	}
	flen = controls_pass(text, len, NULL, &changed);
	if (changed > 0) {
		if ((fixed = malloc(flen)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		controls_pass(text, len, fixed, &changed);
		text = fixed;
		len = flen;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	free(fixed);		/* jansson made its own copies */
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		*why = "reply is not a JSON object";
		return -1;
	}
	x = json_object_get(root, "action");
	if (!json_is_string(x)) {
		json_decref(root);
		*why = "reply has no action";
		return -1;
	}
	act = json_string_value(x);
	for (a = 0; a <= RSPAMD_ACTION_MAX; a++)
		if (strcasecmp(act, action_names[a]) == 0)
			break;
	/*
	 * "discard" (drop it, say it went) and "quarantine" (keep it aside):
	 * either way it must not leave, and a relay never drops after a 250:
	 * refused as a reject is.
	 */
	if (strcasecmp(act, "discard") == 0 ||
	    strcasecmp(act, "quarantine") == 0)
		a = RSPAMD_REJECT;
	if (a > RSPAMD_ACTION_MAX) {
		json_decref(root);
		*why = "unknown action";
		return -1;
	}
	out->action = a;
	if (json_is_number(x = json_object_get(root, "score")))
		out->score_milli = milli(json_number_value(x));
	if (json_is_number(x = json_object_get(root, "required_score")))
		out->required_milli = milli(json_number_value(x));
	x = json_object_get(root, "messages");
	if (json_is_object(x) &&
	    json_is_string(val = json_object_get(x, "smtp_message")))
		message_copy(out->message, json_string_value(val));
	milter = json_object_get(root, "milter");
	if (json_is_object(milter)) {
		x = json_object_get(milter, "remove_headers");
		if (json_is_object(x))
			json_object_foreach(x, key, val) {
				if (kept_change(&lo, &kept, key))
					continue;
				if (remove_name(out, key) == -1) {
					lo.unsafe++;
					note_name(lo.unsafe_names,
					    sizeof(lo.unsafe_names), key);
				}
			}
		x = json_object_get(milter, "add_headers");
		if (json_is_object(x))
			json_object_foreach(x, key, val) {
				had_add = 1;
				if (kept_change(&lo, &kept, key))
					continue;
				if ((bad = add_json(out, key, val)) > 0) {
					lo.unsafe += bad;
					note_name(lo.unsafe_names,
					    sizeof(lo.unsafe_names), key);
				}
			}
	}
	if (out->action == RSPAMD_REWRITE_SUBJECT &&
	    json_is_string(x = json_object_get(root, "subject"))) {
		addlen = out->addlen;
		if (add_field(out, "Subject", json_string_value(x)) == -1 ||
		    remove_name(out, "Subject") == -1) {
			out->addlen = addlen;	/* the old one stays, alone */
			out->add[addlen] = '\0';
			lo.unsafe++;
			note_name(lo.unsafe_names, sizeof(lo.unsafe_names),
			    "Subject");
		}
	}
	if (out->action == RSPAMD_ADD_HEADER && !had_add &&
	    add_field(out, "X-Spam", "Yes") == -1)
		lo.unsafe++;
	json_decref(root);
	for (i = 0; i < NKEPT; i++)
		if (kept & (1u << i))
			note_name(lo.kept_names, sizeof(lo.kept_names),
			    kept_fields[i]);
	if (left != NULL)
		*left = lo;
	return 0;
}

/* Each line of the fields in ADD ends with CRLF, continuation lines fold. */
static int
fields_valid(const char *add, size_t len)
{
	size_t	 i = 0, start, col;

	while (i < len) {
		start = i;
		while (i < len && add[i] != ':')
			i++;
		if (i == len ||
		    !rspamd_field_name_valid(add + start, i - start) ||
		    rspamd_field_kept(add + start, i - start))
			return 0;
		for (;;) {	/* the lines of this field */
			for (col = 0; i < len && add[i] != '\r'; i++, col++) {
				unsigned char c = (unsigned char)add[i];

				if ((c != '\t' && (c < 32 || c > 126)) ||
				    col >= LINE_MAX_OCTETS)
					return 0;
			}
			if (i + 1 >= len || add[i + 1] != '\n')
				return 0;
			i += 2;
			if (i < len && (add[i] == ' ' || add[i] == '\t'))
				continue;
			break;
		}
	}
	return 1;
}

int
rspamd_verdict_valid(const struct rspamd_verdict *v)
{
	size_t	 i, start;

	if (v->action < 0 || v->action > RSPAMD_ACTION_MAX ||
	    memchr(v->message, '\0', sizeof(v->message)) == NULL ||
	    v->addlen >= sizeof(v->add) || v->add[v->addlen] != '\0' ||
	    memchr(v->remove, '\0', sizeof(v->remove)) == NULL)
		return 0;
	for (i = 0; v->message[i] != '\0'; i++)
		if ((unsigned char)v->message[i] < 32 ||
		    (unsigned char)v->message[i] > 126)
			return 0;
	if (!fields_valid(v->add, v->addlen))
		return 0;
	for (i = start = 0; v->remove[i] != '\0'; i++)
		if (v->remove[i] == '\n') {
			if (!rspamd_field_name_valid(v->remove + start,
			    i - start) ||
			    rspamd_field_kept(v->remove + start, i - start))
				return 0;
			start = i + 1;
		}
	return start == i;
}
