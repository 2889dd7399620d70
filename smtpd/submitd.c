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
#include <tls.h>

#include "auth/users.h"
#include "conf/conf.h"
#include "conf/secrets.h"
#include "lib/log.h"
#include "smtpd/parent.h"
#include "lib/privsep.h"
#include "queue/signer.h"

static void
usage(void)
{
	fprintf(stderr, "usage: submitd [-dnv] [-f file]\n");
	exit(1);
}

/* Each pki's files can be read. */
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

/*
 * Everything the configuration names can be read and parsed: the roles
 * read them again for themselves, so nothing is kept here (the parent
 * holds no secret while the daemon runs).
 */
static int
check_files(const struct conf *conf)
{
	struct users	*users;
	struct secrets	*secrets;
	struct signer	*signer;
	int		 bad = 0;

	if (check_pki(conf) == -1)
		bad = 1;
	if ((users = users_load(conf->users_file, stderr)) == NULL)
		bad = 1;
	users_free(users);
	if ((secrets = secrets_load(conf->relay.secrets_file, stderr)) == NULL)
		bad = 1;
	secrets_free(secrets);
	if ((signer = signer_new(conf)) == NULL)
		bad = 1;
	signer_free(signer);
	return bad ? -1 : 0;
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
	if (check_files(conf) == -1) {
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
