/*
 * ipc.h — framed messages between the roles of submitd, over an AF_UNIX
 * SOCK_SEQPACKET socketpair on the libevent loop.  Each message is one
 * packet: a fixed header (type, request ID, payload length, fd flag) and
 * at most IPC_MAX_PAYLOAD octets, with at most one file descriptor passed
 * by SCM_RIGHTS.  Received packets are checked before they are handed on:
 * truncated, oversized, or with a length or fd that disagrees with the
 * header, they are logged and dropped (a passed fd is closed).  What the
 * payload means is checked by the receiving role's dispatcher.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_IPC_H
#define LIB_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAX_PAYLOAD		(64 * 1024)	/* octets */
#define IPC_MAX_QUEUED		(16 * 1024)	/* packets waiting to be sent */

struct event_base;
struct ipc;

struct ipc_msg {
	uint32_t	 type;
	uint64_t	 reqid;
	const void	*data;
	size_t		 len;
	int		 fd;	/* -1, or passed: the receiver owns it */
};

/*
 * A packet arrived; or (MSG NULL) the peer closed or the channel broke.
 * The callback may ipc_free() the channel when MSG is NULL (nothing
 * touches it after that call), never from a packet's callback.
 */
typedef void (*ipc_cb)(struct ipc *, const struct ipc_msg *msg, void *arg);

/*
 * ipc_new: a channel over FD (one end of a SOCK_SEQPACKET socketpair; set
 * non-blocking here).  NAME (e.g. "smtp->queue") is used in log lines.
 * NULL on allocation failure.
 */
struct ipc	*ipc_new(struct event_base *, int fd, const char *name, ipc_cb,
		    void *arg);
void		 ipc_free(struct ipc *);

/*
 * ipc_send: queue one message; FD (-1 for none) is duplicated, the caller
 * keeps its own.  -1 when LEN exceeds IPC_MAX_PAYLOAD, the queue is full,
 * or the channel is closed.
 */
int		 ipc_send(struct ipc *, uint32_t type, uint64_t reqid, int fd,
		    const void *data, size_t len);

/*
 * ipc_socketpair: a non-blocking, close-on-exec SOCK_SEQPACKET pair.
 * -1 on error (errno set).
 */
int		 ipc_socketpair(int sv[2]);

/* Counters, for tests and "show stats". */
uint64_t	 ipc_dropped(const struct ipc *);

#endif
