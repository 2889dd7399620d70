/* conf_lex.c — bounded line reader, error reporter, word splitter. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/conf_lex.h"
#include "lib/fileset.h"

int
conf_reader_open(struct conf_reader *r, const char *file, FILE *errf,
    unsigned *mode)
{
	unsigned	 m;

	memset(r, 0, sizeof(*r));
	r->file = file;
	r->errf = errf;
	/* Read whole, through the one door a reload can fill (fileset.h). */
	if (fileset_read(file, FILESET_FILE_MAX, &r->mem, &r->memlen, &m) == -1) {
		if (errno == EINVAL)
			fprintf(errf, "%s: not a regular file\n", file);
		else
			fprintf(errf, "%s: %s\n", file, strerror(errno));
		r->mem = NULL;
		r->nerr++;
		return -1;
	}
	if (mode != NULL)
		*mode = m;
	return 0;
}

/* Next input octet, or -1 at the end of the file. */
static int
reader_getc(struct conf_reader *r)
{
	if (r->mem == NULL || r->iopos == r->memlen)
		return -1;
	return (unsigned char)r->mem[r->iopos++];
}

int
conf_reader_next(struct conf_reader *r, char **line)
{
	size_t	 len;
	int	 c, toolong, nul;

	for (;;) {
		len = 0;
		toolong = nul = 0;
		while ((c = reader_getc(r)) != -1 && c != '\n') {
			if (c == '\0')
				nul = 1;
			if (len < CONF_LINE_MAX)
				r->buf[len++] = (char)c;
			else
				toolong = 1;
		}
		if (c == -1 && len == 0 && !toolong)
			return 0;
		r->line++;
		if (toolong) {
			conf_error(r, r->line, "line too long (over %d octets)",
			    CONF_LINE_MAX);
			continue;
		}
		if (nul) {
			conf_error(r, r->line, "NUL byte in line");
			continue;
		}
		if (len > 0 && r->buf[len - 1] == '\r')
			len--;
		r->buf[len] = '\0';
		*line = r->buf;
		return 1;
	}
}

void
conf_reader_close(struct conf_reader *r)
{
	fileset_buf_free(r->mem, r->memlen);
	r->mem = NULL;
	r->memlen = 0;
	sodium_memzero(r->buf, sizeof(r->buf));
}

void
conf_error(struct conf_reader *r, int line, const char *fmt, ...)
{
	va_list	 ap;

	if (line > 0)
		fprintf(r->errf, "%s:%d: ", r->file, line);
	else
		fprintf(r->errf, "%s: ", r->file);
	va_start(ap, fmt);
	vfprintf(r->errf, fmt, ap);
	va_end(ap);
	fputc('\n', r->errf);
	r->nerr++;
}

void
conf_warn(struct conf_reader *r, int line, const char *fmt, ...)
{
	va_list	 ap;

	if (line > 0)
		fprintf(r->errf, "%s:%d: warning: ", r->file, line);
	else
		fprintf(r->errf, "%s: warning: ", r->file);
	va_start(ap, fmt);
	vfprintf(r->errf, fmt, ap);
	va_end(ap);
	fputc('\n', r->errf);
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_ctrl(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Unquotes the string opening at *P (on the '"') in place; -1 on error. */
static int
split_quoted(struct conf_reader *r, char **p)
{
	char	*s = *p + 1, *d = *p;

	for (;;) {
		if (*s == '\0') {
			conf_error(r, r->line, "unterminated quoted string");
			return -1;
		}
		if (*s == '"')
			break;
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*d++ = *s++;
	}
	*d = '\0';
	s++;
	if (*s != '\0' && !is_blank((unsigned char)*s)) {
		conf_error(r, r->line, "text right after a closing quote");
		return -1;
	}
	*p = s;
	return 0;
}

int
conf_split(struct conf_reader *r, char *line, char **words, size_t *nwords)
{
	char	*p;

	*nwords = 0;
	for (p = line; *p != '\0'; p++)
		if (is_ctrl((unsigned char)*p)) {
			conf_error(r, r->line, "control character in line");
			return -1;
		}
	p = line;
	for (;;) {
		while (is_blank((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		if (*nwords == CONF_WORDS_MAX) {
			conf_error(r, r->line, "too many words (over %d)",
			    CONF_WORDS_MAX);
			return -1;
		}
		words[(*nwords)++] = p;
		if (*p == '"') {
			char	*end = p;

			if (split_quoted(r, &end) == -1)
				return -1;
			/* The word now starts where the quote was. */
			p = end;
			if (*p == '\0')
				return 0;
			p++;
			continue;
		}
		while (*p != '\0' && !is_blank((unsigned char)*p))
			p++;
		if (*p == '\0')
			return 0;
		*p++ = '\0';
	}
}
