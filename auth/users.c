/*
 * users.c — the users table: "name:hash:senders[:options]" a line.  The
 * hash holds '$', ',' and '=' but never ':', so the line splits at its
 * first three colons into three or four fields; the options may hold more
 * (from=2001:db8::/32).  Only Argon2id hashes are taken.  The auth role alone
 * reads this file.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/users.h"
#include "conf/addr.h"
#include "conf/conf_lex.h"
#include "lib/log.h"

#define USERS_HASH_MAX	512	/* octets of an encoded hash */

static char *
xstrndup(const char *s, size_t n)
{
	char	*d;

	if ((d = strndup(s, n)) == NULL)
		fatal("users: strndup");
	return d;
}

/* 1 when the names are the same login: local part exact, domain not. */
static int
name_equal(const char *a, const char *b)
{
	const char	*at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');

	if (at_a == NULL || at_b == NULL)
		return strcmp(a, b) == 0;
	if (at_a - a != at_b - b || memcmp(a, b, (size_t)(at_a - a)) != 0)
		return 0;
	return strcasecmp(at_a + 1, at_b + 1) == 0;
}

static int
hash_valid(const char *h)
{
	const char	*c;

	if (strncmp(h, "$argon2id$", 10) != 0 || strlen(h) > USERS_HASH_MAX)
		return 0;
	for (c = h; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("$,=+/.-", *c) != NULL))
			return 0;
	return 1;
}

static int
senders_valid(struct conf_reader *r, const char *s)
{
	size_t	 len;

	if (*s == '\0' || strlen(s) > AUTH_SENDERS_MAX) {
		conf_error(r, r->line, "empty or too long sender list");
		return 0;
	}
	for (;;) {
		len = strcspn(s, ",");
		if (!addr_pattern_valid(s, len, 0)) {
			conf_error(r, r->line, "bad sender pattern '%.*s' "
			    "(local@domain or *@domain)", (int)len, s);
			return 0;
		}
		if (s[len] == '\0')
			return 1;
		s += len + 1;
	}
}

static int
option_from(struct conf_reader *r, struct user_entry *u, const char *cidr)
{
	struct conf_cidr	 c, *a;
	char			 buf[64];
	int			 hostbits;

	if (conf_cidr_parse_bits(cidr, &c, &hostbits) == -1) {
		conf_error(r, r->line, "from: bad address block '%s'", cidr);
		return -1;
	}
	if (hostbits)
		conf_warn(r, r->line, "from: '%s' has host bits set, taken "
		    "as %s", cidr, conf_cidr_format(&c, buf, sizeof(buf)));
	if ((a = reallocarray(u->from, u->nfrom + 1, sizeof(*a))) == NULL)
		fatal("users: reallocarray");
	u->from = a;
	u->from[u->nfrom++] = c;
	return 0;
}

/* "N/unit" into RATE (N a SIZE like 100M when SIZE); -1 after reporting. */
static int
option_rate(struct conf_reader *r, const char *key, char *val,
    struct conf_rate *rate, int size)
{
	char		*slash = strchr(val, '/');
	uint64_t	 n;
	int		 bad;

	if (rate->count != 0) {
		conf_error(r, r->line, "%s given twice", key);
		return -1;
	}
	if (slash == NULL) {
		conf_error(r, r->line, "%s: expected %s/hour (or second, "
		    "minute, day)", key, size ? "SIZE" : "N");
		return -1;
	}
	*slash = '\0';
	if (size)
		bad = conf_size_parse(val, &n) == -1 ||
		    n > CONF_BYTES_RATE_MAX;
	else
		bad = conf_number_parse(val, UINT32_MAX, &n) == -1;
	if (bad || n == 0 ||
	    conf_window_parse(slash + 1, &rate->window) == -1) {
		conf_error(r, r->line, "%s: bad rate '%s/%s'", key, val,
		    slash + 1);
		return -1;
	}
	rate->count = n;
	return 0;
}

