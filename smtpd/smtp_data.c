/*
 * smtp_data.c — receiving a message (RFC 5321 4.1.1.4, 4.5.2): the DATA
 * command, the data lines with dot-unstuffing, the checks that keep SMTP
 * smuggling out (only <CRLF>.<CRLF> ends the data; a bare CR or LF refuses
 * the message), the header section checks of submission (RFC 6409 8), the
 * file written as the message streams in, DKIM body hashes in the same
 * pass, and the commit.  Part of the session's state machine
 * (smtp_session.c): it replies, resets the transaction and resumes the
 * session through it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <sodium.h>
#include <tls.h>

#include "auth/users.h"
#include "queue/queue.h"
#include "dkim/dkim.h"
#include "lib/log.h"
#include "proto/msg_header.h"
#include "proto/smtp_data_reader.h"
#include "lib/netio.h"
#include "smtpd/smtp_metrics.h"
#include "smtpd/smtp_session_priv.h"

#define SVC(s)			((s)->ctx->services)
#define DATA_WBUF_SIZE		(64 * 1024)	/* file write buffer, octets */
#define DATA_HDR_INITIAL	4096

static void	data_header_end(struct smtp_session *);

void
smtp_data_free(struct smtp_session *s)
{
	struct smtp_data *d;

	if (s->txn == NULL)
		return;
	d = &s->txn->data;
	if (d->fd != -1) {
		close(d->fd);
		SVC(s)->queue_abort(SVC(s)->svc, d->queue_id);
	}
	free(d->hdr);
	free(d->wbuf);
	dkim_bodyhash_free(d->bh_relaxed);
	dkim_bodyhash_free(d->bh_simple);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

static void
data_refuse(struct smtp_data *d, enum data_refusal why)
{
	if (d->refusal == DATA_OK)
		d->refusal = why;
}

/* Write out the buffered octets; -1 (and refusal set) on error. */
static int
data_flush(struct smtp_data *d)
{
	size_t	 off = 0;

	while (off < d->wlen) {
		ssize_t	 w = write(d->fd, d->wbuf + off, d->wlen - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("msgid=%s event=write-error", d->queue_id);
			data_refuse(d, DATA_WRITE_ERROR);
			d->wlen = 0;
			return -1;
		}
		off += w;
	}
	d->wlen = 0;
	return 0;
}

/* Append to the message file through the write buffer, within the size limit. */
static void
data_write(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_data *d = &s->txn->data;

	if (d->refusal != DATA_OK)
		return;
	if (d->size + n > s->ctx->conf->max_message_size) {
		data_refuse(d, DATA_TOO_BIG);
		return;
	}
	d->size += n;
	while (n > 0) {
		size_t	 room = DATA_WBUF_SIZE - d->wlen;
		size_t	 take = n < room ? n : room;

		memcpy(d->wbuf + d->wlen, p, take);
		d->wlen += take;
		p += take;
		n -= take;
		if (d->wlen == DATA_WBUF_SIZE && data_flush(d) == -1)
			return;
	}
}

static void
data_body(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_data *d = &s->txn->data;

	data_write(s, p, n);
	if (d->refusal != DATA_OK)
		return;
	if (d->bh_relaxed)
		dkim_bodyhash_update(d->bh_relaxed, p, n);
	if (d->bh_simple)
		dkim_bodyhash_update(d->bh_simple, p, n);
}

/* RFC 5322 2.2: field-name is printable US-ASCII but ':', then ':'. */
static int
is_field_start(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] == ':')
			return i > 0;
		if ((unsigned char)p[i] <= 32 || (unsigned char)p[i] >= 127)
			return 0;
	}
	return 0;
}

