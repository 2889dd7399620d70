/*
 * role_metrics.c — the metrics role (issue 15): serves GET /metrics on the
 * address of "metrics listen on ADDR port N" with libevent's evhttp.
 *
 * Why a role of its own and not the control role: this is the one process
 * that parses HTTP from the network for the operator's monitoring, and a
 * bug in that parser must reach nothing.  It holds no secret and no file
 * (chroot /var/empty, _submitd, seccomp: accept and the common calls), and
 * its only channel goes to the control role, which accepts nothing from it
 * but IPC_METRICS_REQUEST: it can ask for the counters, never for a
 * submitctl command.  The control role asks the auth and queue roles for
 * their counters (the ctl request "metrics") and hands back the text,
 * (the auth role adds the smtp role's, which the smtp role, holding no
 * secret and no control channel, sends it once a second: smtp_metrics.h),
 * which this role sends in the format the scraper asked for: OpenMetrics
 * 1.0 when its Accept names application/openmetrics-text, else the
 * Prometheus text format 0.0.4 (promtool's).  The counters themselves are
 * kept by the roles that see the events (auth/auth_metrics.c,
 * queue/queue_metrics.c): a snapshot per scrape, nothing pushed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "conf/conf.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "smtpd/ipc_msg.h"
#include "smtpd/roles.h"

#define METRICS_PENDING_MAX	16	/* scrapes waiting at once */
#define METRICS_DEADLINE	10	/* seconds for the roles to answer */

struct scrape {
	uint64_t		 reqid;
	struct evhttp_request	*req;
	struct event		*deadline;
	int			 openmetrics;
};

static struct {
	struct event_base	*base;
	struct ipc		*control;
	struct scrape		*pending[METRICS_PENDING_MAX];
	uint64_t		 next_reqid;
	uint64_t		 scrapes;
} M;

static void
scrape_free(struct scrape *s)
{
	size_t	 i;

	for (i = 0; i < METRICS_PENDING_MAX; i++)
		if (M.pending[i] == s)
			M.pending[i] = NULL;
	event_free(s->deadline);
	free(s);
}

/*
 * The roles' text (Prometheus 0.0.4: "# TYPE x_total counter") into OUT,
 * for OpenMetrics with the counter families named without their _total
 * suffix, and "# EOF" at the end.
 */
static void
body_write(struct evbuffer *out, const char *text, size_t len, int om)
{
	const char	*p = text, *end = text + len, *nl;
	size_t		 n;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (om && n > 7 && (strncmp(p, "# TYPE ", 7) == 0 ||
		    strncmp(p, "# HELP ", 7) == 0)) {
			const char *sp = memchr(p + 7, ' ', n - 7);

			if (sp != NULL && sp - (p + 7) > 6 &&
			    memcmp(sp - 6, "_total", 6) == 0) {
				evbuffer_add(out, p, (size_t)(sp - 6 - p));
				evbuffer_add(out, sp, (size_t)(nl - sp));
				evbuffer_add(out, "\n", 1);
				p = nl + 1;
				continue;
			}
		}
		evbuffer_add(out, p, n);
		evbuffer_add(out, "\n", 1);
		p = nl + 1;
	}
	if (om)
		evbuffer_add_printf(out, "# EOF\n");
}

