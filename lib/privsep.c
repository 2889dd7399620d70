/* privsep.c — chroot, user switch, process titles; see privsep.h. */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/privsep.h"

static char	*title_base;
static size_t	 title_len;

void
privsep_title_init(int argc, char **argv)
{
	int	 i;

	if (argc < 1 || argv[0] == NULL)
		return;
	title_base = argv[0];
	/* argv strings are contiguous: use them all for the title. */
	for (i = 0; i < argc; i++)
		if (argv[i] == title_base + title_len)
			title_len += strlen(argv[i]) + 1;
}

void
privsep_title(const char *role)
{
	char	 t[64];

	snprintf(t, sizeof(t), "submitd: %s", role);
	(void)prctl(PR_SET_NAME, t, 0, 0, 0);	/* comm: 15 octets kept */
	if (title_base != NULL && title_len > 1) {
		memset(title_base, 0, title_len);
		snprintf(title_base, title_len, "%s", t);
	}
	log_procname(role);
}

int
privsep_is_root(void)
{
	return geteuid() == 0;
}

int
privsep_chroots(void)
{
#ifdef __SANITIZE_ADDRESS__
	return 0;
#else
	return privsep_is_root();
#endif
}

void
privsep_drop(const char *user, const char *rootdir, const char *role)
{
	struct passwd	*pw;

	if (!privsep_is_root()) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
			fatal("%s: PR_SET_NO_NEW_PRIVS", role);
		return;
	}
	if ((pw = getpwnam(user)) == NULL)
		fatalx("%s: user %s does not exist", role, user);
#ifdef __SANITIZE_ADDRESS__
	/*
	 * LeakSanitizer reads /proc and ptraces the process at exit: in an
	 * ASan build the roles keep "/" and stay dumpable, so that leaks are
	 * still found.  Never in a production build.
	 */
	log_warnx("%s: ASan build: no chroot, only chdir into %s", role, rootdir);
	if (chdir(rootdir) == -1)
		fatal("%s: chdir %s", role, rootdir);
#else
	if (chroot(rootdir) == -1 || chdir("/") == -1)
		fatal("%s: chroot %s", role, rootdir);
#endif
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("%s: cannot drop to user %s", role, user);
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
		fatalx("%s: could get root back after dropping it", role);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", role);
#ifdef __SANITIZE_ADDRESS__
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	log_debug("event=privdrop role=%s user=%s root=%s", role, user, rootdir);
}
