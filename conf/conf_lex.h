/*
 * conf_lex.h — reading the files submitd trusts least: a line reader with a
 * bounded line length that refuses NUL bytes, the "file:line: message"
 * reporter, and the word splitter for submitd.conf and the secrets file
 * (blanks separate words, a '#' opening a word starts a comment, "double
 * quotes" keep blanks and '#', with \" and \\ inside).  Used by
 * conf_parse.c, secrets.c and auth/users.c; nothing here allocates.
 *
 * conf/: the config and secrets files as data, addresses and networks.
 * Sits on lib/ only: knows nothing of SMTP sessions, DKIM, the queue, the
 * relay or the roles that use what it parsed.
 */
#ifndef CONF_CONF_LEX_H
#define CONF_CONF_LEX_H

#include <stddef.h>
#include <stdio.h>

#define CONF_LINE_MAX	4096	/* octets in a line, without the newline */
#define CONF_WORDS_MAX	32	/* words in a statement */

struct conf_reader {
	const char	*file;
	FILE		*errf;
	char		*mem;		/* the whole file (lib/fileset.h) */
	size_t		 memlen;
	int		 line;		/* number of the line last returned */
	int		 nerr;		/* errors reported so far */
	int		 eof;
	size_t		 iopos;
	char		 buf[CONF_LINE_MAX + 1];
};

/*
 * conf_reader_open: opens FILE for reading, refusing anything but a regular
 * file.  On failure reports "file: reason" to ERRF and returns -1.  MODE,
 * when not NULL, receives the file's permission bits.
 */
int	conf_reader_open(struct conf_reader *, const char *file, FILE *errf,
	    unsigned *mode);
/*
 * conf_reader_next: the next line, without its newline (and without a
 * trailing CR), NUL-terminated, in r->buf; returns 1, or 0 at the end of
 * the file.  A line over CONF_LINE_MAX octets or holding a NUL byte is
 * reported as an error and skipped.  A read error is reported and ends
 * the file.
 */
int	conf_reader_next(struct conf_reader *, char **line);
/* conf_reader_close: closes and wipes the buffers (they may hold secrets). */
void	conf_reader_close(struct conf_reader *);

/*
 * conf_error: "file:LINE: message" to errf, and counts an error; LINE 0
 * for the file as a whole (a statement missing): "file: message".
 */
void	conf_error(struct conf_reader *, int line, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* conf_warn: "file:LINE: warning: message" to errf (LINE 0 as above). */
void	conf_warn(struct conf_reader *, int line, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * conf_split: splits LINE in place into at most CONF_WORDS_MAX words,
 * pointers into LINE stored in WORDS, their count in *NWORDS (0 for a
 * blank or comment line).  Returns 0, or -1 after reporting an error
 * (unterminated quote, control character, too many words, text glued to a
 * closing quote).
 */
int	conf_split(struct conf_reader *, char *line, char **words,
	    size_t *nwords);

#endif