/* The comma-separated options field (modified in place). */
static int
options_parse(struct conf_reader *r, struct user_entry *u, char *opts)
{
	char	*tok, *next, *eq;
	int	 in_from = 0, rc = 0;

	for (tok = opts; tok != NULL; tok = next) {
		if ((next = strchr(tok, ',')) != NULL)
			*next++ = '\0';
		eq = strchr(tok, '=');
		if (*tok == '\0') {
			conf_error(r, r->line, "empty option");
			rc = -1;
		} else if (eq == NULL && in_from) {
			rc |= option_from(r, u, tok);
		} else if (eq == NULL) {
			conf_error(r, r->line, "unknown option '%s'", tok);
			rc = -1;
		} else {
			*eq++ = '\0';
			in_from = strcmp(tok, "from") == 0;
			if (in_from)
				rc |= option_from(r, u, eq);
			else if (strcmp(tok, "messages") == 0)
				rc |= option_rate(r, tok, eq, &u->messages, 0);
			else if (strcmp(tok, "recipients") == 0)
				rc |= option_rate(r, tok, eq, &u->recipients,
				    0);
			else if (strcmp(tok, "bytes") == 0)
				rc |= option_rate(r, tok, eq, &u->bytes, 1);
			else {
				conf_error(r, r->line, "unknown option '%s'",
				    tok);
				rc = -1;
			}
		}
	}
	return rc;
}

static int
name_valid(const char *s)
{
	size_t	 len = strlen(s);

	if (len == 0 || len > AUTH_USER_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Parses one non-blank line into U; -1 after reporting. */
static int
user_parse(struct conf_reader *r, const struct users *t, char *line,
    struct user_entry *u)
{
	char	*f[4], *c;
	size_t	 n = 0, i;

	for (c = line; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
			conf_error(r, r->line, "blank, control or non-ASCII "
			    "character in line");
			return -1;
		}
	/* The options, last, may hold ':' (from=2001:db8::/32). */
	f[n++] = line;
	for (c = line; n < 4 && (c = strchr(c, ':')) != NULL; ) {
		*c++ = '\0';
		f[n++] = c;
	}
	if (n < 3) {
		conf_error(r, r->line, "expected name:hash:senders[:options]");
		return -1;
	}
	if (!name_valid(f[0])) {
		conf_error(r, r->line, "bad user name");
		return -1;
	}
	for (i = 0; i < t->n; i++)
		if (name_equal(t->entries[i].name, f[0])) {
			conf_error(r, r->line, "duplicate user '%s' (first on "
			    "line %d)", f[0], t->entries[i].line);
			return -1;
		}
	if (!hash_valid(f[1])) {
		conf_error(r, r->line, "unsupported password hash");
		return -1;
	}
	if (!senders_valid(r, f[2]))
		return -1;
	memset(u, 0, sizeof(*u));
	if (n == 4 && options_parse(r, u, f[3]) == -1) {
		free(u->from);
		return -1;
	}
	u->name = xstrndup(f[0], strlen(f[0]));
	u->hash = xstrndup(f[1], strlen(f[1]));
	u->senders = xstrndup(f[2], strlen(f[2]));
	u->line = r->line;
	return 0;
}

/* Strips trailing blanks; 1 when the line is blank or a comment. */
static int
line_empty(char *line)
{
	size_t	 len = strlen(line);

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	line += strspn(line, " \t");
	return *line == '\0' || *line == '#';
}

struct users *
users_load(const char *file, FILE *errf)
{
	struct conf_reader	 r;
	struct users		*t;
	struct user_entry	 u, *e;
	char			*line;

	if (conf_reader_open(&r, file, errf, NULL) == -1)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("users: calloc");
	while (conf_reader_next(&r, &line) == 1) {
		if (line_empty(line) || user_parse(&r, t, line, &u) == -1)
			continue;
		e = reallocarray(t->entries, t->n + 1, sizeof(*e));
		if (e == NULL)
			fatal("users: reallocarray");
		t->entries = e;
		t->entries[t->n++] = u;
	}
	conf_reader_close(&r);
	if (r.nerr > 0) {
		users_free(t);
		return NULL;
	}
	return t;
}

void
users_free(struct users *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->entries[i].name);
		free(t->entries[i].hash);
		free(t->entries[i].senders);
		free(t->entries[i].from);
	}
	free(t->entries);
	free(t);
}

const struct user_entry *
users_find(const struct users *t, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (name_equal(t->entries[i].name, name))
			return &t->entries[i];
	return NULL;
}
