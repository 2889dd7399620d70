/*
 * queue_bounce.c — delivery status notifications (RFC 3464, RFC 3462
 * multipart/report, RFC 3463 status codes): when recipients of a message
 * fail (5xx, or its lifetime is over), a new message from
 * MAILER-DAEMON@hostname with the null reverse-path goes back to the
 * original reverse-path through the smarthost, like any other message.
 * A DSN is never answered with another (RFC 3464 section 2; RFC 5321
 * 6.1: no loops): a DSN that fails is logged as a double bounce.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "proto/smtp_parse.h"
#include "queue/queue_priv.h"
#include "queue/queue_metrics.h"
#include "lib/log.h"

#define BOUNCE_HEADERS_MAX	(64 * 1024)	/* original headers quoted */

/* RFC 5322 3.3 date-time, UTC, into BUF. */
static void
bounce_date(char *buf, size_t size, time_t t)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		snprintf(buf, size, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/*
 * The RFC 3463 status of REPLY ("550 5.1.1 text") into OUT: its enhanced
 * code when it has a 5.x.x one, else 5.0.0 (5.4.7 when EXPIRED).
 */
static void
bounce_status(const char *reply, int expired, char out[16])
{
	const char	*p = reply;
	size_t		 a, b;

	snprintf(out, 16, "%s", expired ? "5.4.7" : "5.0.0");
	if (expired || strlen(p) < 4 || p[3] != ' ' || p[0] != '5')
		return;
	p += 4;
	if (p[0] != '5' || p[1] != '.')
		return;
	a = strspn(p + 2, "0123456789");
	if (a < 1 || a > 3 || p[2 + a] != '.')
		return;
	b = strspn(p + 3 + a, "0123456789");
	if (b < 1 || b > 3)
		return;
	snprintf(out, 16, "%.*s", (int)(3 + a + b), p);
}

/* The header section of ID.msg (CRLF lines, no empty line), malloc'd. */
static char *
bounce_orig_headers(struct queue *q, const char *id, size_t *len)
{
	char	 name[QUEUE_ID_SIZE + 8], *buf, *end;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd;

	*len = 0;
	if ((buf = malloc(BOUNCE_HEADERS_MAX + 1)) == NULL)
		return NULL;
	snprintf(name, sizeof(name), "%s.msg", id);
	if ((fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC)) != -1) {
		while (got < BOUNCE_HEADERS_MAX && (n = read(fd, buf + got,
		    BOUNCE_HEADERS_MAX - got)) > 0)
			got += (size_t)n;
		close(fd);
	}
	buf[got] = '\0';
	if ((end = memmem(buf, got, "\r\n\r\n", 4)) != NULL)
		got = (size_t)(end - buf) + 2;
	else if ((end = memmem(buf, got, "\r\n", 2)) != NULL)
		got = (size_t)(end - buf) + 2;	/* cut: whole lines only */
	else
		got = 0;
	*len = got;
	return buf;
}

/*
 * ADDR into FP: as it is for a DSN that goes with SMTPUTF8 (UTF8) or an
 * ASCII address, else as RFC 6533 3 utf-8-addr-xtext: every code point
 * outside QCHAR as \x{HEX}, so that a DSN to an ASCII sender stays 7-bit.
 */
static void
bounce_addr(FILE *fp, const char *addr, int utf8)
{
	const unsigned char	*s = (const unsigned char *)addr;
	unsigned		 cp;
	int			 n, i;

	if (utf8 || smtp_ascii(addr)) {
		fputs(addr, fp);
		return;
	}
	while (*s != '\0') {
		if (*s > 0x20 && *s < 0x7f && *s != '+' && *s != '=' &&
		    *s != '\\') {
			fputc(*s++, fp);
			continue;
		}
		cp = *s, n = 0;
		if ((*s & 0xe0) == 0xc0)
			cp = *s & 0x1f, n = 1;
		else if ((*s & 0xf0) == 0xe0)
			cp = *s & 0x0f, n = 2;
		else if ((*s & 0xf8) == 0xf0)
			cp = *s & 0x07, n = 3;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80) {	/* not UTF-8: the octet */
				cp = *s, n = 0;
				break;
			}
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		fprintf(fp, "\\x{%X}", cp);
		s += n + 1;
	}
}

