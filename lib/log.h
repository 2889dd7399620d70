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

#endif
