/*
 * dns_client.c — the audit's stub resolver (see dns_client.h).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl/dns_client.h"

#define UDP_TRIES	3

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
addr_port(struct dns_resolver *r, const char *ip, const char *port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&r->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&r->ss;
	char			*end;
	long			 p = 53;

	if (port != NULL) {
		p = strtol(port, &end, 10);
		if (*port == '\0' || *end != '\0' || p < 1 || p > 65535)
			return -1;
	}
	memset(&r->ss, 0, sizeof(r->ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		r->sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		r->sslen = sizeof(*sin6);
	} else
		return -1;
	snprintf(r->name, sizeof(r->name), r->ss.ss_family == AF_INET6 ?
	    "[%s]:%ld" : "%s:%ld", ip, p);
	return 0;
}

int
dns_resolver_init(struct dns_resolver *r, const char *spec, char *err,
    size_t errlen)
{
	char	 buf[128], *p, *port = NULL;
	FILE	*f;

	memset(r, 0, sizeof(*r));
	r->timeout_ms = DNS_TIMEOUT_MS;
	if (spec == NULL) {
		char	 line[256], ip[64];

		if ((f = fopen(DNS_RESOLV_CONF, "r")) == NULL) {
			seterr(err, errlen, "%s: %s", DNS_RESOLV_CONF,
			    strerror(errno));
			return -1;
		}
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, " nameserver %63s", ip) == 1 &&
			    addr_port(r, ip, NULL) == 0) {
				fclose(f);
				return 0;
			}
		fclose(f);
		seterr(err, errlen, "%s names no nameserver", DNS_RESOLV_CONF);
		return -1;
	}
	if (strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	p = buf;
	if (*p == '[') {
		char *close = strchr(p, ']');

		if (close == NULL)
			goto bad;
		*close = '\0';
		p++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			goto bad;
	} else if ((port = strchr(p, ':')) != NULL &&
	    strchr(port + 1, ':') == NULL)
		*port++ = '\0';		/* one colon: IPv4:PORT */
	else
		port = NULL;		/* bare IPv4 or IPv6 */
	if (addr_port(r, p, port) == 0)
		return 0;
bad:
	seterr(err, errlen, "bad resolver '%s' (IP, IP:PORT or [IPv6]:PORT)",
	    spec);
	return -1;
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for FD to be ready for EVENTS; 1, 0 on timeout, -1 on error. */
static int
wait_fd(int fd, short events, long ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = events };
	int		 n;

	if (ms <= 0)
		return 0;
	do
		n = poll(&pfd, 1, ms > 1000000 ? 1000000 : (int)ms);
	while (n == -1 && errno == EINTR);
	return n;
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, 4) == 0 &&
		    ((const struct sockaddr_in *)a)->sin_port ==
		    ((const struct sockaddr_in *)b)->sin_port;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0 &&
	    ((const struct sockaddr_in6 *)a)->sin6_port ==
	    ((const struct sockaddr_in6 *)b)->sin6_port;
}

