/*
 * relay_send.c — drives the relay client by hand: loads a submitd.conf and
 * its upstream secrets, relays one message file to the configured smarthost
 * and prints each recipient's result.  A test tool, not installed.
 *
 *   relay_send [-v] [-n COUNT] [-P] [-8] [-i SECONDS] [-p PREFIXFILE]
 *       [-s SECRETS] [-w SECONDS] -f CONF FROM MSGFILE RCPT...
 *
 * FROM "" is the null reverse-path.  -n sends the message COUNT times, one
 * after the other (the next from the previous one's callback, so an idle
 * connection is reused; with -i that many seconds later), or all at once
 * with -P.  -w waits that long after
 * the last result before exiting (to watch idle connections QUIT).  Output,
 * one line per delivery and per recipient:
 *
 *   delivery 1 session_error=""
 *   rcpt=<a@example.org> code=250 reply="250 2.0.0 Ok"
 *
 * Exit status 0 when every recipient of every delivery got a 2xx, 1 when
 * any did not, 2 on usage or set-up errors.
 *
 * Build: tests/tools/relay_send.sh build (after make).
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "lib/log.h"
#include "relay/relay.h"

static struct event_base	*base;
static struct relay		*relay;
static struct envelope		 env;
static int			 msg_fd = -1;
static char			*prefix;
static size_t			 prefixlen;
static int			 count = 1, started, finished, parallel, failed;
static int			 wait_seconds, interval;
static struct event		*next_ev;

static void
usage(void)
{
	fprintf(stderr, "usage: relay_send [-Pv8] [-i seconds] [-n count] "
	    "[-p prefixfile] [-s secrets] [-w seconds] -f conf from msgfile "
	    "rcpt ...\n");
	exit(2);
}

static void
start_one(void)
{
	started++;
	if (!relay_has_capacity(relay))
		printf("delivery %d queued (no capacity now)\n", started);
	if (relay_deliver(relay, (uint64_t)started, msg_fd, prefix, prefixlen,
	    &env) == -1)
		errx(2, "relay_deliver: no upstream login for <%s>",
		    env.reverse_path);
}

static void
next_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	start_one();
}

static void
done_cb(const struct relay_result *res, void *arg)
{
	size_t	 i;

	(void)arg;
	finished++;
	printf("delivery %llu session_error=\"%s\"\n",
	    (unsigned long long)res->reqid, res->session_error);
	for (i = 0; i < res->nrcpt; i++) {
		printf("rcpt=<%s> code=%d reply=\"%s\"\n",
		    env.rcpt[i].forward_path, res->rcpt[i].code,
		    res->rcpt[i].reply);
		if (res->rcpt[i].code / 100 != 2)
			failed = 1;
	}
	fflush(stdout);
	if (finished == count) {
		struct timeval	 tv = { wait_seconds, 0 };

		event_base_loopexit(base, &tv);
	} else if (!parallel && started < count) {
		struct timeval	 tv = { interval, 0 };

		if (interval == 0)
			start_one();
		else
			evtimer_add(next_ev, &tv);
	}
}

static char *
read_file(const char *path, size_t *lenp)
{
	struct stat	 sb;
	char		*buf;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		err(2, "%s", path);
	if ((buf = malloc(sb.st_size + 1)) == NULL)
		err(2, "malloc");
	if (read(fd, buf, sb.st_size) != sb.st_size)
		err(2, "%s", path);
	close(fd);
	*lenp = sb.st_size;
	return buf;
}

int
main(int argc, char *argv[])
{
	struct conf	*conf;
	struct secrets	*secrets;
	struct stat	 sb;
	const char	*conf_file = NULL, *secrets_file = NULL;
	int		 ch, verbose = 0, i;

	while ((ch = getopt(argc, argv, "8f:i:n:Pp:s:vw:")) != -1) {
		switch (ch) {
		case '8':
			env.body_8bitmime = 1;
			break;
		case 'f':
			conf_file = optarg;
			break;
		case 'i':
			interval = atoi(optarg);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'P':
			parallel = 1;
			break;
		case 'p':
			prefix = read_file(optarg, &prefixlen);
			break;
		case 's':
			secrets_file = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			wait_seconds = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (conf_file == NULL || argc < 3 || count < 1)
		usage();
	signal(SIGPIPE, SIG_IGN);	/* as submitd: a closed peer is EPIPE */
	log_init(1, verbose);
	log_procname("relay_send");
	if ((conf = conf_load(conf_file, stderr)) == NULL)
		return 2;
	if (secrets_file == NULL)
		secrets_file = conf->relay.secrets_file;
	if ((secrets = secrets_load(secrets_file, stderr)) == NULL)
		return 2;

	if ((msg_fd = open(argv[1], O_RDONLY)) == -1 || fstat(msg_fd, &sb) == -1)
		err(2, "%s", argv[1]);
	(void)snprintf(env.queue_id, sizeof(env.queue_id), "%s",
	    "0000000000000relsnd");
	(void)snprintf(env.reverse_path, sizeof(env.reverse_path), "%s",
	    argv[0]);
	env.size = sb.st_size;
	env.nrcpt = argc - 2;
	if ((env.rcpt = calloc(env.nrcpt, sizeof(*env.rcpt))) == NULL)
		err(2, "calloc");
	for (i = 2; i < argc; i++)
		(void)snprintf(env.rcpt[i - 2].forward_path,
		    sizeof(env.rcpt[i - 2].forward_path), "%s", argv[i]);

	if ((base = event_base_new()) == NULL ||
	    (next_ev = evtimer_new(base, next_cb, NULL)) == NULL)
		errx(2, "event_base_new");
	if ((relay = relay_new(base, conf, secrets, done_cb, NULL)) == NULL)
		return 2;
	do
		start_one();
	while (parallel && started < count);
	event_base_dispatch(base);

	relay_free(relay);
	event_free(next_ev);
	event_base_free(base);
	close(msg_fd);
	free(env.rcpt);
	free(prefix);
	secrets_free(secrets);
	conf_free(conf);
	return failed ? 1 : 0;
}
