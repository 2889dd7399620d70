/* sdnotify.c — the sd_notify(3) datagram; see sdnotify.h. */
#include <sys/socket.h>
#include <sys/un.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/sdnotify.h"

int
sdnotify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 n;
	ssize_t			 w;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return 0;
	if ((n = strlen(path)) >= sizeof(sun.sun_path))
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')		/* an abstract socket */
		sun.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + n;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	w = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
	return w == (ssize_t)strlen(state) ? 1 : -1;
}
