/* ipc_msg.c — payload encoders and strict decoders; see ipc_msg.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "proto/smtp_parse.h"
#include "smtpd/smtp_metrics.h"

/* Fixed part of an envelope on the wire. */
struct ipc_env {
	char		 queue_id[QUEUE_ID_SIZE];
	char		 user[AUTH_USER_MAX + 1];
	char		 client_addr[64];
	char		 helo[SMTP_DOMAIN_MAX + 1];
	char		 reverse_path[SMTP_PATH_MAX + 1];
	char		 from_domain[SMTP_DOMAIN_MAX + 1];
	int32_t		 body_8bitmime;
	int32_t		 smtputf8;
	int64_t		 created;
	uint64_t	 size;
	uint32_t	 nrcpt;
	uint32_t	 extra;		/* prefix length (deliver) */
};

#define IPC_RCPT_MAX	100000

static const char *ipc_names[IPC_TYPE_MAX] = {
	[IPC_AUTH_LOGIN] = "AUTH_LOGIN",
	[IPC_AUTH_RESULT] = "AUTH_RESULT",
	[IPC_QUEUE_OPEN] = "QUEUE_OPEN",
	[IPC_QUEUE_OPENED] = "QUEUE_OPENED",
	[IPC_QUEUE_COMMIT] = "QUEUE_COMMIT",
	[IPC_QUEUE_COMMITTED] = "QUEUE_COMMITTED",
	[IPC_QUEUE_ABORT] = "QUEUE_ABORT",
	[IPC_RELAY_DELIVER] = "RELAY_DELIVER",
	[IPC_RELAY_RESULT] = "RELAY_RESULT",
	[IPC_POLICY_CONNECT] = "POLICY_CONNECT",
	[IPC_POLICY_MAIL] = "POLICY_MAIL",
	[IPC_POLICY_RESULT] = "POLICY_RESULT",
	[IPC_POLICY_CHARGE] = "POLICY_CHARGE",
	[IPC_CTL_REQUEST] = "CTL_REQUEST",
	[IPC_CTL_REPLY] = "CTL_REPLY",
	[IPC_RELAY_SIZE] = "RELAY_SIZE",
	[IPC_QUEUE_SIZE] = "QUEUE_SIZE",
	[IPC_RELAY_PACED] = "RELAY_PACED",
	[IPC_FILTER_CHECK] = "FILTER_CHECK",
	[IPC_FILTER_RESULT] = "FILTER_RESULT",
	[IPC_GRANT] = "GRANT",
	[IPC_GRANT_END] = "GRANT_END",
	[IPC_QUOTA_RESERVE] = "QUOTA_RESERVE",
	[IPC_QUOTA_RESULT] = "QUOTA_RESULT",
	[IPC_QUOTA_SETTLE] = "QUOTA_SETTLE",
	[IPC_METRICS_REQUEST] = "METRICS_REQUEST",
	[IPC_METRICS_REPLY] = "METRICS_REPLY",
	[IPC_RELOAD_FILE] = "RELOAD_FILE",
	[IPC_RELOAD_LISTEN] = "RELOAD_LISTEN",
	[IPC_RELOAD_PREPARE] = "RELOAD_PREPARE",
	[IPC_RELOAD_READY] = "RELOAD_READY",
	[IPC_RELOAD_COMMIT] = "RELOAD_COMMIT",
	[IPC_RELOAD_ABORT] = "RELOAD_ABORT",
	[IPC_PACE_TAKE] = "PACE_TAKE",
	[IPC_PACE_RESULT] = "PACE_RESULT",
	[IPC_USER_HOLD] = "USER_HOLD",
	[IPC_USER_REFUSED] = "USER_REFUSED",
	[IPC_GRANT_SYNC] = "GRANT_SYNC",
	[IPC_SMTP_METRICS] = "SMTP_METRICS",
};

const char *
ipc_type_name(uint32_t t)
{
	return t < IPC_TYPE_MAX && ipc_names[t] ? ipc_names[t] : "?";
}

/* A char array field holds a NUL-terminated string. */
#define STR_OK(f)	(memchr((f), '\0', sizeof(f)) != NULL)

