/*
 * sandbox.c — the seccomp filter of each role (Linux, libseccomp).
 *
 * Every role gets what an event loop with TLS and logging needs; each then
 * adds its own: smtp accepts, auth runs worker threads, queue works on
 * files in its spool, relay opens upstream sockets.  Anything else kills
 * the process (SIGSYS), which the parent reports.  In sanitizer builds the
 * filter logs instead of killing: the sanitizers' own machinery (leak
 * checking, symbolizing) needs calls no role makes.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <sched.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "lib/log.h"
#include "lib/sandbox.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANDBOX_DEFAULT	SCMP_ACT_LOG
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_DEFAULT	SCMP_ACT_LOG
#endif
#endif
#ifndef SANDBOX_DEFAULT
#define SANDBOX_DEFAULT	SCMP_ACT_KILL_PROCESS
#endif

static const char *const sys_common[] = {
	"read", "readv", "write", "writev", "close", "fstat", "newfstatat",
	"lseek", "mmap", "munmap", "mremap", "mprotect", "brk", "madvise",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "poll", "ppoll", "select", "pselect6", "eventfd2",
	"fcntl", "getrandom", "futex", "sched_yield", "exit",
	"exit_group", "restart_syscall", "sendmsg", "recvmsg", "sendto",
	"recvfrom", "getsockopt", "setsockopt", "getsockname", "getpeername",
	"shutdown", "pipe2", "socketpair", "uname", "getpriority",
	"prlimit64", "rseq", "set_robust_list",
	"sysinfo",	/* glibc qsort() asks for the memory size */
	NULL
};

static const char *const sys_smtp[] = { "accept", "accept4", NULL };

/* The control socket (issue 7): bound before the filter, accept only. */
static const char *const sys_control[] = { "accept", "accept4", NULL };

static const char *const sys_auth[] = {
	/* clone: threads only, clone3 refused (sandbox_allow_args) */
	"sched_getaffinity", "set_tid_address",
	/* LMDB counters (auth/store.c, issue 5) */
	"pwrite64", "pread64", "fdatasync", "fsync", "msync", "ftruncate",
	/* state redis (auth/state_redis.c, issue 17): reconnects */
	"socket", "connect",
	NULL
};

static const char *const sys_queue[] = {
	/* clone: threads only (signer, group commit: lib/workq.c) */
	"openat", "open", "unlink", "unlinkat", "rename", "renameat",
	"renameat2", "mkdir", "mkdirat", "fsync", "fdatasync", "getdents64",
	"pread64", "pwrite64", "ftruncate", "fchmod", "statx", "dup", "dup3",
	"fstatfs", NULL
};

static const char *const sys_relay[] = {
	/* socket: AF_INET, AF_INET6 only (sandbox_allow_args) */
	"connect", "bind", "openat", "open", "dup", "dup3", "pread64",
	NULL
};

/*
 * The filter role (issue 16) talks to rspamd and nothing else: TCP
 * sockets (socket() is allowed for AF_INET and AF_INET6 only, below) and
 * connect; the message comes mapped from the fd the queue passed.  With
 * rspamd on a unix socket, AF_UNIX instead (sandbox_filter_unix): the role is
 * then chrooted in the socket's directory, so that the only path it can
 * connect to is there (an abstract socket needs no path: seccomp cannot
 * read connect's address, the chroot does not hide those).
 */
static const char *const sys_filter[] = { "connect", NULL };
static int filter_unix;

void
sandbox_filter_unix(void)
{
	filter_unix = 1;
}

/*
 * The metrics role (issue 15): its HTTP listener (bound by the parent)
 * and one channel to the control role; it accepts, and nothing else.
 */
static const char *const sys_metrics[] = { "accept", "accept4", NULL };

static void
sandbox_allow_filter_socket(scmp_filter_ctx ctx)
{
	int	 nr = seccomp_syscall_resolve_name("socket");

	/* one form or the other: switching needs a restart */
	if (filter_unix) {
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) != 0)
			fatalx("filter: seccomp: cannot allow socket");
		return;
	}
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET6)) != 0)
		fatalx("filter: seccomp: cannot allow socket");
}

