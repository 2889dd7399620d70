/*
 * queue_verify.c — a commit's claims checked against the file the queue
 * holds (issue 12): the smtp role said where the header section ends,
 * which domain From: names and what the body hashes to; the queue finds
 * the end of the header section itself, re-reads From: (one field, every
 * mailbox one of the login's sender patterns), and hashes the body.  Any
 * difference refuses the message: an honest smtp role never differs.
 * The header section read here is the one signed, so that a writer that
 * changes the file after the check gets no signature over its change.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/users.h"
#include "conf/conf.h"
#include "dkim/dkim.h"
#include "lib/log.h"
#include "proto/msg_header.h"
#include "proto/smtp_parse.h"
#include "queue/queue_priv.h"

#define VERIFY_CHUNK	(64 * 1024)

/* Reads LEN octets at OFF of FD into BUF; 0 or -1. */
static int
read_at(int fd, char *buf, size_t len, off_t off)
{
	size_t	 done = 0;
	ssize_t	 n;

	while (done < len) {
		n = pread(fd, buf + done, len - done, off + (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Where the header section ends: octets up to and with its last CRLF. */
static int
header_find(int fd, off_t size, char **hdrp, size_t *lenp)
{
	size_t	 cap = (size_t)(size < HEADER_SECTION_MAX + 4096 ?
		    size : HEADER_SECTION_MAX + 4096);
	char	*buf, *end;

	if ((buf = malloc(cap + 1)) == NULL || read_at(fd, buf, cap, 0) == -1) {
		free(buf);
		return -1;
	}
	buf[cap] = '\0';
	if ((end = memmem(buf, cap, "\r\n\r\n", 4)) == NULL) {
		free(buf);
		return -1;
	}
	*lenp = (size_t)(end - buf) + 2;
	buf[*lenp] = '\0';
	*hdrp = buf;
	return 0;
}

/* The body hashes from OFF to SIZE, the ones the keys need. */
static int
body_hash(int fd, off_t off, off_t size, int relaxed, int simple,
    struct queue_sign_input *out)
{
	struct dkim_bodyhash	*br = NULL, *bs = NULL;
	char			*buf;
	size_t			 n;
	int			 rv = -1;

	if ((buf = malloc(VERIFY_CHUNK)) == NULL ||
	    (relaxed && (br = dkim_bodyhash_new(0)) == NULL) ||
	    (simple && (bs = dkim_bodyhash_new(1)) == NULL))
		goto done;
	for (; off < size; off += (off_t)n) {
		n = size - off < VERIFY_CHUNK ? (size_t)(size - off) : VERIFY_CHUNK;
		if (read_at(fd, buf, n, off) == -1)
			goto done;
		if (br)
			dkim_bodyhash_update(br, buf, n);
		if (bs)
			dkim_bodyhash_update(bs, buf, n);
	}
	if (br)
		dkim_bodyhash_final(br, out->bh_relaxed);
	if (bs)
		dkim_bodyhash_final(bs, out->bh_simple);
	rv = 0;
done:
	if (br)
		dkim_bodyhash_free(br);
	if (bs)
		dkim_bodyhash_free(bs);
	free(buf);
	return rv;
}

static void
domain_of(const char *addr, char *out, size_t size)
{
	const char	*at = strrchr(addr, '@');
	size_t		 i;

	snprintf(out, size, "%s", at ? at + 1 : "");
	for (i = 0; out[i] != '\0'; i++)
		out[i] = tolower((unsigned char)out[i]);
}

int
queue_verify(struct queue *q, struct qreq *r, int fd, off_t size,
    char **hdrp)
{
	struct msg_header_info	 h;
	struct queue_sign_input	 mine;
	struct envelope		*env = &r->qe.env;
	char			 dom[SMTP_DOMAIN_MAX + 1], *hdr = NULL;
	const char		*why = NULL;
	size_t			 hlen, i;
	int			 relaxed = 0, simple = 0;

	*hdrp = NULL;
	for (i = 0; i < q->conf->ndkim; i++) {
		if (q->conf->dkim[i].canon_simple)
			simple = 1;
		else
			relaxed = 1;
	}
	memset(&mine, 0, sizeof(mine));
	if (!r->has_sign)
		why = "no-sign-input";
	else if (header_find(fd, size, &hdr, &hlen) == -1)
		why = "header";
	else if (hlen != r->sign.header_len)
		why = "header-length";
	if (why == NULL) {
		msg_header_scan(hdr, hlen, &h);
		if (h.nfrom_fields != 1 || h.from_bad || h.nfrom < 1)
			why = "from-unreadable";
		for (i = 0; why == NULL && i < (size_t)h.nfrom; i++)
			if (!sender_match(r->senders, h.from[i]))
				why = "from-not-granted";
	}
	if (why == NULL) {
		domain_of(h.from[0], dom, sizeof(dom));
		/* as the smtp role names it: by its A-labels (RFC 8616 4.1) */
		if (!smtp_ascii(dom) && smtp_domain_alabel(h.from[0] +
		    strlen(h.from[0]) - strlen(dom), dom, sizeof(dom)) == -1)
			dom[0] = '\0';
		if (strcmp(dom, env->from_domain) != 0)
			why = "from-domain";
	}
	if (why == NULL && body_hash(fd, (off_t)hlen + 2, size, relaxed,
	    simple, &mine) == -1)
		why = "read";
	if (why == NULL &&
	    ((relaxed && sodium_memcmp(mine.bh_relaxed, r->sign.bh_relaxed,
	    sizeof(mine.bh_relaxed)) != 0) ||
	    (simple && sodium_memcmp(mine.bh_simple, r->sign.bh_simple,
	    sizeof(mine.bh_simple)) != 0)))
		why = "body-hash";
	if (why != NULL) {
		log_warnx("msgid=%s event=commit-refused reason=%s "
		    "grant=%016llx user=%s", r->id, why,
		    (unsigned long long)r->grant, log_q(env->user));
		free(hdr);
		return -1;
	}
	*hdrp = hdr;
	return 0;
}
