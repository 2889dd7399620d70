/* ctl_serve.c — answer a submitctl request in a role; see ctl_serve.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "ctl/ctl_client.h"
#include "smtpd/ctl_serve.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"

static void
ctl_send(struct ipc *ch, uint64_t reqid, int status, const char *text,
    size_t len, const char *role)
{
	void	*buf;
	size_t	 blen;

	if (ctl_reply_encode(status, text, len, &buf, &blen) == -1)
		fatal("%s: control reply", role);
	if (ipc_send(ch, IPC_CTL_REPLY, reqid, -1, buf, blen) == -1)
		fatalx("%s: cannot answer the control role", role);
	free(buf);
}

void
ctl_serve(struct ipc *ch, const struct ipc_msg *m, const char *role,
    ctl_fn fn, void *arg)
{
	static const char	 bad[] = "malformed request\n";
	struct evbuffer		*out;
	uint32_t		 flags;
	char			**argv;
	size_t			 len;
	int			 argc, status;

	if (m->fd != -1)
		close(m->fd);
	if (m->type != IPC_CTL_REQUEST || m->fd != -1 ||
	    ctl_request_decode(m->data, m->len, &flags, &argc, &argv) == -1) {
		log_warnx("%s: event=ipc-reject from=control type=%u (%s) "
		    "reason=\"malformed\"", role, m->type,
		    ipc_type_name(m->type));
		ctl_send(ch, m->reqid, 1, bad, sizeof(bad) - 1, role);
		return;
	}
	if ((out = evbuffer_new()) == NULL)
		fatal("%s: evbuffer_new", role);
	status = fn(arg, argc, argv, (flags & CTL_F_JSON) != 0, out) ? 1 : 0;
	free(argv);
	len = evbuffer_get_length(out);
	if (len > CTL_REPLY_MAX - 4)
		len = CTL_REPLY_MAX - 4;
	ctl_send(ch, m->reqid, status, (const char *)evbuffer_pullup(out,
	    (ev_ssize_t)len), len, role);
	evbuffer_free(out);
}

/* A request whose answer is on its way (ctl_serve_async). */
struct ctl_pending {
	struct ipc	*ch;
	uint64_t	 reqid;
	const char	*role;
	struct evbuffer	*out;
};

static void
ctl_pending_done(void *token, int status)
{
	struct ctl_pending	*p = token;
	size_t			 len;

	len = evbuffer_get_length(p->out);
	if (len > CTL_REPLY_MAX - 4)
		len = CTL_REPLY_MAX - 4;
	ctl_send(p->ch, p->reqid, status ? 1 : 0, (const char *)
	    evbuffer_pullup(p->out, (ev_ssize_t)len), len, p->role);
	evbuffer_free(p->out);
	free(p);
}

void
ctl_serve_async(struct ipc *ch, const struct ipc_msg *m, const char *role,
    ctl_afn fn, void *arg)
{
	static const char	 bad[] = "malformed request\n";
	struct ctl_pending	*p;
	uint32_t		 flags;
	char			**argv;
	int			 argc;

	if (m->fd != -1)
		close(m->fd);
	if (m->type != IPC_CTL_REQUEST || m->fd != -1 ||
	    ctl_request_decode(m->data, m->len, &flags, &argc, &argv) == -1) {
		log_warnx("%s: event=ipc-reject from=control type=%u (%s) "
		    "reason=\"malformed\"", role, m->type,
		    ipc_type_name(m->type));
		ctl_send(ch, m->reqid, 1, bad, sizeof(bad) - 1, role);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->out = evbuffer_new()) == NULL)
		fatal("%s: ctl_serve", role);
	p->ch = ch;
	p->reqid = m->reqid;
	p->role = role;
	fn(arg, argc, argv, (flags & CTL_F_JSON) != 0, p->out,
	    ctl_pending_done, p);
	free(argv);
}