/* No control characters (what goes into logs and envelope files). */
static int
text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 32 || *s == 0x7f)
			return 0;
	return 1;
}

/* RFC 6531: ASCII without SMTPUTF8, well-formed UTF-8 with it. */
static int
utf8_path_ok(const char *p, int smtputf8)
{
	return smtputf8 ? smtp_utf8_valid(p) : smtp_ascii(p);
}

/* An RFC 5321 path (without brackets): it must parse as one. */
static int
path_ok(const char *p, int allow_empty)
{
	char		 buf[SMTP_PATH_MAX + 3], out[SMTP_PATH_MAX + 1];
	const char	*rest;
	size_t		 len = strlen(p);

	if (len == 0)
		return allow_empty;
	if (len > SMTP_PATH_MAX)
		return 0;
	buf[0] = '<';
	memcpy(buf + 1, p, len);
	buf[len + 1] = '>';
	buf[len + 2] = '\0';
	return smtp_parse_path(buf, 0, out, sizeof(out), &rest) == 0 &&
	    *rest == '\0' && strcmp(out, p) == 0;
}

int
ipc_auth_login_decode(const void *d, size_t len, struct ipc_auth_login *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (!STR_OK(out->user) || !STR_OK(out->password))
		return -1;
	if (out->peer.ss_family != AF_INET && out->peer.ss_family != AF_INET6)
		return -1;
	return 0;
}

int
ipc_auth_result_decode(const void *d, size_t len, struct auth_reply *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if ((out->ok != 0 && out->ok != 1 && out->ok != AUTH_LOCKED) ||
	    !STR_OK(out->user) ||
	    !STR_OK(out->senders) || !text_ok(out->user) || !text_ok(out->senders))
		return -1;
	return 0;
}

int
ipc_queue_status_decode(const void *d, size_t len, struct ipc_queue_status *out)
{
	size_t	 i;

	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (out->status < QUEUE_OK || out->status > QUEUE_ERR_QUOTA ||
	    !STR_OK(out->queue_id) || !STR_OK(out->text) ||
	    !text_ok(out->text))
		return -1;
	for (i = 0; out->queue_id[i] != '\0'; i++)
		if (!((out->queue_id[i] >= '0' && out->queue_id[i] <= '9') ||
		    (out->queue_id[i] >= 'A' && out->queue_id[i] <= 'F') ||
		    (out->queue_id[i] >= 'a' && out->queue_id[i] <= 'f')))
			return -1;
	return 0;
}

int
ipc_filter_result_decode(const void *d, size_t len,
    struct ipc_filter_result *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if ((out->failed != 0 && out->failed != 1) || !STR_OK(out->reason) ||
	    !text_ok(out->reason) || !rspamd_verdict_valid(&out->verdict))
		return -1;
	return 0;
}

/* A growing payload buffer bounded by IPC_MAX_PAYLOAD. */
struct wbuf {
	unsigned char	*p;
	size_t		 len;
	int		 err;
};

static void
wb_add(struct wbuf *w, const void *d, size_t n)
{
	unsigned char	*np;

	if (w->err)
		return;
	if (w->len + n > IPC_MAX_PAYLOAD ||
	    (np = realloc(w->p, w->len + n)) == NULL) {
		w->err = 1;
		return;
	}
	w->p = np;
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static int
wb_done(struct wbuf *w, void **out, size_t *outlen)
{
	if (w->err) {
		free(w->p);
		return -1;
	}
	*out = w->p;
	*outlen = w->len;
	return 0;
}

static void
env_fixed(const struct envelope *env, uint32_t extra, struct ipc_env *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->queue_id, env->queue_id, sizeof(e->queue_id));
	memcpy(e->user, env->user, sizeof(e->user));
	memcpy(e->client_addr, env->client_addr, sizeof(e->client_addr));
	memcpy(e->helo, env->helo, sizeof(e->helo));
	memcpy(e->reverse_path, env->reverse_path, sizeof(e->reverse_path));
	memcpy(e->from_domain, env->from_domain, sizeof(e->from_domain));
	e->body_8bitmime = env->body_8bitmime;
	e->smtputf8 = env->smtputf8;
	e->created = env->created;
	e->size = env->size;
	e->nrcpt = (uint32_t)env->nrcpt;
	e->extra = extra;
}

