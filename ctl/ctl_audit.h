/*
 * ctl_audit.h — "submitctl audit": the operator's checklist, checked
 * offline from the config, the files it names and DNS (no running daemon
 * needed).  One finding a line, PASS, WARN or FAIL, with the fix; --json
 * for machines.  See submitctl(8), AUDIT.
 *
 * ctl/: the control protocol and submitctl.  Knows nothing of the roles,
 * their IPC or their state: the roles answer requests themselves
 * (smtpd/ctl_serve.h).
 */
#ifndef CTL_CTL_AUDIT_H
#define CTL_CTL_AUDIT_H

/* OVH locks a mailbox past about this many messages an hour. */
#define AUDIT_OVH_HOURLY	200
#define AUDIT_OVH_HOURLY_WARN	190
#define AUDIT_CERT_WARN_DAYS	21
#define AUDIT_SPF_LOOKUPS_MAX	10	/* RFC 7208 4.6.4 */

/*
 * ctl_audit_main: argv[0] is "audit".  Exit status: 0 no FAIL (WARNs
 * allowed), 1 at least one FAIL, 2 usage error.
 */
int	ctl_audit_main(int argc, char **argv);
/*
 * ctl_audit_ovh_host: 1 when HOST is one of OVH's submission hosts
 * (ssl0.ovh.net, smtp.mail.ovh.ca, proN.mail.ovh.net, exN.mail.ovh.net),
 * 2 when it is under an OVH domain but not one of those, else 0.
 */
int	ctl_audit_ovh_host(const char *host);

#endif
