/*
 * log.h — the one logging layer.  Lines go to syslog (mail facility), or to
 * stderr when running in the foreground.  Lines about a session start with
 * "session=ID", lines about a message with "msgid=QUEUEID", then key=value
 * pairs a script can read.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdarg.h>

/* log_init: foreground != 0 logs to stderr; verbose != 0 enables log_debug. */
void	log_init(int foreground, int verbose);
/*
 * log_stderr_too: while a daemon that logs to syslog starts in the
 * background, warnings and errors go to stderr too, so that a start that
 * fails is seen where it was typed (submitd(8), -d/-F).
 * log_stderr_detach: stops that (if it was on) and points fd 2 at
 * /dev/null, letting the terminal go; called once started, and by each
 * role before it chroots.
 */
void	log_stderr_too(int on);
void	log_stderr_detach(void);
/* log_procname: sets the name shown in front of lines (e.g. "smtp"). */
void	log_procname(const char *);

void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* log_warn: appends ": strerror(errno)". */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* fatal/fatalx: log and exit(1); fatal appends strerror(errno). */
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * The one quoting rule for a value that someone outside chose (a login, an
 * address, an upstream's reply, an operator's argument): in a log line it is
 * written key="VALUE", in submitctl's text output likewise, with '"' as \",
 * '\' as \\ and every byte below 0x20, 0x7f and every byte above 0x7f as
 * \xHH (lower-case hex).  Such a value can therefore never hold a space-
 * separated "key=" of its own outside its quotes, nor a control byte.  Lines
 * put the fields the server knows (session, msgid, event, result, ip) before
 * any quoted one.
 *
 * log_quote writes "VALUE" (quotes included) into BUF of SIZE (at least 8);
 * a value too long for BUF ends in "..." inside the quotes.  NULL is "".
 * Returns BUF.  log_q does the same into one of 8 per-thread buffers of
 * LOG_Q_MAX, meant for arguments of one log_*() call.
 */
#define LOG_Q_MAX	1024
char	*log_quote(char *, size_t, const char *);
const char *log_q(const char *);
/*
 * log_qtext: for submitctl's text output, a value made only of printable
 * ASCII other than space, '"' and '\\' as it is, any other as log_q quotes
 * it (an empty value is "").  Same buffers as log_q.
 */
const char *log_qtext(const char *);

#endif
