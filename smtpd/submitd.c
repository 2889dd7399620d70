/*
 * submitd.c — main: options, configuration check, then the parent process
 * that runs the roles (parent.c).  See submitd(8).
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "lib/submitd.h"
#include "smtpd/config.h"
#include "smtpd/parent.h"

#define USAGE	"usage: submitd [-dFhnVv] [-f file]\n"

/* usage: -h prints it on stdout and succeeds; a wrong command line exits 2. */
static void
usage(int status)
{
	fputs(USAGE, status == 0 ? stdout : stderr);
	exit(status);
}

/*
 * config_check in a child of its own (issue 18 target 3): parsing the
 * certificates, keys and CA files initialises OpenSSL and touches about
 * 4 MiB of libcrypto's and libssl's pages and their heap, which the
 * parent, which never does TLS, would otherwise keep resident for good
 * (and every role forked from it would inherit the heap).  Its errors
 * and warnings go to stderr as before; 0 or -1.  Without a child (fork
 * fails), the check runs here.
 */
static int
config_check_apart(const struct conf *conf)
{
	pid_t	 pid;
	int	 st;

	fflush(NULL);
	switch ((pid = fork())) {
	case -1:
		return config_check(conf, stderr);
	case 0:
		st = config_check(conf, stderr);
		fflush(stderr);
		_exit(st == 0 ? 0 : 1);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid");
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 0 ? 0 : -1;
	fprintf(stderr, "submitd: configuration check died of signal %d\n",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return -1;
}

/*
 * Into the background, like daemon(3), but the command waits until every
 * role serves (exit 0) or the start fails (exit 1): until then warnings
 * and errors go to its stderr as well as to syslog.
 */
static void
background(void)
{
	int	 fds[2], st, fd;
	pid_t	 pid;
	char	 c;
	ssize_t	 n;

	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("pipe2");
	switch ((pid = fork())) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		close(fds[1]);
		while ((n = read(fds[0], &c, 1)) == -1 && errno == EINTR)
			;
		if (n == 1)
			_exit(0);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		fprintf(stderr, "submitd: not started (%s %d); the reason is "
		    "above and in the mail log\n", WIFSIGNALED(st) ? "signal" :
		    "exit status", WIFSIGNALED(st) ? WTERMSIG(st) :
		    WEXITSTATUS(st));
		_exit(1);
	}
	close(fds[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	parent_set_started_fd(fds[1]);
}

int
main(int argc, char *argv[])
{
	struct conf	*conf;
	const char	*file = CONF_DEFAULT_FILE;
	int		 ch, debug = 0, fg_syslog = 0, checkonly = 0, verbose = 0;
	int		 status;

	privsep_title_init(argc, argv);
	opterr = 0;
	while ((ch = getopt(argc, argv, ":dFf:hnVv")) != -1) {
		switch (ch) {
		case 'd': debug = 1; break;
		case 'F': fg_syslog = 1; break;
		case 'f': file = optarg; break;
		case 'h': usage(0); break;
		case 'n': checkonly = 1; break;
		case 'V':
			printf("submitd %s\n", SUBMITD_VERSION);
			return 0;
		case 'v': verbose = 1; break;
		case ':':
			fprintf(stderr, "submitd: option -%c needs an argument\n",
			    optopt);
			usage(2);
			break;
		default:
			fprintf(stderr, "submitd: unknown option -%c\n", optopt);
			usage(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "submitd: unexpected argument: %s\n", argv[optind]);
		usage(2);
	}
	if (debug && fg_syslog) {
		fprintf(stderr, "submitd: -d and -F exclude each other\n");
		usage(2);
	}
	log_init(1, verbose);
	if (sodium_init() < 0)
		fatalx("sodium_init failed");
	if ((conf = conf_load(file, stderr)) == NULL)
		return 1;
	if (config_check_apart(conf) == -1) {
		conf_free(conf);
		return 1;
	}
	if (checkonly) {
		fprintf(stderr, "%s: configuration OK\n", file);
		conf_free(conf);
		return 0;
	}
	/*
	 * -d: in the foreground, logging to stderr; -F: in the foreground,
	 * logging to syslog (systemd: Type=notify, READY=1 once every role
	 * serves); neither: in the background once every role serves.
	 */
	log_init(debug, verbose);
	if (!debug && !fg_syslog) {
		log_stderr_too(1);
		background();
	}
	status = parent_run(conf);
	conf_free(conf);
	return status;
}
