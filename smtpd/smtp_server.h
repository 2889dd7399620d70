/*
 * smtp_server.h — the listeners of the smtp role: TLS server contexts for
 * each pki, the listening sockets, accepting clients into sessions.
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_SMTP_SERVER_H
#define SMTPD_SMTP_SERVER_H

#include <stddef.h>

struct event_base;
struct conf;
struct smtp_services;
struct smtp_server;

/*
 * smtp_listen_open: binds and listens on every "listen on" line (IPv6
 * sockets IPv6-only, non-blocking); FDS gets conf->nlisten sockets in
 * order.  -1 on error (logged with the config line; nothing left open).
 */
int		 smtp_listen_open(const struct conf *, int *fds);
/* smtp_listen_socket: the same for one of them, CL; the socket or -1. */
struct conf_listen;
int		 smtp_listen_socket(const struct conf *,
		    const struct conf_listen *cl);

/*
 * smtp_server_new: reads every pki's certificate chain and key into memory
 * (TLS 1.2 and 1.3 only) and starts accepting on FDS (from
 * smtp_listen_open, owned from here on); sessions reach auth and the
 * queue through SERVICES.  NULL on error (logged).
 */
struct smtp_server *smtp_server_new(struct event_base *, const struct conf *,
		    const struct smtp_services *services, const int *fds);
/*
 * For a reload (issue 14): smtp_server_prepare reads the pki files and
 * makes the TLS contexts (NULL on error, logged); smtp_server_listen
 * starts accepting on FDS (conf->nlisten, owned from here on).
 * smtp_server_take_fd: the listening socket of an old generation that is
 * the same as CL (struct conf_listen), now the caller's; -1 if none.
 * smtp_server_retire: stop accepting (close what was not taken); the
 * sessions go on under this generation's settings until they end.
 */
struct smtp_server *smtp_server_prepare(struct event_base *,
		    const struct conf *, const struct smtp_services *);
void		 smtp_server_listen(struct smtp_server *, const int *fds);
struct conf_listen;
int		 smtp_server_take_fd(struct smtp_server *,
		    const struct conf_listen *);
void		 smtp_server_retire(struct smtp_server *);

/* smtp_server_stop: close the listeners; idle sessions get 421, those
 * receiving a message go on (smtp_sessions_shutdown). */
void		 smtp_server_stop(struct smtp_server *);
/* smtp_server_sessions: sessions open now. */
size_t		 smtp_server_sessions(const struct smtp_server *);
void		 smtp_server_free(struct smtp_server *);

#endif
