/*
 * privsep.h — what a role does to itself before it serves: its process
 * title, chroot, the switch to the unprivileged user, and the check that
 * root cannot come back.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_PRIVSEP_H
#define LIB_PRIVSEP_H

/* privsep_title_init: remember argv's space so titles can be shown in ps. */
void	privsep_title_init(int argc, char **argv);
/* privsep_title: "submitd: ROLE" in ps, /proc/PID/cmdline and comm. */
void	privsep_title(const char *role);

/*
 * privsep_drop: as root, chroot into ROOTDIR and chdir "/", drop to USER
 * (setgroups to its group only, setresgid, setresuid), check that
 * setuid(0) now fails, and set PR_SET_NO_NEW_PRIVS.  Not as root (the
 * development mode the parent announces), only the last step.  Fatal on
 * any failure: a role never runs with more than it should.
 */
void	privsep_drop(const char *user, const char *rootdir, const char *role);

/* privsep_is_root: 1 when running as root (full privilege separation). */
int	privsep_is_root(void);

/* privsep_chroots: 1 when privsep_drop changes the root directory. */
int	privsep_chroots(void);

#define PRIVSEP_EMPTY_DIR	"/var/empty"

#endif
