/* rspamd.c — rspamd's /checkv2 reply as a verdict; see rspamd.h. */
#include <stdio.h>
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
    int *dropped, const char **why)
{
	json_t		*root, *x, *milter, *val;
	json_error_t	 err;
	const char	*act, *key;
	int		 i, bad = 0, had_add = 0;

	memset(out, 0, sizeof(*out));
	if (dropped != NULL)
		*dropped = 0;
	if (len > RSPAMD_REPLY_MAX) {
		*why = "reply too large";
		return -1;
	}
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL || !json_is_object(root)) {
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
	for (i = 0; i <= RSPAMD_ACTION_MAX; i++)
		if (strcasecmp(act, action_names[i]) == 0)
			break;
	/*
	 * "discard" (drop it, say it went) and "quarantine" (keep it aside):
	 * either way it must not leave, and a relay never drops after a 250:
	 * refused as a reject is.
	 */
	if (strcasecmp(act, "discard") == 0 ||
	    strcasecmp(act, "quarantine") == 0)
		i = RSPAMD_REJECT;
	if (i > RSPAMD_ACTION_MAX) {
		json_decref(root);
		*why = "unknown action";
		return -1;
	}
	out->action = i;
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
			json_object_foreach(x, key, val)
				bad += remove_name(out, key) == -1;
		x = json_object_get(milter, "add_headers");
		if (json_is_object(x))
			json_object_foreach(x, key, val) {
				had_add = 1;
				bad += add_json(out, key, val);
			}
	}
	if (out->action == RSPAMD_REWRITE_SUBJECT &&
	    json_is_string(x = json_object_get(root, "subject"))) {
		if (add_field(out, "Subject", json_string_value(x)) == 0)
			bad += remove_name(out, "Subject") == -1;
		else
			bad++;
	}
	if (out->action == RSPAMD_ADD_HEADER && !had_add)
		bad += add_field(out, "X-Spam", "Yes") == -1;
	json_decref(root);
	if (dropped != NULL)
		*dropped = bad;
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
		if (i == len || !rspamd_field_name_valid(add + start, i - start))
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
			    i - start))
				return 0;
			start = i + 1;
		}
	return start == i;
}