static void
scrape_answer(struct scrape *s, int code, const char *text, size_t len)
{
	struct evbuffer	*out;
	struct evkeyvalq *h;

	if ((out = evbuffer_new()) == NULL)
		fatal("metrics: evbuffer_new");
	h = evhttp_request_get_output_headers(s->req);
	if (code == 200) {
		struct evbuffer	*all;
		char		 self[256];
		int		 n;

		M.scrapes++;
		n = snprintf(self, sizeof(self), "# TYPE "
		    "submitd_metrics_scrapes_total counter\n# HELP "
		    "submitd_metrics_scrapes_total Scrapes answered by this "
		    "endpoint.\nsubmitd_metrics_scrapes_total %llu\n",
		    (unsigned long long)M.scrapes);
		if ((all = evbuffer_new()) == NULL ||
		    evbuffer_add(all, text, len) == -1 ||
		    evbuffer_add(all, self, (size_t)n) == -1)
			fatal("metrics: evbuffer");
		len = evbuffer_get_length(all);
		body_write(out, (const char *)evbuffer_pullup(all, -1), len,
		    s->openmetrics);
		evbuffer_free(all);
		evhttp_add_header(h, "Content-Type", s->openmetrics ?
		    "application/openmetrics-text; version=1.0.0; "
		    "charset=utf-8" : "text/plain; version=0.0.4; "
		    "charset=utf-8");
		evhttp_send_reply(s->req, 200, "OK", out);
	} else {
		evbuffer_add_printf(out, "%s\n", text);
		evhttp_add_header(h, "Content-Type", "text/plain");
		evhttp_send_reply(s->req, code, text, out);
	}
	evbuffer_free(out);
	scrape_free(s);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	scrape_answer(arg, 503, "Service Unavailable", 0);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct timeval	 tv = { METRICS_DEADLINE, 0 };
	struct scrape	*s;
	const char	*path, *accept;
	size_t		 i;

	(void)arg;
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, 404, "Not Found");
		return;
	}
	for (i = 0; i < METRICS_PENDING_MAX; i++)
		if (M.pending[i] == NULL)
			break;
	if (i == METRICS_PENDING_MAX || M.control == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		evhttp_send_error(req, 503, "Service Unavailable");
		return;
	}
	accept = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept");
	s->openmetrics = accept != NULL &&
	    strstr(accept, "application/openmetrics-text") != NULL;
	s->req = req;
	s->reqid = ++M.next_reqid;
	if ((s->deadline = evtimer_new(M.base, on_deadline, s)) == NULL)
		fatal("metrics: evtimer_new");
	evtimer_add(s->deadline, &tv);
	M.pending[i] = s;
	if (ipc_send(M.control, IPC_METRICS_REQUEST, s->reqid, -1, NULL,
	    0) == -1)
		scrape_answer(s, 503, "Service Unavailable", 0);
}

static void
dispatch(struct ipc *ch, const struct ipc_msg *m, void *arg)
{
	size_t	 i;

	(void)arg;
	if (m == NULL) {
		log_warnx("event=peer-closed role=metrics peer=control");
		M.control = NULL;
		ipc_free(ch);
		return;
	}
	if (m->type != IPC_METRICS_REPLY || m->fd != -1) {
		role_ipc_reject(m, "control", "unexpected type");
		return;
	}
	for (i = 0; i < METRICS_PENDING_MAX; i++)
		if (M.pending[i] != NULL && M.pending[i]->reqid == m->reqid) {
			scrape_answer(M.pending[i], 200, m->data, m->len);
			return;
		}
}

int
role_metrics_listen(const struct conf *conf)
{
	int	 fd, one = 1;

	if ((fd = socket(conf->metrics_ss.ss_family, SOCK_STREAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (conf->metrics_ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (const struct sockaddr *)&conf->metrics_ss,
	    conf->metrics_sslen) == -1 || listen(fd, 64) == -1) {
		log_warn("%s:%d: metrics listen", conf->file,
		    conf->metrics_line);
		close(fd);
		return -1;
	}
	return fd;
}

void
role_metrics_main(struct conf *conf, int listen_fd, int control_fd)
{
	struct evhttp	*http;

	M.base = role_start("metrics");
	role_sandbox(conf, PRIVSEP_EMPTY_DIR, "metrics");
	if ((http = evhttp_new(M.base)) == NULL)
		fatal("metrics: evhttp_new");
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(http, 8192);
	evhttp_set_max_body_size(http, 0);
	evhttp_set_timeout(http, 30);
	evhttp_set_gencb(http, on_request, NULL);
	if (evhttp_accept_socket(http, listen_fd) == -1)
		fatal("metrics: evhttp_accept_socket");
	if ((M.control = ipc_new(M.base, control_fd, "metrics<-control",
	    dispatch, NULL)) == NULL)
		fatal("ipc");
	role_run(M.base);
}