static void
bounce_write_rcpts(FILE *fp, const struct envelope *env, const uint8_t *sel,
    int utf8)
{
	int				 expired;
	const struct envelope_rcpt	*r;
	char				 status[16];
	size_t				 i;

	for (i = 0; i < env->nrcpt; i++) {
		r = &env->rcpt[i];
		if (!sel[i])
			continue;
		expired = sel[i] == QUEUE_BOUNCE_EXPIRED;
		bounce_status(r->last_reply, expired, status);
		fprintf(fp, "\r\nFinal-Recipient: %s; ",
		    smtp_ascii(r->forward_path) ? "rfc822" : "utf-8");
		bounce_addr(fp, r->forward_path, utf8);
		fprintf(fp, "\r\nAction: failed\r\nStatus: %s\r\n", status);
		if (r->last_reply[0] != '\0' && isdigit((unsigned char)
		    r->last_reply[0]))
			fprintf(fp, "Diagnostic-Code: smtp; %s\r\n",
			    r->last_reply);
		if (expired)
			fprintf(fp, "X-Submitd-Reason: lifetime of the message "
			    "in the queue is over\r\n");
	}
}

/*
 * The whole DSN into a malloc'd buffer (*LEN octets); NULL on error.  To a
 * UTF-8 sender (it goes with SMTPUTF8) it is an RFC 6533 one: report-type
 * global-delivery-status, its parts message/global-delivery-status (UTF-8
 * addresses as they are, address type utf-8) and message/global-headers,
 * the notification in UTF-8, all 8bit.
 */
static char *
bounce_text(struct queue *q, const char *newid, const char *origid,
    const struct queue_env *qe, const uint8_t *sel, time_t now, size_t *len)
{
	const char	*host = q->conf->hostname;
	char		*buf = NULL, *hdrs, date[64], arrival[64];
	size_t		 i, hlen, blen = 0;
	int		 utf8 = !smtp_ascii(qe->env.reverse_path); /* bounce_env */
	const char	*g = utf8 ? "global-" : "";
	const char	*cte = utf8 ? "Content-Transfer-Encoding: 8bit\r\n" : "";
	FILE		*fp;

	if ((fp = open_memstream(&buf, &blen)) == NULL)
		return NULL;
	hdrs = bounce_orig_headers(q, origid, &hlen);
	bounce_date(date, sizeof(date), now);
	bounce_date(arrival, sizeof(arrival), qe->env.created);
	fprintf(fp, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\nSubject: Undelivered Mail Returned to Sender\r\n"
	    "Date: %s\r\nMessage-ID: <%s@%s>\r\nAuto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
	    "report-type=%sdelivery-status;\r\n\tboundary=\"%s/%s\"\r\n\r\n"
	    "This is a MIME-encapsulated message.\r\n\r\n",
	    host, qe->env.reverse_path, date, newid, host, g, newid, host);
	fprintf(fp, "--%s/%s\r\nContent-Type: text/plain; charset=%s\r\n%s"
	    "Content-Description: Notification\r\n\r\n"
	    "This is the mail system at host %s.\r\n\r\n"
	    "Your message %s could not be delivered to one or more\r\n"
	    "recipients. It is attached below.\r\n\r\n", newid, host,
	    utf8 ? "utf-8" : "us-ascii", cte, host, origid);
	for (i = 0; i < qe->env.nrcpt; i++)
		if (sel[i]) {
			fputc('<', fp);
			bounce_addr(fp, qe->env.rcpt[i].forward_path, utf8);
			fprintf(fp, ">: %s\r\n", sel[i] == QUEUE_BOUNCE_EXPIRED ?
			    "delivery time expired" :
			    qe->env.rcpt[i].last_reply);
		}
	fprintf(fp, "\r\n--%s/%s\r\nContent-Type: message/%sdelivery-status"
	    "\r\n%sContent-Description: Delivery report\r\n\r\n"
	    "Reporting-MTA: dns; %s\r\nX-Submitd-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", newid, host, g, cte, host, origid, arrival);
	bounce_write_rcpts(fp, &qe->env, sel, utf8);
	fprintf(fp, "\r\n--%s/%s\r\nContent-Type: %s\r\n%s"
	    "Content-Description: Undelivered Message Headers\r\n\r\n",
	    newid, host, utf8 ? "message/global-headers" : "text/rfc822-headers",
	    cte);
	if (hdrs != NULL && hlen > 0)
		fwrite(hdrs, 1, hlen, fp);
	fprintf(fp, "\r\n--%s/%s--\r\n", newid, host);
	free(hdrs);
	if (fclose(fp) != 0 || hdrs == NULL) {
		free(buf);
		return NULL;
	}
	*len = blen;
	return buf;
}

