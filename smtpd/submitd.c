/*
 * submitd.c — main: options, configuration, and the start of the services
 * on one event loop.  See submitd(8).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>
#include <tls.h>

#include "auth/auth.h"
#include "auth/users.h"
#include "conf/conf.h"
#include "conf/secrets.h"
#include "queue/queue.h"
#include "smtpd/log.h"
#include "smtpd/relay.h"
#include "smtpd/signer.h"
#include "smtpd/smtp_server.h"

#define DRAIN_SECONDS	5	/* SIGTERM: time given to sessions in DATA */

struct submitd {
	struct event_base	*base;
	struct conf		*conf;
	struct secrets		*secrets;
	struct signer		*signer;
	struct queue		*queue;
	struct relay		*relay;
	struct smtp_server	*smtp;
	struct event		*ev_term, *ev_int, *ev_hup, *ev_drain;
	time_t			 drain_deadline;
};

static void
usage(void)
{
	fprintf(stderr, "usage: submitd [-dnv] [-f file]\n");
	exit(1);
}

/* Check that each pki's files can be read (for -n and before starting). */
static int
check_pki(const struct conf *conf)
{
	size_t	 i, len;
	int	 bad = 0;

	for (i = 0; i < conf->npki; i++) {
		const char *files[2] = { conf->pki[i].cert_file,
		    conf->pki[i].key_file };
		int	 j;

		for (j = 0; j < 2; j++) {
			uint8_t	*buf = tls_load_file(files[j], &len, NULL);

			if (buf == NULL) {
				fprintf(stderr, "%s: pki %s: %s: %s\n", conf->file,
				    conf->pki[i].name, files[j], strerror(errno));
				bad = 1;
			} else
				tls_unload_file(buf, len);
		}
	}
	return bad ? -1 : 0;
}

static void
on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct submitd	*d = arg;
	struct timeval	 tv = { 0, 200000 };

	(void)fd;
	(void)what;
	if (smtp_server_sessions(d->smtp) == 0 || time(NULL) >= d->drain_deadline) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->ev_drain, &tv);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct submitd	*d = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		log_info("event=sighup reload=unsupported (restart to reload)");
		break;
	case SIGTERM:
	case SIGINT:
		if (d->drain_deadline != 0) {
			event_base_loopexit(d->base, NULL);
			break;
		}
		log_info("event=shutdown sessions=%zu", smtp_server_sessions(d->smtp));
		smtp_server_stop(d->smtp);
		d->drain_deadline = time(NULL) + DRAIN_SECONDS;
		on_drain_tick(-1, 0, d);
		break;
	}
}

/* Load everything the configuration names; -1 (reported) on error. */
static int
load_files(struct submitd *d, struct users **users)
{
	if (check_pki(d->conf) == -1)
		return -1;
	if ((*users = users_load(d->conf->users_file, stderr)) == NULL)
		return -1;
	if ((d->secrets = secrets_load(d->conf->relay.secrets_file, stderr))
	    == NULL)
		return -1;
	if ((d->signer = signer_new(d->conf)) == NULL)
		return -1;
	return 0;
}

static int
start_services(struct submitd *d, struct users *users)
{
	if ((d->queue = queue_new(d->base, d->conf)) == NULL)
		return -1;
	queue_set_signer(d->queue, signer_sign, d->signer);
	if ((d->relay = relay_new(d->base, d->conf, d->secrets,
	    queue_relay_done, d->queue)) == NULL)
		return -1;
	if (auth_init(d->base, d->conf, users) == -1)
		return -1;
	if ((d->smtp = smtp_server_new(d->base, d->conf, d->queue)) == NULL)
		return -1;
	queue_set_relay(d->queue, d->relay);
	return 0;
}

static void
setup_signals(struct submitd *d)
{
	signal(SIGPIPE, SIG_IGN);
	d->ev_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->ev_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->ev_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->ev_drain = evtimer_new(d->base, on_drain_tick, d);
	if (d->ev_term == NULL || d->ev_int == NULL || d->ev_hup == NULL ||
	    d->ev_drain == NULL || evsignal_add(d->ev_term, NULL) == -1 ||
	    evsignal_add(d->ev_int, NULL) == -1 || evsignal_add(d->ev_hup, NULL) == -1)
		fatal("signals");
}

static void
teardown(struct submitd *d)
{
	smtp_server_free(d->smtp);
	auth_shutdown();
	relay_free(d->relay);
	queue_free(d->queue);
	signer_free(d->signer);
	secrets_free(d->secrets);
	if (d->ev_term) {
		event_free(d->ev_term);
		event_free(d->ev_int);
		event_free(d->ev_hup);
		event_free(d->ev_drain);
	}
	if (d->base)
		event_base_free(d->base);
	conf_free(d->conf);
}

int
main(int argc, char *argv[])
{
	struct submitd	 d;
	struct users	*users = NULL;
	const char	*file = CONF_DEFAULT_FILE;
	int		 ch, foreground = 0, checkonly = 0, verbose = 0;

	memset(&d, 0, sizeof(d));
	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd': foreground = 1; break;
		case 'f': file = optarg; break;
		case 'n': checkonly = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(1, verbose);
	if (sodium_init() < 0)
		fatalx("sodium_init failed");
	if ((d.conf = conf_load(file, stderr)) == NULL)
		return 1;
	if (load_files(&d, &users) == -1) {
		users_free(users);
		teardown(&d);
		return 1;
	}
	if (checkonly) {
		fprintf(stderr, "%s: configuration OK\n", file);
		users_free(users);
		teardown(&d);
		return 0;
	}
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	log_init(foreground, verbose);
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	setup_signals(&d);
	if (start_services(&d, users) == -1) {
		log_warnx("event=startup result=fail");
		teardown(&d);
		return 1;
	}
	log_info("event=started version=%s hostname=%s", SUBMITD_VERSION,
	    d.conf->hostname);
	event_base_dispatch(d.base);
	log_info("event=stopped");
	teardown(&d);
	return 0;
}
