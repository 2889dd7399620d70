/*
 * ctl_client.h — the control socket protocol and submitctl's client side.
 *
 * On the socket (AF_UNIX stream, conf `control "PATH"`, default
 * CTL_SOCKET_DEFAULT) one request per connection:
 *
 *	client → daemon:  u32 length (big-endian), then LENGTH octets of
 *	                  request:  u32 flags (big-endian, CTL_F_*), then
 *	                  argc arguments, each NUL-terminated
 *	daemon → client:  u32 length (big-endian), then LENGTH octets of
 *	                  reply:    i32 status (big-endian, 0 ok, 1 error),
 *	                  then the text (not NUL-terminated; lines end "\n")
 *
 * The same request and reply payloads travel between the control role and
 * the role that answers (IPC_CTL_REQUEST / IPC_CTL_REPLY).
 *
 * ctl/: the control protocol and submitctl.  Knows nothing of the roles,
 * their IPC or their state: the roles answer requests themselves
 * (smtpd/ctl_serve.h).
 */
#ifndef CTL_CTL_CLIENT_H
#define CTL_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define CTL_SOCKET_DEFAULT	"/run/submitd/submitd.sock"
#define CTL_F_JSON		0x1u	/* answer in JSON, not text */
#define CTL_ARGC_MAX		16
#define CTL_ARG_MAX		1024	/* octets per argument */
#define CTL_REQUEST_MAX		(4 + CTL_ARGC_MAX * (CTL_ARG_MAX + 1))
#define CTL_REPLY_MAX		(60 * 1024)	/* fits one IPC packet */

/*
 * ctl_request_encode: FLAGS and ARGV (ARGC strings) into *OUT (malloc'd,
 * *OUTLEN octets).  -1 when ARGC is 0 or over CTL_ARGC_MAX, an argument
 * is longer than CTL_ARG_MAX, or out of memory.
 */
int	ctl_request_encode(uint32_t flags, int argc, char *const *argv,
	    void **out, size_t *outlen);
/*
 * ctl_request_decode: the reverse, for hostile input.  *ARGV is one
 * malloc'd block (free it alone) of *ARGC pointers into a copy of the
 * strings, NULL-terminated.  -1 when malformed (empty, an argument
 * unterminated, too long or with control characters, too many).
 */
int	ctl_request_decode(const void *buf, size_t len, uint32_t *flags,
	    int *argc, char ***argv);
/*
 * ctl_reply_encode: STATUS and TEXT (TEXTLEN octets; cut to fit
 * CTL_REPLY_MAX) into *OUT (malloc'd); 0 or -1 (out of memory).
 */
int	ctl_reply_encode(int status, const char *text, size_t textlen,
	    void **out, size_t *outlen);
/* ctl_reply_decode: *STATUS and *TEXT (points into BUF); 0 or -1. */
int	ctl_reply_decode(const void *buf, size_t len, int *status,
	    const char **text, size_t *textlen);

/*
 * ctl_client_call: one request to the daemon at SOCKPATH.  0 with
 * *STATUS and *TEXT (malloc'd, NUL-terminated) set; -1 with a message on
 * stderr when the daemon cannot be reached or answers garbage.
 */
int	ctl_client_call(const char *sockpath, uint32_t flags, int argc,
	    char *const *argv, int *status, char **text);
/*
 * ctl_client_main: submitctl's daemon commands: ARGV (ARGC) is the
 * command and its arguments; "--json" anywhere among them sets
 * CTL_F_JSON and is removed.  Prints the reply on stdout (errors on
 * stderr).  Returns the exit status: 0 ok, 1 the daemon said no, 2 no
 * answer.
 */
int	ctl_client_main(const char *sockpath, int argc, char **argv);

#endif
