/*
 * smtp_server.h — the listeners of the smtp role: TLS server contexts for
 * each pki, the listening sockets, accepting clients into sessions.
 */
#ifndef SMTPD_SMTP_SERVER_H
#define SMTPD_SMTP_SERVER_H

#include <stddef.h>

struct event_base;
struct conf;
struct queue;
struct smtp_server;

/*
 * smtp_server_new: reads every pki's certificate chain and key into memory
 * (TLS 1.2 and 1.3 only), binds and listens on every "listen on" line
 * (IPv6 sockets IPv6-only), and starts accepting.  NULL on error (logged
 * with the config line).
 */
struct smtp_server *smtp_server_new(struct event_base *, const struct conf *,
		    struct queue *);
/* smtp_server_stop: close the listeners; idle sessions get 421, those
 * receiving a message go on (smtp_sessions_shutdown). */
void		 smtp_server_stop(struct smtp_server *);
/* smtp_server_sessions: sessions open now. */
size_t		 smtp_server_sessions(const struct smtp_server *);
void		 smtp_server_free(struct smtp_server *);

#endif
