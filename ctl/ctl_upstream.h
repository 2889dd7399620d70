/*
 * ctl_upstream.h — "submitctl check-upstream [-f config] [--as SENDER]
 * [--timeout SECONDS]": one trial session with the configured smarthost
 * (relay/relay_probe.h), printed step by step.  Reads the upstream
 * secrets file, so it runs as root (the file is root's, mode 0600).
 *
 * ctl/: the control protocol and submitctl.  Knows nothing of the roles,
 * their IPC or their state: the roles answer requests themselves
 * (smtpd/ctl_serve.h).
 */
#ifndef CTL_CTL_UPSTREAM_H
#define CTL_CTL_UPSTREAM_H

/* ctl_upstream_main: argv[0] is "check-upstream"; exit status 0 every
 * step passed, 1 one failed, 2 usage or configuration error. */
int	ctl_upstream_main(int argc, char **argv);

#endif
