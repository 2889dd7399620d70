/* conf_filter.c — the "filter rspamd" statement; see conf_filter.h. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_filter.h"
#include "conf/conf_lex.h"
#include "lib/log.h"

#define FILTER_USAGE	"filter rspamd \"http://ADDR[:PORT]\"|\"/PATH.sock\" " \
			"[timeout DUR] " \
			"[on-error accept|tempfail] [settings-id \"ID\"]"

static char *
xstrdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		fatal("conf: strdup");
	return d;
}

/*
 * Whether the directory of the socket PATH (absolute, clean) is one that
 * other programs keep their sockets in: "/", a top-level directory such as
 * /run or /tmp, or /var/run, /var/tmp, /dev/shm, /run/user, /run/lock.  The
 * filter role is chrooted in that directory and may connect to any socket
 * in it, so it must hold rspamd's socket alone (issue 16 review).
 */
static int
conf_filter_shared_dir(const char *path)
{
	static const char *const shared[] = { "/var/run/", "/var/tmp/",
	    "/dev/shm/", "/run/user/", "/run/lock/", NULL };
	const char	*second = strchr(path + 1, '/');
	size_t		 i;

	if (second == NULL || strchr(second + 1, '/') == NULL)
		return 1;	/* "/x.sock" or "/run/x.sock" */
	for (i = 0; shared[i] != NULL; i++)
		if (strncmp(path, shared[i], strlen(shared[i])) == 0 &&
		    strchr(path + strlen(shared[i]), '/') == NULL)
			return 1;
	return 0;
}

/*
 * A unix socket: an absolute path, its directory (where the filter role
 * is chrooted) named without "." or ".." and the name short enough for
 * sun_path.
 */
static int
conf_filter_unix(const char *path, struct conf_filter *f, const char **why)
{
	struct sockaddr_un	 sun;
	const char		*base = strrchr(path, '/') + 1;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*why = "unix socket path too long";
		return -1;
	}
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strstr(path, "//") != NULL || strstr(path, "/./") != NULL ||
	    strstr(path, "/../") != NULL) {
		*why = "not a clean absolute path to the socket";
		return -1;
	}
	if (conf_filter_shared_dir(path)) {
		*why = "the socket's directory is shared with other programs "
		    "(the filter role is chrooted in it): give the socket a "
		    "directory of its own, e.g. /run/rspamd-submitd";
		return -1;
	}
	for (; *path != '\0'; path++)
		if ((unsigned char)*path <= ' ' || (unsigned char)*path >= 0x7f ||
		    *path == '"') {
			*why = "unix socket path with a space, a quote or a "
			    "control or 8-bit octet";
			return -1;
		}
	f->host[0] = '\0';
	f->port[0] = '\0';
	free(f->path);
	f->path = xstrdup("/checkv2");
	f->unix_socket = 1;
	return 0;
}

int
conf_filter_url(const char *url, struct conf_filter *f, const char **why)
{
	const char	*hp, *end, *path;
	char		 host[sizeof(f->host)];
	size_t		 hlen;
	uint64_t	 v;
	struct in_addr	 in4;
	struct in6_addr	 in6;

	if (url[0] == '/')
		return conf_filter_unix(url, f, why);
	if (strncmp(url, "http://", 7) != 0) {
		*why = "not http://ADDR[:PORT][/PATH]";
		return -1;
	}
	hp = url + 7;
	if (*hp == '[') {
		if ((end = strchr(hp, ']')) == NULL)
			goto bad;
		hlen = (size_t)(end - hp - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, hp + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &in6) != 1)
			goto bad;
		end++;
	} else {
		end = hp + strcspn(hp, ":/");
		hlen = (size_t)(end - hp);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, hp, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &in4) != 1)
			goto bad;
	}
	snprintf(f->port, sizeof(f->port), "11333");
	if (*end == ':') {
		char	 port[sizeof(f->port)];
		size_t	 plen = strcspn(end + 1, "/");

		if (plen == 0 || plen >= sizeof(port))
			goto badport;
		memcpy(port, end + 1, plen);
		port[plen] = '\0';
		if (conf_number_parse(port, 65535, &v) == -1 || v == 0)
			goto badport;
		memcpy(f->port, port, plen + 1);
		end += 1 + plen;
	}
	path = *end == '\0' ? "/checkv2" : end;
	if (*path != '/' || strcspn(path, " \t\r\n\"") != strlen(path)) {
		*why = "bad path";
		return -1;
	}
	memcpy(f->host, host, hlen + 1);
	f->unix_socket = 0;
	free(f->path);
	f->path = xstrdup(path);
	return 0;
 bad:
	*why = "the host must be a numeric address (127.0.0.1, [::1]): "
	    "the filter role resolves no names";
	return -1;
 badport:
	*why = "port out of range (1 to 65535)";
	return -1;
}

void
conf_filter_statement(struct conf_reader *r, struct conf *c, char **w,
    size_t n)
{
	struct conf_filter	*f = &c->filter;
	const char		*why;
	size_t			 i;

	if (n < 3 || strcmp(w[1], "rspamd") != 0) {
		conf_error(r, r->line, "usage: %s", FILTER_USAGE);
		return;
	}
	if (f->enabled) {
		conf_error(r, r->line, "'filter' given twice (first on line %d)",
		    f->line);
		return;
	}
	if (conf_filter_url(w[2], f, &why) == -1) {
		conf_error(r, r->line, "filter: '%s': %s", w[2], why);
		return;
	}
	for (i = 3; i < n; i += 2) {
		if (i + 1 >= n) {
			conf_error(r, r->line, "usage: %s", FILTER_USAGE);
			return;
		}
		if (strcmp(w[i], "timeout") == 0) {
			if (conf_duration_parse(w[i + 1], &f->timeout) == -1 ||
			    f->timeout == 0 || f->timeout > 3600) {
				conf_error(r, r->line, "filter: bad timeout '%s' "
				    "(1s to 1h, like 20s)", w[i + 1]);
				return;
			}
		} else if (strcmp(w[i], "on-error") == 0) {
			if (strcmp(w[i + 1], "accept") == 0)
				f->on_error_accept = 1;
			else if (strcmp(w[i + 1], "tempfail") == 0)
				f->on_error_accept = 0;
			else {
				conf_error(r, r->line, "filter: on-error '%s': "
				    "accept or tempfail", w[i + 1]);
				return;
			}
		} else if (strcmp(w[i], "settings-id") == 0) {
			if (w[i + 1][0] == '\0' || strlen(w[i + 1]) > 64 ||
			    strspn(w[i + 1], "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
			    strlen(w[i + 1])) {
				conf_error(r, r->line, "filter: bad settings-id "
				    "'%s' (letters, digits, _ - .)", w[i + 1]);
				return;
			}
			free(f->settings_id);
			f->settings_id = xstrdup(w[i + 1]);
		} else {
			conf_error(r, r->line, "filter: unknown option '%s' "
			    "(usage: %s)", w[i], FILTER_USAGE);
			return;
		}
	}
	free(f->url);
	f->url = xstrdup(w[2]);
	f->enabled = 1;
	f->line = r->line;
}
