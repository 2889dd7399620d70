/*
 * sdnotify.h — tell the service manager how the daemon is doing, the
 * protocol of sd_notify(3) (a datagram to $NOTIFY_SOCKET), without
 * libsystemd: submitd.service is Type=notify, and "READY=1" is sent once
 * every role is serving.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_SDNOTIFY_H
#define LIB_SDNOTIFY_H

/*
 * sdnotify: sends STATE ("READY=1", "STOPPING=1", "STATUS=...") when
 * $NOTIFY_SOCKET is set; 1 sent, 0 not under a service manager, -1 error.
 */
int	sdnotify(const char *state);

#endif
