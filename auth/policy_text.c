/* policy_text.c — the policy's values as text; see policy_text.h. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <time.h>

#include "auth/policy_text.h"
#include "auth/window.h"

const char *
policy_addr(const struct sockaddr *peer, char *buf, size_t size)
{
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)peer;
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)peer;

	if (peer->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		if (inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
		    size) != NULL)
			return buf;
	} else if (peer->sa_family == AF_INET6) {
		if (inet_ntop(AF_INET6, &s6->sin6_addr, buf, size) != NULL)
			return buf;
	} else if (peer->sa_family == AF_INET) {
		if (inet_ntop(AF_INET, &s4->sin_addr, buf, size) != NULL)
			return buf;
	}
	snprintf(buf, size, "unknown");
	return buf;
}

const char *
policy_window_text(int64_t ms, char *buf, size_t size)
{
	int64_t	 s = ms / 1000;

	if (ms % 1000 != 0 || s == 0)
		snprintf(buf, size, "%lldms", (long long)ms);
	else if (s % 86400 == 0)
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, size, "%llds", (long long)s);
	return buf;
}

const char *
policy_size_text(uint64_t n, char *buf, size_t size)
{
	static const char	 unit[] = "KMG";
	size_t			 i;

	for (i = 0; n != 0 && n % 1024 == 0 && i < sizeof(unit) - 1; i++)
		n /= 1024;
	if (i == 0)
		snprintf(buf, size, "%llu", (unsigned long long)n);
	else
		snprintf(buf, size, "%llu%c", (unsigned long long)n,
		    unit[i - 1]);
	return buf;
}

const char *
policy_when(int64_t now_ms, int64_t wait_ms, char *buf, size_t size)
{
	struct tm	 tm;
	time_t		 t;
	int64_t		 secs;

	if (wait_ms == WINDOW_NEVER) {
		snprintf(buf, size, "not within one window");
		return buf;
	}
	secs = (wait_ms + 999) / 1000;
	t = (time_t)((now_ms + wait_ms + 999) / 1000);
	if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "retry in %lld s", (long long)secs);
	else
		snprintf(buf, size, "retry after %02d:%02d:%02d UTC (in %lld s)",
		    tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)secs);
	return buf;
}