static void
data_header_line(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_data *d = &s->txn->data;
	int		 cont = (p[0] == ' ' || p[0] == '\t');

	if (n == 2 && p[0] == '\r') {		/* the empty line */
		data_header_end(s);
		return;
	}
	if ((cont && d->hdrlen == 0) || (!cont && !is_field_start(p, n))) {
		/* Not a header field: the body starts here (an empty line is added). */
		data_header_end(s);
		data_body(s, p, n);
		return;
	}
	if (d->hdrlen + n > HEADER_SECTION_MAX) {
		data_refuse(d, DATA_HEADER_TOO_BIG);
		return;
	}
	if (d->hdrlen + n > d->hdrcap) {
		size_t	 want = d->hdrcap ? d->hdrcap * 2 : DATA_HDR_INITIAL;
		char	*nh;

		while (want < d->hdrlen + n)
			want *= 2;
		if (want > HEADER_SECTION_MAX)
			want = HEADER_SECTION_MAX;
		if ((nh = realloc(d->hdr, want)) == NULL) {
			data_refuse(d, DATA_WRITE_ERROR);
			return;
		}
		d->hdr = nh;
		d->hdrcap = want;
	}
	memcpy(d->hdr + d->hdrlen, p, n);
	d->hdrlen += n;
}

/* One line of data as the reader cut it, LF included (N octets). */
static void
data_line(struct smtp_session *s, const char *p, size_t n, unsigned flags)
{
	struct smtp_data *d = &s->txn->data;

	if (flags & SDR_BARE_EOL)
		data_refuse(d, DATA_BARE_EOL);
	if (flags & SDR_NUL)
		data_refuse(d, DATA_NUL);
	if (flags & SDR_TOO_LONG)
		data_refuse(d, DATA_LINE_TOO_LONG);
	if (d->refusal != DATA_OK)
		return;
	if (p[0] == '.') {		/* RFC 5321 4.5.2 transparency */
		p++;
		n--;
	}
	if (d->in_header)
		data_header_line(s, p, n);
	else
		data_body(s, p, n);
}

static void	data_end(struct smtp_session *);

int
smtp_data_input(struct smtp_session *s)
{
	struct evbuffer	*in = netio_input(s->io);

	for (;;) {
		size_t		 avail = evbuffer_get_length(in), take, n;
		unsigned	 flags;
		const char	*p;

		if (avail == 0)
			return 0;
		take = avail < SMTP_TEXTLINE_MAX + 1 ? avail : SMTP_TEXTLINE_MAX + 1;
		if ((p = (const char *)evbuffer_pullup(in, take)) == NULL)
			return 0;
		/* The reader looks no further than 1001 octets. */
		switch (smtp_data_reader_next(&s->txn->data.reader, p, take, &n,
		    &flags)) {
		case SDR_MORE:
			return 0;
		case SDR_END:
			evbuffer_drain(in, n);
			data_end(s);
			return 1;
		case SDR_FRAGMENT:
			data_refuse(&s->txn->data, DATA_LINE_TOO_LONG);
			break;
		case SDR_LINE:
			data_line(s, p, n, flags);
			break;
		}
		evbuffer_drain(in, n);
	}
}

