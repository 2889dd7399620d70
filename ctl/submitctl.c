/*
 * submitctl.c — talk to a running submitd, or work offline (passwd, dkim).
 * See submitctl(8).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl/ctl_audit.h"
#include "ctl/ctl_client.h"
#include "ctl/ctl_dkim.h"
#include "ctl/ctl_upstream.h"
#include "lib/submitd.h"

/* Argon2id cost written by "passwd": t=3, m=64 MiB, p=1 (DESIGN.md). */
#define PASSWD_OPSLIMIT	3
#define PASSWD_MEMLIMIT	(64UL * 1024 * 1024)

/*
 * Every command and its arguments, for "submitctl COMMAND -h" (the
 * runbook's test checks each command line it names against this) and for
 * the usage message.  A command added to the daemon or to submitctl is
 * added here too.
 */
static const struct ctl_command {
	const char	*verb;
	const char	*usage;
} commands[] = {
	{ "show",	"show queue | show message ID | show stats | "
			"show limits [USER|IP] | show filter | "
			"show held-users" },
	{ "flush",	"flush [ID]" },
	{ "remove",	"remove ID | remove ALL | remove sender ADDRESS | "
			"remove user LOGIN" },
	{ "hold",	"hold ID | hold ALL | hold sender ADDRESS | "
			"hold user LOGIN" },
	{ "release",	"release ID | release ALL | release sender ADDRESS | "
			"release user LOGIN" },
	{ "pause",	"pause relay" },
	{ "resume",	"resume relay" },
	{ "unlock",	"unlock USER|IP" },
	{ "release-user", "release-user LOGIN" },
	{ "reload",	"reload" },
	{ "passwd",	"passwd < password" },
	{ "dkim",	"dkim keygen|sign|verify ..." },
	{ "audit",	"audit [-f config] [--resolver IP[:PORT]] "
			"[--public-ip IP] [--json]" },
	{ "check-upstream", "check-upstream [-f config] [--as SENDER] "
			"[--timeout SECONDS]" },
	{ NULL,		NULL }
};

static void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: submitctl [-s socket] command [args]\n");
	for (i = 0; commands[i].verb; i++)
		fprintf(stderr, "       submitctl %s\n", commands[i].usage);
	exit(2);
}

/* "submitctl VERB ... -h": the usage of VERB on stdout, 0; 2 if unknown. */
static int
command_help(const char *verb)
{
	size_t	 i;

	for (i = 0; commands[i].verb; i++)
		if (strcmp(commands[i].verb, verb) == 0) {
			printf("usage: submitctl %s\n", commands[i].usage);
			return 0;
		}
	fprintf(stderr, "submitctl: unknown command '%s'\n", verb);
	return 2;
}

/* The terminal's settings while a password is typed without echo. */
static struct termios	 tty_saved;
static volatile sig_atomic_t tty_changed;

static void
tty_restore(void)
{
	if (tty_changed) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
		tty_changed = 0;
	}
}

static void
tty_on_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * One password line from stdin into PASS (AUTH_PASS_MAX + 2 octets); on a
 * terminal after PROMPT, without echo.  0, or -1 with a message.
 */
static int
passwd_read(char *pass, size_t size, const char *prompt)
{
	struct termios	 t;
	size_t		 len;
	int		 tty = isatty(STDIN_FILENO), ok;

	if (tty) {
		/* echo off first, then the prompt: nothing typed is shown */
		if (tcgetattr(STDIN_FILENO, &tty_saved) == 0) {
			t = tty_saved;
			t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			t.c_lflag |= ICANON;
			signal(SIGINT, tty_on_signal);
			signal(SIGTERM, tty_on_signal);
			signal(SIGHUP, tty_on_signal);
			signal(SIGTSTP, SIG_IGN);
			if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
				tty_changed = 1;
		}
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
	}
	ok = fgets(pass, (int)size, stdin) != NULL;
	if (tty) {
		tty_restore();
		fprintf(stderr, "\n");
	}
	if (!ok) {
		fprintf(stderr, "submitctl: passwd: no password on stdin\n");
		return -1;
	}
	len = strcspn(pass, "\r\n");
	if (pass[len] == '\0' && !feof(stdin)) {
		fprintf(stderr, "submitctl: passwd: password longer than %d octets\n",
		    AUTH_PASS_MAX);
		return -1;
	}
	pass[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "submitctl: passwd: empty password\n");
		return -1;
	}
	return 0;
}

/*
 * Read a password, print its Argon2id hash.  On a terminal: no echo, and
 * asked twice (they must match); else one line from stdin.
 */
static int
ctl_passwd(void)
{
	char	 pass[AUTH_PASS_MAX + 2], again[AUTH_PASS_MAX + 2];
	char	 hash[crypto_pwhash_STRBYTES];
	int	 rc = 1;

	if (passwd_read(pass, sizeof(pass), "Password: ") == -1)
		goto done;
	if (isatty(STDIN_FILENO)) {
		if (passwd_read(again, sizeof(again), "Again: ") == -1)
			goto done;
		if (strcmp(pass, again) != 0) {
			fprintf(stderr, "submitctl: passwd: the passwords differ\n");
			goto done;
		}
	}
	if (crypto_pwhash_str_alg(hash, pass, strlen(pass), PASSWD_OPSLIMIT,
	    PASSWD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		fprintf(stderr, "submitctl: passwd: out of memory\n");
		goto done;
	}
	printf("%s\n", hash);
	rc = 0;
done:
	sodium_memzero(pass, sizeof(pass));
	sodium_memzero(again, sizeof(again));
	return rc;
}

int
main(int argc, char *argv[])
{
	const char	*sockpath = NULL;
	int		 ch;

	while ((ch = getopt(argc, argv, "+s:")) != -1) {
		switch (ch) {
		case 's':
			sockpath = optarg;	/* control socket */
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (sodium_init() < 0) {
		fprintf(stderr, "submitctl: sodium_init failed\n");
		return 1;
	}
	if (argc >= 2 && (strcmp(argv[argc - 1], "-h") == 0 ||
	    strcmp(argv[argc - 1], "--help") == 0))
		return command_help(argv[0]);
	if (strcmp(argv[0], "passwd") == 0)
		return ctl_passwd();
	if (strcmp(argv[0], "audit") == 0)
		return ctl_audit_main(argc, argv);
	if (strcmp(argv[0], "check-upstream") == 0)
		return ctl_upstream_main(argc, argv);
	if (strcmp(argv[0], "dkim") == 0)
		return ctl_dkim_main(argc, argv);
	/* Everything else is a request to the running daemon. */
	return ctl_client_main(sockpath, argc, argv);
}