/* Recipients: a state octet and the NUL-terminated path, each. */
static void
wb_rcpts(struct wbuf *w, const struct envelope *env)
{
	size_t	 i;

	for (i = 0; i < env->nrcpt; i++) {
		unsigned char st = (unsigned char)env->rcpt[i].state;

		wb_add(w, &st, 1);
		wb_add(w, env->rcpt[i].forward_path,
		    strlen(env->rcpt[i].forward_path) + 1);
	}
}

/* Read the fixed part; *OFF is past it.  -1 when malformed. */
static int
env_decode_fixed(const unsigned char *d, size_t len, struct envelope *env,
    uint32_t *extra, size_t *off)
{
	struct ipc_env	 e;

	if (len < sizeof(e))
		return -1;
	memcpy(&e, d, sizeof(e));
	if (!STR_OK(e.queue_id) || !STR_OK(e.user) || !STR_OK(e.client_addr) ||
	    !STR_OK(e.helo) || !STR_OK(e.reverse_path) || !STR_OK(e.from_domain) ||
	    !text_ok(e.user) || !text_ok(e.client_addr) || !text_ok(e.helo) ||
	    !text_ok(e.from_domain) || !path_ok(e.reverse_path, 1) ||
	    (e.body_8bitmime != 0 && e.body_8bitmime != 1) ||
	    (e.smtputf8 != 0 && e.smtputf8 != 1) ||
	    !utf8_path_ok(e.reverse_path, e.smtputf8) ||
	    e.nrcpt == 0 || e.nrcpt > IPC_RCPT_MAX)
		return -1;
	memset(env, 0, sizeof(*env));
	memcpy(env->queue_id, e.queue_id, sizeof(env->queue_id));
	memcpy(env->user, e.user, sizeof(env->user));
	memcpy(env->client_addr, e.client_addr, sizeof(env->client_addr));
	memcpy(env->helo, e.helo, sizeof(env->helo));
	memcpy(env->reverse_path, e.reverse_path, sizeof(env->reverse_path));
	memcpy(env->from_domain, e.from_domain, sizeof(env->from_domain));
	env->body_8bitmime = e.body_8bitmime;
	env->smtputf8 = e.smtputf8;
	env->created = (time_t)e.created;
	env->size = e.size;
	env->nrcpt = e.nrcpt;
	*extra = e.extra;
	*off = sizeof(e);
	return 0;
}

/* The recipients from D[*OFF..LEN): all of them, nothing left over. */
static int
env_decode_rcpts(const unsigned char *d, size_t len, size_t off,
    struct envelope *env)
{
	size_t	 i;

	if ((env->rcpt = calloc(env->nrcpt, sizeof(*env->rcpt))) == NULL)
		return -1;
	for (i = 0; i < env->nrcpt; i++) {
		const unsigned char *nul;
		size_t	 plen;

		if (off >= len || d[off] > RCPT_FAILED)
			goto bad;
		env->rcpt[i].state = d[off++];
		if ((nul = memchr(d + off, '\0', len - off)) == NULL)
			goto bad;
		plen = nul - (d + off);
		if (plen > SMTP_PATH_MAX)
			goto bad;
		memcpy(env->rcpt[i].forward_path, d + off, plen + 1);
		if (!path_ok(env->rcpt[i].forward_path, 0) ||
		    !utf8_path_ok(env->rcpt[i].forward_path, env->smtputf8))
			goto bad;
		off += plen + 1;
	}
	if (off != len)
		goto bad;
	return 0;
bad:
	free(env->rcpt);
	env->rcpt = NULL;
	return -1;
}

int
ipc_commit_encode(uint64_t grant, const struct envelope *env,
    const struct queue_sign_input *sign, void **out, size_t *outlen)
{
	struct wbuf	 w = { NULL, 0, 0 };
	struct ipc_env	 e;

	env_fixed(env, 0, &e);
	wb_add(&w, &grant, sizeof(grant));
	wb_add(&w, &e, sizeof(e));
	wb_add(&w, sign, sizeof(*sign));
	wb_rcpts(&w, env);
	return wb_done(&w, out, outlen);
}

