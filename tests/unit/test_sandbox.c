/*
 * test_sandbox.c — the seccomp filters' argument rules (issue 12 item 7):
 * in a child that installs a role's real filter (lib/sandbox.c), each
 * forbidden call or argument kills the process with SIGSYS, while the
 * allowed forms of the same call go through.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/sandbox.h"
#include "tests/unit/check_main.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZED	1	/* the filters log instead of killing */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED	1
#endif
#endif

enum probe {
	P_IOCTL_TIOCSTI, P_IOCTL_FIONREAD, P_TGKILL_OTHER, P_TGKILL_SELF,
	P_CLONE_PROCESS, P_CLONE3, P_SOCKET_PACKET, P_SOCKET_UNIX,
	P_SOCKET_INET,
};

/* In a child: ROLE's filter, then PROBE; exit 0 if the call came back. */
static int
run_probe(const char *role, enum probe probe)
{
	pid_t	 pid;
	int	 st, fd;
	char	 c = 'x';

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		unsetenv("SUBMITD_UNSAFE_NO_SECCOMP");
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
			_exit(90);
		sandbox_apply(role);
		switch (probe) {
		case P_IOCTL_TIOCSTI:
			ioctl(0, TIOCSTI, &c);
			break;
		case P_IOCTL_FIONREAD:
			ioctl(0, FIONREAD, &st);
			break;
		case P_TGKILL_OTHER:
			syscall(SYS_tgkill, getppid(), getppid(), 0);
			break;
		case P_TGKILL_SELF:
			syscall(SYS_tgkill, getpid(), getpid(), 0);
			break;
		case P_CLONE_PROCESS:	/* a new process, not a thread */
			if (syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) == 0)
				_exit(0);
			break;
		case P_CLONE3:
			if (syscall(435, NULL, 0) != -1 || errno != ENOSYS)
				_exit(91);
			break;
		case P_SOCKET_PACKET:
			socket(AF_PACKET, SOCK_RAW, 0);
			break;
		case P_SOCKET_UNIX:
			if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1 ||
			    errno != EAFNOSUPPORT)
				_exit(92);
			break;
		case P_SOCKET_INET:
			if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
				_exit(93);
			break;
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return st;
}

static void
assert_killed(const char *role, enum probe p)
{
	int	 st = run_probe(role, p);

#ifdef SANITIZED
	(void)st;
#else
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s probe %d: status %#x, not killed by SIGSYS", role, p, st);
#endif
}

static void
assert_allowed(const char *role, enum probe p)
{
	int	 st = run_probe(role, p);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s probe %d: status %#x", role, p, st);
}

START_TEST(ioctl_tiocsti_kills_every_role)
{
	static const char *roles[] = { "smtp", "auth", "queue", "relay",
	    "control" };
	size_t	 i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		assert_killed(roles[i], P_IOCTL_TIOCSTI);
		assert_allowed(roles[i], P_IOCTL_FIONREAD);
	}
}
END_TEST

START_TEST(tgkill_only_own_process)
{
	assert_killed("smtp", P_TGKILL_OTHER);
	assert_killed("auth", P_TGKILL_OTHER);
	assert_allowed("smtp", P_TGKILL_SELF);
}
END_TEST

START_TEST(auth_clones_threads_only)
{
	assert_killed("auth", P_CLONE_PROCESS);
	assert_killed("queue", P_CLONE_PROCESS);
	assert_allowed("auth", P_CLONE3);
}
END_TEST

START_TEST(relay_sockets_inet_only)
{
	assert_killed("relay", P_SOCKET_PACKET);
	assert_allowed("relay", P_SOCKET_UNIX);	/* refused, not killed */
	assert_allowed("relay", P_SOCKET_INET);
	assert_killed("smtp", P_SOCKET_INET);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite	*s = suite_create("sandbox");
	TCase	*tc = tcase_create("args");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ioctl_tiocsti_kills_every_role);
	tcase_add_test(tc, tgkill_only_own_process);
	tcase_add_test(tc, auth_clones_threads_only);
	tcase_add_test(tc, relay_sockets_inet_only);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(sandbox_suite());
}
