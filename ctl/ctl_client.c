/* ctl_client.c — the control socket protocol and client; see ctl_client.h. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl_client.h"

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
ctl_request_encode(uint32_t flags, int argc, char *const *argv, void **out,
    size_t *outlen)
{
	unsigned char	*buf;
	size_t		 len = 4, off, n;
	int		 i;

	if (argc < 1 || argc > CTL_ARGC_MAX)
		return -1;
	for (i = 0; i < argc; i++) {
		if ((n = strlen(argv[i])) > CTL_ARG_MAX)
			return -1;
		len += n + 1;
	}
	if ((buf = malloc(len)) == NULL)
		return -1;
	put32(buf, flags);
	for (off = 4, i = 0; i < argc; i++) {
		n = strlen(argv[i]) + 1;
		memcpy(buf + off, argv[i], n);
		off += n;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int
ctl_request_decode(const void *vbuf, size_t len, uint32_t *flags, int *argc,
    char ***argv)
{
	const unsigned char	*buf = vbuf;
	char			**v, *s;
	size_t			 i, start;
	int			 n = 0;

	if (len < 6 || len > CTL_REQUEST_MAX || buf[len - 1] != '\0')
		return -1;
	for (i = 4, start = 4; i < len; i++) {
		if (buf[i] == '\0') {
			if (i - start > CTL_ARG_MAX || ++n > CTL_ARGC_MAX)
				return -1;
			start = i + 1;
		} else if (buf[i] < 0x20 || buf[i] == 0x7f)
			return -1;
	}
	if ((v = malloc((n + 1) * sizeof(*v) + len - 4)) == NULL)
		return -1;
	s = (char *)(v + n + 1);
	memcpy(s, buf + 4, len - 4);
	for (i = 0; i < (size_t)n; i++) {
		v[i] = s;
		s += strlen(s) + 1;
	}
	v[n] = NULL;
	*flags = get32(buf);
	*argc = n;
	*argv = v;
	return 0;
}

int
ctl_reply_encode(int status, const char *text, size_t textlen, void **out,
    size_t *outlen)
{
	unsigned char	*buf;

	if (textlen > CTL_REPLY_MAX - 4)
		textlen = CTL_REPLY_MAX - 4;
	if ((buf = malloc(4 + textlen)) == NULL)
		return -1;
	put32(buf, (uint32_t)status);
	if (textlen > 0)
		memcpy(buf + 4, text, textlen);
	*out = buf;
	*outlen = 4 + textlen;
	return 0;
}

int
ctl_reply_decode(const void *vbuf, size_t len, int *status, const char **text,
    size_t *textlen)
{
	const unsigned char	*buf = vbuf;

	if (len < 4 || len > CTL_REPLY_MAX)
		return -1;
	*status = (int)get32(buf);
	if (*status != 0 && *status != 1)
		return -1;
	*text = (const char *)buf + 4;
	*textlen = len - 4;
	return 0;
}

/* Writes all of BUF; 0 or -1. */
static int
write_all(int fd, const void *vbuf, size_t len)
{
	const unsigned char	*buf = vbuf;
	ssize_t			 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly LEN octets; 0, or -1 (error or early end). */
static int
read_all(int fd, void *vbuf, size_t len)
{
	unsigned char	*buf = vbuf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = read(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
client_connect(const char *sockpath)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sockpath) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "submitctl: %s: socket path too long\n",
		    sockpath);
		return -1;
	}
	memcpy(sun.sun_path, sockpath, strlen(sockpath) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("submitctl: socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "submitctl: %s: %s (is submitd running?)\n",
		    sockpath, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
client_exchange(int fd, const void *req, size_t reqlen, int *status,
    char **text)
{
	unsigned char	 hdr[4], *rep;
	const char	*t;
	size_t		 tlen;
	uint32_t	 len;

	put32(hdr, (uint32_t)reqlen);
	if (write_all(fd, hdr, 4) == -1 || write_all(fd, req, reqlen) == -1 ||
	    read_all(fd, hdr, 4) == -1) {
		perror("submitctl: control socket");
		return -1;
	}
	if ((len = get32(hdr)) > CTL_REPLY_MAX || (rep = malloc(len)) == NULL) {
		fprintf(stderr, "submitctl: reply too large\n");
		return -1;
	}
	if (read_all(fd, rep, len) == -1 ||
	    ctl_reply_decode(rep, len, status, &t, &tlen) == -1 ||
	    (*text = malloc(tlen + 1)) == NULL) {
		fprintf(stderr, "submitctl: bad reply from the daemon\n");
		free(rep);
		return -1;
	}
	memcpy(*text, t, tlen);
	(*text)[tlen] = '\0';
	free(rep);
	return 0;
}

int
ctl_client_call(const char *sockpath, uint32_t flags, int argc,
    char *const *argv, int *status, char **text)
{
	void	*req;
	size_t	 reqlen;
	int	 fd, rv;

	if (ctl_request_encode(flags, argc, argv, &req, &reqlen) == -1) {
		fprintf(stderr, "submitctl: too many or too long arguments\n");
		return -1;
	}
	if ((fd = client_connect(sockpath)) == -1) {
		free(req);
		return -1;
	}
	rv = client_exchange(fd, req, reqlen, status, text);
	close(fd);
	free(req);
	return rv;
}

/*
 * The daemon's answer to the terminal: whatever it holds, no control byte
 * (ESC and the like) reaches the terminal; each is written \xHH, as in the
 * log's quoting rule (log.h).  Newlines and tabs are the text's own layout.
 */
static void
ctl_client_print(const char *text, FILE *fp)
{
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
}

int
ctl_client_main(const char *sockpath, int argc, char **argv)
{
	char		*v[CTL_ARGC_MAX], *text;
	uint32_t	 flags = 0;
	int		 i, n = 0, status;
	size_t		 len;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			flags |= CTL_F_JSON;
		else if (n < CTL_ARGC_MAX)
			v[n++] = argv[i];
		else {
			fprintf(stderr, "submitctl: too many arguments\n");
			return 2;
		}
	}
	if (sockpath == NULL)
		sockpath = CTL_SOCKET_DEFAULT;
	if (ctl_client_call(sockpath, flags, n, v, &status, &text) == -1)
		return 2;
	len = strlen(text);
	ctl_client_print(text, status == 0 ? stdout : stderr);
	if (len > 0 && text[len - 1] != '\n')
		fputc('\n', status == 0 ? stdout : stderr);
	free(text);
	return status == 0 ? 0 : 1;
}
