/*
 * ctl_upstream.c — "submitctl check-upstream" (see ctl_upstream.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "ctl/ctl_upstream.h"
#include "relay/relay_probe.h"

static void
upstream_usage(void)
{
	fprintf(stderr, "usage: submitctl check-upstream [-f config] "
	    "[--as SENDER] [--timeout SECONDS]\n");
}

static void
print_step(const char *step, enum relay_probe_result r, const char *text,
    void *arg)
{
	static const char *const word[] = { "OK", "FAIL", "--" };

	(void)arg;
	printf("%-4s %-8s %s\n", word[r], step, text);
	fflush(stdout);
}

int
ctl_upstream_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*file = CONF_DEFAULT_FILE, *sender = NULL;
	const struct secret	*secret;
	struct secrets		*secrets;
	struct conf		*conf;
	uint64_t		 timeout = 30;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'a':
			sender = optarg;
			break;
		case 't':
			if (conf_number_parse(optarg, 3600, &timeout) == -1 ||
			    timeout == 0) {
				upstream_usage();
				return 2;
			}
			break;
		case 'h':
			upstream_usage();
			return 0;
		default:
			upstream_usage();
			return 2;
		}
	}
	if (optind != argc) {
		upstream_usage();
		return 2;
	}
	if ((conf = conf_load(file, stderr)) == NULL)
		return 2;
	if (!conf->has_relay) {
		fprintf(stderr, "submitctl: %s: no relay statement\n", file);
		conf_free(conf);
		return 2;
	}
	if ((secrets = secrets_load(conf->relay.secrets_file, stderr)) ==
	    NULL) {
		fprintf(stderr, "submitctl: check-upstream reads %s: run it as "
		    "root\n", conf->relay.secrets_file);
		conf_free(conf);
		return 2;
	}
	/* the login the relay would use: the first line matching SENDER
	 * (without --as: the null reverse-path's, else the first line) */
	secret = secrets_match(secrets, sender ? sender : "");
	if (secret == NULL && sender == NULL && secrets->n > 0)
		secret = &secrets->entries[0];
	printf("--   upstream %s://%s:%s, login %s%s%s%s\n",
	    conf->relay.tls == RELAY_SMTPS ? "smtps" : "smtp+tls",
	    conf->relay.host, conf->relay.port,
	    secret ? secret->login : "(none)", sender ? " for <" : "",
	    sender ? sender : "", sender ? ">" : "");
	rc = relay_probe(conf, secret, sender, (int)timeout, print_step, NULL);
	secrets_free(secrets);
	conf_free(conf);
	return rc == 0 ? 0 : 1;
}
