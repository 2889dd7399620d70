/* privsep.c — chroot, user switch, process titles; see privsep.h. */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smtpd/log.h"
#include "smtpd/privsep.h"

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
	if (chroot(rootdir) == -1 || chdir("/") == -1)
		fatal("%s: chroot %s", role, rootdir);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("%s: cannot drop to user %s", role, user);
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
		fatalx("%s: could get root back after dropping it", role);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", role);
	log_debug("event=privdrop role=%s user=%s root=%s", role, user, rootdir);
}
