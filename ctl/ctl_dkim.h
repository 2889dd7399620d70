/*
 * ctl_dkim.h — "submitctl dkim keygen|sign|verify".
 *
 * ctl/: the control protocol and submitctl.  Knows nothing of the roles,
 * their IPC or their state: the roles answer requests themselves
 * (smtpd/ctl_serve.h).
 */
#ifndef CTL_CTL_DKIM_H
#define CTL_CTL_DKIM_H

/* ctl_dkim_main: argv[0] is "dkim"; returns the process exit status. */
int	ctl_dkim_main(int argc, char **argv);

#endif
