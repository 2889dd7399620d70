/*
 * submitd.c — main: options, configuration check, then the parent process
 * that runs the roles (parent.c).  See submitd(8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "smtpd/config.h"
#include "smtpd/parent.h"

static void
usage(void)
{
	fprintf(stderr, "usage: submitd [-dnv] [-f file]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct conf	*conf;
	const char	*file = CONF_DEFAULT_FILE;
	int		 ch, foreground = 0, checkonly = 0, verbose = 0, status;

	privsep_title_init(argc, argv);
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
	if ((conf = conf_load(file, stderr)) == NULL)
		return 1;
	if (config_check(conf, stderr) == -1) {
		conf_free(conf);
		return 1;
	}
	if (checkonly) {
		fprintf(stderr, "%s: configuration OK\n", file);
		conf_free(conf);
		return 0;
	}
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	log_init(foreground, verbose);
	status = parent_run(conf);
	conf_free(conf);
	return status;
}
