/*
 * smtp_tls_tickets.h — TLS session resumption for the listeners (issue 13):
 * session ticket keys and the session ID context, made once per process
 * and kept outside any config, so that TLS contexts built anew (a reload)
 * resume the sessions of the old ones.  Keys rotate; the last few still
 * decrypt the tickets issued before.
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_SMTP_TLS_TICKETS_H
#define SMTPD_SMTP_TLS_TICKETS_H

#include <time.h>

struct tls_config;

/* How long a ticket resumes a session, and how often the key changes. */
#define SMTP_TLS_SESSION_LIFETIME	7200
#define SMTP_TLS_TICKET_ROTATE		3600

/*
 * smtp_tls_tickets_apply: the session lifetime, ID context and every key
 * (newest last, so that it encrypts) onto CFG, a server config; -1 with
 * tls_config_error(CFG) on failure.
 */
int	smtp_tls_tickets_apply(struct tls_config *cfg);
/* smtp_tls_tickets_rotate: a new key, added to each of the N configs. */
void	smtp_tls_tickets_rotate(struct tls_config **cfgs, size_t n);

#endif
