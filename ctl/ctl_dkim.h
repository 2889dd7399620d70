/* ctl_dkim.h — "submitctl dkim keygen|sign|verify". */
#ifndef SMTPD_CTL_DKIM_H
#define SMTPD_CTL_DKIM_H

/* ctl_dkim_main: argv[0] is "dkim"; returns the process exit status. */
int	ctl_dkim_main(int argc, char **argv);

#endif