static void
sandbox_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
    const char *role, unsigned n, struct scmp_arg_cmp a)
{
	int	 nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return;		/* not on this architecture */
	if ((n == 0 ? seccomp_rule_add(ctx, action, nr, 0) :
	    seccomp_rule_add(ctx, action, nr, 1, a)) != 0)
		fatalx("%s: seccomp: cannot add a rule for %s", role, name);
}

/*
 * Issue 12 item 7: the calls allowed only with some arguments.
 *   ioctl   the requests glibc and libevent make (isatty's TCGETS,
 *           FIONREAD, FIONBIO, FIOCLEX/FIONCLEX): never TIOCSTI
 *   tgkill  this process's own threads only
 *   clone   (auth, queue) new threads only; clone3 answers ENOSYS (its flags are
 *           behind a pointer seccomp cannot read; glibc falls back to clone)
 *   socket  (relay) AF_INET and AF_INET6 only: AF_UNIX answers
 *           EAFNOSUPPORT (glibc's getaddrinfo probes nscd's socket; an
 *           abstract AF_UNIX socket would reach out of the chroot), any
 *           other family kills (AF_NETLINK allowed: getaddrinfo asks the
 *           kernel for the addresses configured)
 */
static void
sandbox_allow_args(scmp_filter_ctx ctx, const char *role)
{
	static const unsigned long ioctls[] = {
		TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX
	};
	size_t	 i;

	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		sandbox_rule(ctx, SCMP_ACT_ALLOW, "ioctl", role, 1,
		    SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "tgkill", role, 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	if (strcmp(role, "auth") == 0 || strcmp(role, "queue") == 0) {
		sandbox_rule(ctx, SCMP_ACT_ALLOW, "clone", role, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
		sandbox_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", role, 0,
		    SCMP_A0(SCMP_CMP_EQ, 0));
	}
	if (strcmp(role, "relay") == 0) {
		sandbox_rule(ctx, SCMP_ACT_ALLOW, "socket", role, 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_INET));
		sandbox_rule(ctx, SCMP_ACT_ALLOW, "socket", role, 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_INET6));
		sandbox_rule(ctx, SCMP_ACT_ALLOW, "socket", role, 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
		sandbox_rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", role,
		    1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	}
}

static void
sandbox_allow(scmp_filter_ctx ctx, const char *const *names, const char *role)
{
	for (; *names != NULL; names++) {
		int	 nr = seccomp_syscall_resolve_name(*names);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			fatalx("%s: seccomp: cannot allow %s", role, *names);
	}
}

void
sandbox_apply(const char *role)
{
	scmp_filter_ctx	 ctx;
	const char	*off = getenv("SUBMITD_UNSAFE_NO_SECCOMP");

	/* For valgrind, which cannot run under seccomp: never in production. */
	if (off != NULL && strcmp(off, "1") == 0) {
		log_warnx("%s: event=warning SUBMITD_UNSAFE_NO_SECCOMP=1: NO "
		    "seccomp filter (development only)", role);
		return;
	}
	if ((ctx = seccomp_init(SANDBOX_DEFAULT)) == NULL)
		fatalx("%s: seccomp_init failed", role);
	sandbox_allow(ctx, sys_common, role);
	sandbox_allow_args(ctx, role);
	if (strcmp(role, "smtp") == 0)
		sandbox_allow(ctx, sys_smtp, role);
	else if (strcmp(role, "auth") == 0)
		sandbox_allow(ctx, sys_auth, role);
	else if (strcmp(role, "queue") == 0)
		sandbox_allow(ctx, sys_queue, role);
	else if (strcmp(role, "relay") == 0)
		sandbox_allow(ctx, sys_relay, role);
	else if (strcmp(role, "control") == 0)
		sandbox_allow(ctx, sys_control, role);
	else if (strcmp(role, "metrics") == 0)
		sandbox_allow(ctx, sys_metrics, role);
	else if (strcmp(role, "filter") == 0) {
		sandbox_allow(ctx, sys_filter, role);
		sandbox_allow_filter_socket(ctx);
	}
	else
		fatalx("sandbox: unknown role %s", role);
	if (seccomp_load(ctx) != 0)
		fatalx("%s: seccomp_load failed", role);
	seccomp_release(ctx);
	log_debug("event=sandbox role=%s", role);
}