/* Writes BUF as ID.msg: ID.tmp, fsync, rename.  0 or -1 (errno). */
static int
bounce_write_msg(struct queue *q, const char *id, const char *buf,
    size_t len)
{
	char	 tmp[QUEUE_ID_SIZE + 8], msg[QUEUE_ID_SIZE + 8];
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd, save;

	snprintf(tmp, sizeof(tmp), "%s.tmp", id);
	snprintf(msg, sizeof(msg), "%s.msg", id);
	if ((fd = openat(q->dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(q->dirfd, tmp, q->dirfd, msg) == -1)
		goto fail;
	return 0;
fail:
	save = errno;
	if (fd != -1)
		close(fd);
	unlinkat(q->dirfd, tmp, 0);
	errno = save;
	return -1;
}

/*
 * The envelope of the DSN NEWID of SIZE octets to REVERSE_PATH; EIGHT
 * when it has octets over 127 (the original's UTF-8 header fields).
 */
static int
bounce_env(struct queue_env *b, const struct conf *conf, const char *newid,
    const char *rpath, size_t size, int eight, time_t now)
{
	memset(b, 0, sizeof(*b));
	if ((b->env.rcpt = calloc(1, sizeof(*b->env.rcpt))) == NULL)
		return -1;
	b->env.nrcpt = 1;
	snprintf(b->env.queue_id, sizeof(b->env.queue_id), "%s", newid);
	snprintf(b->env.user, sizeof(b->env.user), "MAILER-DAEMON");
	snprintf(b->env.helo, sizeof(b->env.helo), "%s", conf->hostname);
	snprintf(b->env.from_domain, sizeof(b->env.from_domain), "%s",
	    conf->hostname);
	b->env.reverse_path[0] = '\0';
	b->env.created = now;
	b->env.size = size;
	b->next_try = now;
	b->bounce = 1;
	b->env.smtputf8 = !smtp_ascii(rpath);	/* RFC 6531: to a UTF-8 sender */
	b->env.body_8bitmime = eight;
	snprintf(b->env.rcpt[0].forward_path,
	    sizeof(b->env.rcpt[0].forward_path), "%s", rpath);
	return 0;
}

int
queue_bounce(struct queue *q, const char *origid, const struct queue_env *qe,
    const uint8_t *sel, time_t now)
{
	struct queue_env	 b;
	struct qmsg		*m;
	char			 newid[QUEUE_ID_SIZE], *text, name[QUEUE_ID_SIZE + 8];
	size_t			 len, i, n = 0, nexp = 0;
	int			 eight;

	for (i = 0; i < qe->env.nrcpt; i++) {
		n += sel[i] != 0;
		nexp += sel[i] == QUEUE_BOUNCE_EXPIRED;
	}
	if (n == 0)
		return 0;
	if (qe->bounce) {
		/*
		 * A double bounce (RFC 3464 2): the DSN itself failed, e.g.
		 * to a UTF-8 sender once the smarthost stopped offering
		 * SMTPUTF8 (553 5.6.7).  Not answered with another DSN, but
		 * never lost silently: one line with its queue ID, to whom it
		 * went and why it failed.
		 */
		for (i = 0; i < qe->env.nrcpt; i++)
			if (sel[i])
				log_warnx("msgid=%s event=double-bounce to=%s "
				    "reply=%s", origid,
				    log_q(qe->env.rcpt[i].forward_path),
				    log_q(sel[i] == QUEUE_BOUNCE_EXPIRED ?
				    "lifetime over" : qe->env.rcpt[i].last_reply));
		return 0;
	}
	if (qe->env.reverse_path[0] == '\0') {
		log_warnx("msgid=%s event=bounce-dropped rcpts=%zu reason=\"%s\"",
		    origid, n, "null reverse-path");
		return 0;
	}
	queue_id_new(newid);
	if ((text = bounce_text(q, newid, origid, qe, sel, now, &len)) == NULL) {
		log_warn("msgid=%s event=error step=bounce", origid);
		return -1;
	}
	if (bounce_write_msg(q, newid, text, len) == -1) {
		log_warn("msgid=%s event=error step=bounce dsn=%s", origid, newid);
		free(text);
		return -1;
	}
	for (i = 0, eight = 0; i < len && !eight; i++)
		eight = (unsigned char)text[i] > 127;	/* the quoted headers */
	free(text);
	if (bounce_env(&b, q->conf, newid, qe->env.reverse_path, len, eight,
	    now) == -1 || queue_env_write(q->dirfd, newid, &b, 1) == -1 ||
	    (m = calloc(1, sizeof(*m))) == NULL) {
		log_warn("msgid=%s event=error step=bounce dsn=%s", origid, newid);
		snprintf(name, sizeof(name), "%s.msg", newid);
		unlinkat(q->dirfd, name, 0);
		queue_env_free(&b);
		return -1;
	}
	queue_env_free(&b);
	memcpy(m->id, newid, QUEUE_ID_SIZE);
	m->created = now;
	m->next_try = now;
	queue_metrics_dsn();
	log_info("msgid=%s event=dsn dsn=%s rcpts=%zu expired=%zu to=%s",
	    origid, newid, n, nexp, log_q(qe->env.reverse_path));
	queue_sched_add(q, m);
	return 0;
}