int
ipc_commit_decode(const void *data, size_t len, uint64_t *grant,
    struct envelope *env, struct queue_sign_input *sign)
{
	const unsigned char *d = data;
	uint32_t	 extra;
	size_t		 off;

	if (len < sizeof(*grant))
		return -1;
	memcpy(grant, d, sizeof(*grant));
	d += sizeof(*grant);
	len -= sizeof(*grant);
	if (env_decode_fixed(d, len, env, &extra, &off) == -1 || extra != 0 ||
	    len - off < sizeof(*sign))
		return -1;
	memcpy(sign, d + off, sizeof(*sign));
	off += sizeof(*sign);
	if (sign->header_len > env->size)
		return -1;
	return env_decode_rcpts(d, len, off, env);
}

int
ipc_deliver_encode(const struct envelope *env, const char *prefix,
    size_t prefixlen, void **out, size_t *outlen)
{
	struct wbuf	 w = { NULL, 0, 0 };
	struct ipc_env	 e;

	if (prefixlen > IPC_MAX_PAYLOAD)
		return -1;
	env_fixed(env, (uint32_t)prefixlen, &e);
	wb_add(&w, &e, sizeof(e));
	if (prefixlen)
		wb_add(&w, prefix, prefixlen);
	wb_rcpts(&w, env);
	return wb_done(&w, out, outlen);
}

int
ipc_deliver_decode(const void *data, size_t len, struct envelope *env,
    const char **prefix, size_t *prefixlen)
{
	const unsigned char *d = data;
	uint32_t	 extra;
	size_t		 off;

	if (env_decode_fixed(d, len, env, &extra, &off) == -1 ||
	    len - off < extra)
		return -1;
	*prefix = (const char *)d + off;
	*prefixlen = extra;
	return env_decode_rcpts(d, len, off + extra, env);
}

struct ipc_result_hdr {
	uint64_t	 reqid;
	uint32_t	 nrcpt;
	char		 session_error[SMTP_REPLYLINE_MAX];
};

int
ipc_result_encode(const struct relay_result *r, void **out, size_t *outlen)
{
	struct wbuf		 w = { NULL, 0, 0 };
	struct ipc_result_hdr	 h;
	size_t			 i;

	memset(&h, 0, sizeof(h));
	h.reqid = r->reqid;
	h.nrcpt = (uint32_t)r->nrcpt;
	memcpy(h.session_error, r->session_error, sizeof(h.session_error));
	h.session_error[sizeof(h.session_error) - 1] = '\0';
	wb_add(&w, &h, sizeof(h));
	for (i = 0; i < r->nrcpt; i++) {
		int32_t	 code = r->rcpt[i].code;
		size_t	 n = strnlen(r->rcpt[i].reply, SMTP_REPLYLINE_MAX - 1);

		wb_add(&w, &code, sizeof(code));
		wb_add(&w, r->rcpt[i].reply, n);
		wb_add(&w, "", 1);
	}
	return wb_done(&w, out, outlen);
}

int
ipc_result_decode(const void *data, size_t len, struct relay_result *r)
{
	const unsigned char	*d = data;
	struct ipc_result_hdr	 h;
	size_t			 off = sizeof(h), i;

	memset(r, 0, sizeof(*r));
	if (len < sizeof(h))
		return -1;
	memcpy(&h, d, sizeof(h));
	if (!STR_OK(h.session_error) || h.nrcpt > IPC_RCPT_MAX)
		return -1;
	r->reqid = h.reqid;
	r->nrcpt = h.nrcpt;
	memcpy(r->session_error, h.session_error, sizeof(r->session_error));
	if (h.nrcpt && (r->rcpt = calloc(h.nrcpt, sizeof(*r->rcpt))) == NULL)
		return -1;
	for (i = 0; i < h.nrcpt; i++) {
		const unsigned char *nul;
		int32_t		 code;

		if (len - off < sizeof(code) + 1)
			goto bad;
		memcpy(&code, d + off, sizeof(code));
		off += sizeof(code);
		if (code < 0 || code > 599 ||
		    (nul = memchr(d + off, '\0', len - off)) == NULL ||
		    (size_t)(nul - (d + off)) >= SMTP_REPLYLINE_MAX)
			goto bad;
		r->rcpt[i].code = code;
		memcpy(r->rcpt[i].reply, d + off, nul - (d + off) + 1);
		off = nul - d + 1;
	}
	if (off != len)
		goto bad;
	return 0;
bad:
	free(r->rcpt);
	r->rcpt = NULL;
	return -1;
}

