/*
 * conf_redis.c — the URL of "state redis": redis://HOST[:PORT][/DB] with
 * HOST a numeric IPv4 address or a bracketed IPv6 one (no name lookup in
 * a chrooted role), or unix:/PATH[?db=DB].  See conf.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

static char *
dupn(const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int
db_word(const char *s, unsigned *db)
{
	uint64_t	 v;

	if (conf_number_parse(s, 15, &v) == -1)
		return -1;
	*db = (unsigned)v;
	return 0;
}

int
conf_redis_parse(const char *url, struct conf_redis *out)
{
	const char		*h, *end, *p;
	char			*host = NULL;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	uint64_t		 port = 6379;
	size_t			 n;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "unix:", 5) == 0) {
		p = url + 5;
		if (*p != '/')
			return -1;
		n = (end = strstr(p, "?db=")) != NULL ? (size_t)(end - p) :
		    strlen(p);
		if (n < 2 || n > 100 || p[n - 1] == '/')
			return -1;	/* sun_path holds 108 */
		if (end != NULL && db_word(end + 4, &out->db) == -1)
			return -1;
		if ((out->path = dupn(p, n)) == NULL)
			return -1;
		return 0;
	}
	if (strncmp(url, "rediss://", 9) == 0) {
		out->tls = 1;
		url++;		/* "rediss" is "redis" and one more s */
	} else if (strncmp(url, "redis://", 8) != 0)
		return -1;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return -1;
		host = dupn(h + 1, (size_t)(end - h - 1));
		end++;
		if (host == NULL || inet_pton(AF_INET6, host, &a6) != 1)
			goto fail;
	} else {
		end = h + strcspn(h, ":/");
		host = dupn(h, (size_t)(end - h));
		if (host == NULL || inet_pton(AF_INET, host, &a4) != 1)
			goto fail;
	}
	if (*end == ':') {
		char	 num[8];

		n = strcspn(end + 1, "/");
		if (n == 0 || n >= sizeof(num))
			goto fail;
		memcpy(num, end + 1, n);
		num[n] = '\0';
		if (conf_number_parse(num, 65535, &port) == -1 || port == 0)
			goto fail;
		end += 1 + n;
	}
	if (*end == '/' && end[1] != '\0') {
		if (db_word(end + 1, &out->db) == -1)
			goto fail;
	} else if (*end == '/' || *end == '\0')
		;
	else
		goto fail;
	out->host = host;
	snprintf(out->port, sizeof(out->port), "%u", (unsigned)port);
	return 0;
fail:
	free(host);
	return -1;
}
