/* log.c — syslog or stderr logging; see log.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <paths.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static int	 log_foreground = 1;
static int	 log_verbose;
static int	 log_also_stderr;	/* log_stderr_too, with syslog */
static int	 log_detachable;	/* log_stderr_too was called */
static const char *log_name = "submitd";

void
log_init(int foreground, int verbose)
{
	log_foreground = foreground;
	log_verbose = verbose;
	if (foreground)
		return;
	/*
	 * No syslog daemon (a container): syslog(3) would try to reconnect
	 * at each line, from inside the roles' seccomp filters.  Say so and
	 * log to stderr instead.
	 */
	if (access(_PATH_LOG, W_OK) == -1) {
		fprintf(stderr, "submitd: %s: %s: logging to stderr\n", _PATH_LOG,
		    strerror(errno));
		log_foreground = 1;
		return;
	}
	openlog("submitd", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_stderr_too(int on)
{
	log_detachable = on;
	log_also_stderr = on && !log_foreground;
}

void
log_stderr_detach(void)
{
	int	 fd;

	if (!log_detachable)
		return;
	log_detachable = 0;
	log_also_stderr = 0;
	if ((fd = open("/dev/null", O_WRONLY)) != -1) {
		(void)dup2(fd, STDERR_FILENO);
		if (fd != STDERR_FILENO)
			close(fd);
	}
}

void
log_procname(const char *name)
{
	log_name = name;
}

char *
log_quote(char *buf, size_t size, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(value ? value : "");
	size_t		 n = 0, need;
	char		 esc[5];

	buf[n++] = '"';
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			need = 2;
		} else if (*p < 0x20 || *p >= 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 0xf];
			need = 4;
		} else {
			esc[0] = (char)*p;
			need = 1;
		}
		/* room for this, then "...", the closing quote and NUL */
		if (n + need + 5 > size) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, esc, need);
		n += need;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

const char *
log_q(const char *value)
{
	static __thread char	 ring[8][LOG_Q_MAX];
	static __thread unsigned next;

	return log_quote(ring[next++ % 8], LOG_Q_MAX, value);
}

const char *
log_qtext(const char *value)
{
	const unsigned char *p = (const unsigned char *)(value ? value : "");

	if (*p == '\0')
		return "\"\"";
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return log_q(value);
	return value;
}

static void
log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char	 msg[2048];
	size_t	 i;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Never let a peer's bytes forge a log line. */
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	if (log_foreground) {
		struct timespec	 ts;
		struct tm	 tm;
		char		 stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s: %s%s%s\n", stamp,
		    ts.tv_nsec / 1000000, log_name, msg,
		    errstr ? ": " : "", errstr ? errstr : "");
	} else {
		syslog(pri, "%s: %s%s%s", log_name, msg,
		    errstr ? ": " : "", errstr ? errstr : "");
		if (log_also_stderr && pri <= LOG_WARNING)
			fprintf(stderr, "submitd: %s: %s%s%s\n", log_name, msg,
			    errstr ? ": " : "", errstr ? errstr : "");
	}
}

#define LOG_BODY(pri, err) do {			\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_vwrite(pri, err, fmt, ap);		\
	va_end(ap);				\
} while (0)

void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, NULL); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_WARNING, NULL); }

void
log_warn(const char *fmt, ...)
{
	const char	*e = strerror(errno);

	LOG_BODY(LOG_WARNING, e);
}

void
log_debug(const char *fmt, ...)
{
	if (log_verbose)
		LOG_BODY(LOG_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
	const char	*e = strerror(errno);

	LOG_BODY(LOG_CRIT, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, NULL);
	exit(1);
}