static int
lookup_udp(const struct dns_resolver *r, const unsigned char *q, size_t qlen,
    uint16_t id, const char *name, uint16_t type, struct dns_answer *out,
    const struct timespec *deadline, char *err, size_t errlen)
{
	unsigned char		 buf[4096];
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	ssize_t			 n;
	int			 fd, try, rc = -1;
	long			 left, slice;

	if ((fd = socket(r->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	seterr(err, errlen, "no answer from %s", r->name);
	/* connected: only the server's datagrams come in, and an ICMP
	 * "port unreachable" ends the wait at once */
	if (connect(fd, (const struct sockaddr *)&r->ss, r->sslen) == -1) {
		seterr(err, errlen, "%s: %s", r->name, strerror(errno));
		close(fd);
		return -1;
	}
	for (try = 0; try < UDP_TRIES && rc == -1; try++) {
		if ((left = ms_left(deadline)) <= 0)
			break;
		if (send(fd, q, qlen, 0) == -1) {
			if (errno == ECONNREFUSED) {
				seterr(err, errlen, "%s: %s", r->name,
				    strerror(errno));
				break;
			}
			seterr(err, errlen, "send to %s: %s", r->name,
			    strerror(errno));
			break;
		}
		slice = left / (UDP_TRIES - try);
		{
			struct timespec	 end;

			clock_gettime(CLOCK_MONOTONIC, &end);
			end.tv_sec += slice / 1000;
			end.tv_nsec += (slice % 1000) * 1000000;
			if (end.tv_nsec >= 1000000000) {
				end.tv_sec++;
				end.tv_nsec -= 1000000000;
			}
			while (wait_fd(fd, POLLIN, ms_left(&end)) > 0) {
				fromlen = sizeof(from);
				n = recvfrom(fd, buf, sizeof(buf), 0,
				    (struct sockaddr *)&from, &fromlen);
				if (n == -1) {
					/* ICMP port unreachable and the like */
					seterr(err, errlen, "%s: %s", r->name,
					    strerror(errno));
					if (errno == ECONNREFUSED)
						goto done;
					continue;
				}
				if (!same_addr(&from, &r->ss))
					continue;	/* not our server */
				if (dns_answer_decode(buf, (size_t)n, id, name,
				    type, out, err, errlen) == 0) {
					rc = 0;
					break;
				}
			}
		}
	}
done:
	close(fd);
	return rc;
}

static int
io_all(int fd, unsigned char *buf, size_t len, int writing,
    const struct timespec *deadline)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len) {
		if (wait_fd(fd, writing ? POLLOUT : POLLIN, ms_left(deadline)) <= 0)
			return -1;
		n = writing ? write(fd, buf + off, len - off) :
		    read(fd, buf + off, len - off);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int
lookup_tcp(const struct dns_resolver *r, const unsigned char *q, size_t qlen,
    uint16_t id, const char *name, uint16_t type, struct dns_answer *out,
    const struct timespec *deadline, char *err, size_t errlen)
{
	unsigned char	 hdr[2], *buf = NULL, *qb = NULL;
	size_t		 len;
	int		 fd, rc = -1, soerr = 0;
	socklen_t	 sl = sizeof(soerr);

	if ((fd = socket(r->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&r->ss, r->sslen) == -1 &&
	    errno != EINPROGRESS) {
		seterr(err, errlen, "TCP to %s: %s", r->name, strerror(errno));
		goto out;
	}
	if (wait_fd(fd, POLLOUT, ms_left(deadline)) <= 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
	    soerr != 0) {
		seterr(err, errlen, "TCP to %s: %s", r->name,
		    soerr ? strerror(soerr) : "timed out");
		goto out;
	}
	if ((qb = malloc(qlen + 2)) == NULL)
		goto out;
	qb[0] = (unsigned char)(qlen >> 8);
	qb[1] = qlen & 0xff;
	memcpy(qb + 2, q, qlen);
	if (io_all(fd, qb, qlen + 2, 1, deadline) == -1 ||
	    io_all(fd, hdr, 2, 0, deadline) == -1) {
		seterr(err, errlen, "TCP to %s: no answer", r->name);
		goto out;
	}
	len = (size_t)hdr[0] << 8 | hdr[1];
	if ((buf = malloc(len ? len : 1)) == NULL ||
	    io_all(fd, buf, len, 0, deadline) == -1) {
		seterr(err, errlen, "TCP to %s: answer cut short", r->name);
		goto out;
	}
	rc = dns_answer_decode(buf, len, id, name, type, out, err, errlen);
out:
	free(qb);
	free(buf);
	close(fd);
	return rc;
}

int
dns_lookup(const struct dns_resolver *r, const char *name, uint16_t type,
    struct dns_answer *out, char *err, size_t errlen)
{
	unsigned char	 q[DNS_QUERY_MAX];
	struct timespec	 deadline;
	uint16_t	 id;
	int		 qlen;

	memset(out, 0, sizeof(*out));
	randombytes_buf(&id, sizeof(id));
	if ((qlen = dns_query_encode(id, name, type, q, sizeof(q))) == -1) {
		seterr(err, errlen, "'%s' is not a domain name", name);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += r->timeout_ms / 1000;
	deadline.tv_nsec += (long)(r->timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if (lookup_udp(r, q, (size_t)qlen, id, name, type, out, &deadline,
	    err, errlen) == -1)
		return -1;
	if (!out->truncated)
		return 0;
	dns_answer_free(out);
	return lookup_tcp(r, q, (size_t)qlen, id, name, type, out, &deadline,
	    err, errlen);
}
