/*
 * secrets.c — the upstream secrets file: "sender-pattern login password"
 * a line, the password quoted when it holds blanks or a leading '#'.
 * The relay role alone reads it.  Buffers that held a password are wiped.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf/addr.h"
#include "conf/conf_lex.h"
#include "conf/secrets.h"
#include "lib/log.h"
#include "lib/submitd.h"

static char *
xstrdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		fatal("secrets: strdup");
	return d;
}

/* Checks one line's words; 0 when they make an entry. */
static int
secrets_check(struct conf_reader *r, char **w, size_t n)
{
	if (n != 3) {
		conf_error(r, r->line, "expected 'sender-pattern login "
		    "password', got %zu word%s", n, n == 1 ? "" : "s");
		return -1;
	}
	if (!addr_pattern_valid(w[0], strlen(w[0]), 1)) {
		conf_error(r, r->line, "bad sender pattern '%s' (*, "
		    "*@domain or local@domain)", w[0]);
		return -1;
	}
	if (*w[1] == '\0' || strlen(w[1]) > AUTH_USER_MAX) {
		conf_error(r, r->line, "bad login");
		return -1;
	}
	if (*w[2] == '\0' || strlen(w[2]) > AUTH_PASS_MAX) {
		/* Never print the password. */
		conf_error(r, r->line, "empty or too long password");
		return -1;
	}
	return 0;
}

struct secrets *
secrets_load(const char *file, FILE *errf)
{
	struct conf_reader	 r;
	struct secrets		*s;
	struct secret		*e;
	char			*line, *w[CONF_WORDS_MAX];
	size_t			 n;
	unsigned		 mode;

	if (conf_reader_open(&r, file, errf, &mode) == -1)
		return NULL;
	if (mode & (S_IRWXG | S_IRWXO))
		conf_warn(&r, 0, "mode %04o lets group or others read it "
		    "(chmod 600)", mode);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("secrets: calloc");
	while (conf_reader_next(&r, &line) == 1) {
		if (conf_split(&r, line, w, &n) == -1 || n == 0 ||
		    secrets_check(&r, w, n) == -1)
			continue;
		e = reallocarray(s->entries, s->n + 1, sizeof(*e));
		if (e == NULL)
			fatal("secrets: reallocarray");
		s->entries = e;
		e = &s->entries[s->n++];
		e->pattern = xstrdup(w[0]);
		e->login = xstrdup(w[1]);
		e->password = xstrdup(w[2]);
		e->line = r.line;
	}
	conf_reader_close(&r);
	if (r.nerr > 0) {
		secrets_free(s);
		return NULL;
	}
	return s;
}

void
secrets_free(struct secrets *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		sodium_memzero(s->entries[i].password,
		    strlen(s->entries[i].password));
		free(s->entries[i].password);
		free(s->entries[i].pattern);
		free(s->entries[i].login);
	}
	free(s->entries);
	free(s);
}

const struct secret *
secrets_match(const struct secrets *s, const char *reverse_path)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (addr_pattern_match(s->entries[i].pattern,
		    strlen(s->entries[i].pattern), reverse_path))
			return &s->entries[i];
	return NULL;
}