/* RFC 5322 3.3 date-time of now. */
static void
data_date(char *buf, size_t sz)
{
	time_t		 now = time(NULL);
	struct tm	 tm;

	localtime_r(&now, &tm);
	if (strftime(buf, sz, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		buf[0] = '\0';
}

static void
data_from_domain(struct smtp_data *d, const char *addr)
{
	const char	*dom = smtp_addr_domain(addr);
	size_t		 i;

	snprintf(d->from_domain, sizeof(d->from_domain), "%s", dom ? dom : "");
	for (i = 0; d->from_domain[i] != '\0'; i++)
		d->from_domain[i] = tolower((unsigned char)d->from_domain[i]);
	/* RFC 8616 4.1: keys and d= name the domain by its A-labels. */
	if (dom != NULL && !smtp_ascii(dom) && smtp_domain_alabel(dom,
	    d->from_domain, sizeof(d->from_domain)) == -1)
		d->from_domain[0] = '\0';	/* then no key: unsigned */
}

/* Check the From: field against the login's sender patterns. */
static void
data_check_from(struct smtp_session *s, const struct msg_header_info *h)
{
	struct smtp_data *d = &s->txn->data;
	int		 i;

	if (h->dup_field[0] != '\0') {
		/* RFC 5322 3.6: once only; verifiers refuse such a message. */
		snprintf(d->header_error, sizeof(d->header_error),
		    "550 5.6.0 Message refused: more than one %s: header field",
		    h->dup_field);
		return;
	}
	if (h->nfrom_fields == 1 && h->from_bad) {
		snprintf(d->header_error, sizeof(d->header_error),
		    "550 5.6.0 Message refused: unreadable From: header field");
		return;
	}
	for (i = 0; i < h->nfrom; i++)
		if (!sender_match(s->login->senders, h->from[i])) {
			log_info("session=%s msgid=%s event=from-refused user=%s "
			    "from=%s", s->idstr, d->queue_id,
			    log_q(s->login->user), log_q(h->from[i]));
			snprintf(d->header_error, sizeof(d->header_error),
			    "550 5.7.1 From: header address not allowed for "
			    "this login");
			return;
		}
	data_from_domain(d, h->nfrom > 0 ? h->from[0] : s->txn->reverse_path);
}

/* Our trace field (RFC 5321 4.4), protocol ESMTPSA (RFC 3848), or
 * UTF8SMTPSA for a transaction with SMTPUTF8 (RFC 6531 3.7.3). */
static void
data_received(struct smtp_session *s, const char *date)
{
	struct smtp_txn	*t = s->txn;
	struct tls	*tls = netio_tls(s->io);
	const char	*ver = tls ? tls_conn_version(tls) : NULL;
	const char	*ciph = tls ? tls_conn_cipher(tls) : NULL;
	char		 buf[1024];
	int		 n;

	n = snprintf(buf, sizeof(buf),
	    "Received: from %s ([%s])\r\n"
	    "\tby %s (submitd) with %s id %s\r\n"
	    "\t(using %s with cipher %s)%s%s%s;\r\n"
	    "\t%s\r\n",
	    s->helo, s->peer_addr, s->ctx->conf->hostname,
	    t->mail_params.smtputf8 ? "UTF8SMTPSA" : "ESMTPSA", t->data.queue_id,
	    ver ? ver : "TLS", ciph ? ciph : "unknown",
	    t->nrcpt == 1 ? "\r\n\tfor <" : "",
	    t->nrcpt == 1 ? t->rcpt[0].forward_path : "",
	    t->nrcpt == 1 ? ">" : "", date);
	if (n > 0 && (size_t)n < sizeof(buf))
		data_write(s, buf, n);
	else
		data_refuse(&t->data, DATA_WRITE_ERROR);
}

/* The header section is complete: check it, write it with our additions. */
static void
data_header_end(struct smtp_session *s)
{
	struct smtp_data	*d = &s->txn->data;
	struct msg_header_info	 h;
	char			 date[64], buf[512];
	unsigned char		 rnd[8];
	int			 n;

	d->in_header = 0;
	if (d->refusal != DATA_OK)
		return;
	msg_header_scan(d->hdr ? d->hdr : "", d->hdrlen, &h);
	data_check_from(s, &h);
	data_date(date, sizeof(date));
	data_received(s, date);
	data_write(s, d->hdr ? d->hdr : "", d->hdrlen);
	/* RFC 6409 8.1, 8.2, 8.3: complete what the client left out. */
	if (h.nfrom_fields == 0) {
		n = snprintf(buf, sizeof(buf), "From: <%s>\r\n",
		    s->txn->reverse_path);
		data_write(s, buf, n);
	}
	if (!h.has_date) {
		n = snprintf(buf, sizeof(buf), "Date: %s\r\n", date);
		data_write(s, buf, n);
	}
	if (!h.has_message_id) {
		randombytes_buf(rnd, sizeof(rnd));
		n = snprintf(buf, sizeof(buf), "Message-ID: <%s.%02x%02x%02x%02x@%s>\r\n",
		    d->queue_id, rnd[0], rnd[1], rnd[2], rnd[3],
		    s->ctx->conf->hostname);
		data_write(s, buf, n);
	}
	d->header_len = d->size;
	data_write(s, "\r\n", 2);
	free(d->hdr);
	d->hdr = NULL;
	d->hdrlen = d->hdrcap = 0;
}

static void
data_committed(void *arg, enum queue_status status, const char *queue_id,
    const char *text)
{
	struct smtp_session	*s = arg;

	/* The quota was charged by the queue and the auth role (issue 12). */
	if (!s->closing) {
		if (status != QUEUE_OK)		/* issue 15 */
			smtp_metrics_refused(status == QUEUE_ERR_REJECTED ?
			    SMTP_REF_SPAM : status == QUEUE_ERR_QUOTA ?
			    SMTP_REF_QUOTA : status == QUEUE_ERR_POLICY ||
			    status == QUEUE_ERR_REFUSED ? SMTP_REF_POLICY :
			    SMTP_REF_ERROR);
		if (status == QUEUE_OK) {
			log_info("session=%s msgid=%s event=accepted "
			    "size=%llu nrcpt=%zu user=%s from=%s", s->idstr,
			    queue_id, (unsigned long long)s->txn->data.size,
			    s->txn->nrcpt, log_q(s->login->user),
			    log_q(s->txn->reverse_path));
			smtp_reply(s, "250 2.0.0 Ok: queued as %s", queue_id);
			smtp_metrics_accepted(s->connect_us, s->eod_us,
			    smtp_metrics_now_us());
			s->connect_us = 0;	/* observed once a session */
		} else if (status == QUEUE_ERR_NOSPACE)
			smtp_reply(s, "452 4.3.1 Insufficient system storage");
		else if (status == QUEUE_ERR_REJECTED)	/* issue 16 */
			smtp_reply(s, "550 5.7.1 %s", text[0] != '\0' ? text :
			    "Message refused as spam");
		else if (status == QUEUE_ERR_POLICY)
			smtp_reply(s, "451 4.7.1 %s", text[0] != '\0' ? text :
			    "Try again later");
		else if (status == QUEUE_ERR_QUOTA)
			smtp_reply(s, "451 4.7.1 Quota reached, try again later");
		else if (status == QUEUE_ERR_REFUSED)
			smtp_reply(s, "451 4.7.0 Message not accepted by the "
			    "queue, try again later");
		else
			smtp_reply(s, "451 4.3.0 Queue unavailable, try again later");
		smtp_transaction_reset(s);
		netio_set_timeout(s->io, s->ctx->conf->timeouts.command);
	}
	smtp_session_resume(s);
}

static const char *
data_refusal_reply(enum data_refusal r)
{
	switch (r) {
	case DATA_BARE_EOL:
		return "550 5.6.11 Message refused: bare CR or LF in message data";
	case DATA_LINE_TOO_LONG:
		return "552 5.6.0 Message refused: line longer than 1000 octets";
	case DATA_TOO_BIG:
		return "552 5.3.4 Message size exceeds fixed limit";
	case DATA_HEADER_TOO_BIG:
		return "552 5.3.4 Header section too large";
	case DATA_NUL:
		return "550 5.6.0 Message refused: NUL octet in message data";
	case DATA_WRITE_ERROR:
	default:
		return "451 4.3.0 Local error writing the message, try again later";
	}
}

static void
data_commit(struct smtp_session *s)
{
	struct smtp_data	*d = &s->txn->data;
	struct queue_sign_input	 sign;
	struct envelope		 env;

	memset(&env, 0, sizeof(env));
	memcpy(env.queue_id, d->queue_id, sizeof(env.queue_id));
	snprintf(env.user, sizeof(env.user), "%s", s->login->user);
	snprintf(env.client_addr, sizeof(env.client_addr), "%s", s->peer_addr);
	snprintf(env.helo, sizeof(env.helo), "%s", s->helo);
	memcpy(env.reverse_path, s->txn->reverse_path, sizeof(env.reverse_path));
	memcpy(env.from_domain, d->from_domain, sizeof(env.from_domain));
	env.body_8bitmime = s->txn->mail_params.body_8bitmime;
	env.smtputf8 = s->txn->mail_params.smtputf8;
	env.created = time(NULL);
	env.size = d->size;
	env.nrcpt = s->txn->nrcpt;
	env.rcpt = s->txn->rcpt;

	memset(&sign, 0, sizeof(sign));
	sign.header_len = d->header_len;
	if (d->bh_relaxed)
		dkim_bodyhash_final(d->bh_relaxed, sign.bh_relaxed);
	if (d->bh_simple)
		dkim_bodyhash_final(d->bh_simple, sign.bh_simple);

	s->pending++;
	s->waiting = 1;
	/* The queue owns the file from here on. */
	d->fd = -1;
	SVC(s)->queue_commit(SVC(s)->svc, s->login->grant, d->queue_id, &env,
	    &sign,
	    data_committed, s);
}

static void
data_end(struct smtp_session *s)
{
	struct smtp_data *d = &s->txn->data;

	smtp_deadline_set(s, 0);
	s->eod_us = smtp_metrics_now_us();
	if (d->in_header)
		data_header_end(s);
	if (d->refusal == DATA_OK)
		data_flush(d);
	if (close(d->fd) == -1)
		data_refuse(d, DATA_WRITE_ERROR);
	d->fd = -1;
	if (d->refusal != DATA_OK || d->header_error[0] != '\0') {
		const char *reply = d->refusal != DATA_OK ?
		    data_refusal_reply(d->refusal) : d->header_error;

		log_info("session=%s msgid=%s event=refused user=%s reply=%s",
		    s->idstr, d->queue_id, log_q(s->login->user), log_q(reply));
		smtp_metrics_refused(d->refusal == DATA_OK ? SMTP_REF_FROM :
		    d->refusal == DATA_TOO_BIG ||
		    d->refusal == DATA_HEADER_TOO_BIG ? SMTP_REF_SIZE :
		    d->refusal == DATA_WRITE_ERROR ? SMTP_REF_ERROR :
		    SMTP_REF_CONTENT);
		smtp_reply(s, "%s", reply);
		SVC(s)->queue_abort(SVC(s)->svc, d->queue_id);
		smtp_transaction_reset(s);
		netio_set_timeout(s->io, s->ctx->conf->timeouts.command);
		return;
	}
	data_commit(s);
}

static void
data_opened(void *arg, enum queue_status status, int fd, const char *queue_id)
{
	struct smtp_session	*s = arg;
	struct smtp_data	*d;

	if (s->closing) {
		if (fd != -1) {
			close(fd);
			SVC(s)->queue_abort(SVC(s)->svc, queue_id);
		}
		smtp_session_resume(s);
		return;
	}
	if (fd == -1) {
		smtp_reply(s, status == QUEUE_ERR_NOSPACE ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Queue unavailable, try again later");
		smtp_session_resume(s);
		return;
	}
	d = &s->txn->data;
	d->fd = fd;
	snprintf(d->queue_id, sizeof(d->queue_id), "%s", queue_id);
	d->in_header = 1;
	smtp_data_reader_init(&d->reader);
	if ((d->wbuf = malloc(DATA_WBUF_SIZE)) == NULL ||
	    (s->ctx->need_bh_relaxed &&
	    (d->bh_relaxed = dkim_bodyhash_new(0)) == NULL) ||
	    (s->ctx->need_bh_simple &&
	    (d->bh_simple = dkim_bodyhash_new(1)) == NULL)) {
		smtp_data_free(s);
		smtp_reply(s, "421 4.3.0 Out of memory");
		s->state = S_QUIT;
		smtp_session_resume(s);
		return;
	}
	s->state = S_DATA;
	netio_set_timeout(s->io, s->ctx->conf->timeouts.data_block);
	smtp_deadline_set(s, s->ctx->conf->timeouts.data_phase);
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	smtp_session_resume(s);
}

void
smtp_data_command(struct smtp_session *s, const char *args)
{
	if (*args != '\0') {
		smtp_reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	s->pending++;
	s->waiting = 1;
	SVC(s)->queue_open(SVC(s)->svc, data_opened, s);
}