/* Issue 5: policy questions and answers. */

int
ipc_policy_decode(const void *d, size_t len, struct ipc_policy *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (!STR_OK(out->user) || !text_ok(out->user) ||
	    out->nrcpt > IPC_RCPT_MAX || out->size > IPC_POLICY_SIZE_MAX)
		return -1;
	if (out->peer.ss_family != AF_INET && out->peer.ss_family != AF_INET6)
		return -1;
	return 0;
}

/* A reply line: "4xx ..." or "5xx ...", printable. */
static int
policy_reply_ok(const char *r, int need)
{
	if (*r == '\0')
		return !need;
	return (r[0] == '4' || r[0] == '5') && r[1] >= '0' && r[1] <= '9' &&
	    r[2] >= '0' && r[2] <= '9' && r[3] == ' ' && text_ok(r);
}

int
ipc_upstream_decode(const void *d, size_t len, struct ipc_upstream *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (out->smtputf8 > 1 || out->pad != 0)
		return -1;
	return 0;
}

int
ipc_policy_result_decode(const void *d, size_t len, struct policy_result *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (out->verdict < POLICY_OK || out->verdict > POLICY_DENY ||
	    !STR_OK(out->reply) || !STR_OK(out->rcpt_reply) ||
	    !policy_reply_ok(out->reply, out->verdict != POLICY_OK) ||
	    !policy_reply_ok(out->rcpt_reply, 0))
		return -1;
	return 0;
}

int
ipc_relay_paced_decode(const void *buf, size_t len, struct ipc_relay_paced *p)
{
	if (len != sizeof(*p))
		return -1;
	memcpy(p, buf, sizeof(*p));
	if (!STR_OK(p->login) || !text_ok(p->login) || p->wait < 1 ||
	    p->wait > 366 * 86400)
		return -1;
	return 0;
}

/* Issue 12: grants and quota reservations. */

int
ipc_grant_decode(const void *d, size_t len, struct ipc_grant *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (out->id == 0 || !STR_OK(out->user) || !STR_OK(out->senders) ||
	    !STR_OK(out->client_addr) || !text_ok(out->user) ||
	    !text_ok(out->senders) || !text_ok(out->client_addr) ||
	    out->user[0] == '\0')
		return -1;
	return 0;
}

int
ipc_grant_id_decode(const void *d, size_t len, uint64_t *id)
{
	if (len != sizeof(*id))
		return -1;
	memcpy(id, d, sizeof(*id));
	return *id == 0 ? -1 : 0;
}

int
ipc_pace_decode(const void *d, size_t len, struct ipc_pace *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (!STR_OK(out->login) || !text_ok(out->login) ||
	    (out->fits != 0 && out->fits != 1) || out->wait_ms < 0 ||
	    out->wait_ms > (int64_t)366 * 86400 * 1000)
		return -1;
	return 0;
}

int
ipc_user_decode(const void *d, size_t len, struct ipc_user *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (!STR_OK(out->user) || out->user[0] == '\0' ||
	    !text_ok(out->user))
		return -1;
	return 0;
}

int
ipc_smtp_metrics_decode(const void *d, size_t len, struct smtp_metrics *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	return smtp_metrics_valid(out) ? 0 : -1;
}

int
ipc_refused_decode(const void *d, size_t len, struct ipc_refused *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (!STR_OK(out->user) || out->user[0] == '\0' ||
	    !text_ok(out->user) || out->nrcpt == 0 ||
	    out->nrcpt > IPC_REFUSED_MAX)
		return -1;
	return 0;
}

int
ipc_quota_decode(const void *d, size_t len, struct ipc_quota *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, d, sizeof(*out));
	if (out->grant == 0 || out->nrcpt > IPC_RCPT_MAX ||
	    out->size > IPC_POLICY_SIZE_MAX ||
	    (out->charge != 0 && out->charge != 1))
		return -1;
	return 0;
}
