/* fileset.c — the files the configuration names; see fileset.h. */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/fileset.h"

struct fileset_entry {
	char		*path;
	char		*data;
	size_t		 len;
	unsigned	 mode;
};

struct fileset {
	struct fileset_entry	*e;
	size_t			 n;
};

static struct fileset	*cur;
static int		 cur_record;

void
fileset_buf_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, len + 1);
	free(buf);
}

int
fileset_fd_read(int fd, size_t max, char **bufp, size_t *lenp)
{
	size_t	 size = 4096, got = 0;
	char	*buf, *nb;
	ssize_t	 n;

	if ((buf = malloc(size + 1)) == NULL)
		return -1;
	for (;;) {
		if (got == size) {
			if (size >= max + 1) {
				fileset_buf_free(buf, size);
				errno = EFBIG;
				return -1;
			}
			size = size * 2 > max + 1 ? max + 1 : size * 2;
			if ((nb = malloc(size + 1)) == NULL) {
				fileset_buf_free(buf, got);
				return -1;
			}
			memcpy(nb, buf, got);
			fileset_buf_free(buf, got);
			buf = nb;
		}
		n = read(fd, buf + got, size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			int	 e = errno;

			fileset_buf_free(buf, size);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		fileset_buf_free(buf, size);
		errno = EFBIG;
		return -1;
	}
	buf[got] = '\0';
	*bufp = buf;
	*lenp = got;
	return 0;
}

static int
disk_read(const char *path, size_t max, char **buf, size_t *len,
    unsigned *mode)
{
	struct stat	 st;
	int		 fd, e;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (mode != NULL)
		*mode = st.st_mode & 07777;
	if (fileset_fd_read(fd, max, buf, len) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int
fileset_get(const struct fileset *set, const char *path, const char **data,
    size_t *len, unsigned *mode)
{
	size_t	 i;

	for (i = 0; set != NULL && i < set->n; i++)
		if (strcmp(set->e[i].path, path) == 0) {
			*data = set->e[i].data;
			*len = set->e[i].len;
			if (mode != NULL)
				*mode = set->e[i].mode;
			return 0;
		}
	return -1;
}

int
fileset_read(const char *path, size_t max, char **buf, size_t *len,
    unsigned *mode)
{
	const char	*data;
	unsigned	 m;

	if (cur != NULL && !cur_record) {
		if (fileset_get(cur, path, &data, len, &m) == -1) {
			errno = ENOENT;
			return -1;
		}
		if (*len > max) {
			errno = EFBIG;
			return -1;
		}
		if ((*buf = malloc(*len + 1)) == NULL)
			return -1;
		memcpy(*buf, data, *len);
		(*buf)[*len] = '\0';
		if (mode != NULL)
			*mode = m;
		return 0;
	}
	if (disk_read(path, max, buf, len, &m) == -1)
		return -1;
	if (mode != NULL)
		*mode = m;
	if (cur != NULL && fileset_add(cur, path, *buf, *len, m) == -1) {
		fileset_buf_free(*buf, *len);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

struct fileset *
fileset_new(void)
{
	return calloc(1, sizeof(struct fileset));
}

void
fileset_free(struct fileset *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	if (cur == set)
		cur = NULL;
	for (i = 0; i < set->n; i++) {
		free(set->e[i].path);
		fileset_buf_free(set->e[i].data, set->e[i].len);
	}
	free(set->e);
	free(set);
}

int
fileset_add(struct fileset *set, const char *path, const void *data,
    size_t len, unsigned mode)
{
	struct fileset_entry	*e = NULL, *ne;
	char			*copy;
	size_t			 i;

	if ((copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, data, len);
	copy[len] = '\0';
	for (i = 0; i < set->n; i++)
		if (strcmp(set->e[i].path, path) == 0) {
			e = &set->e[i];
			fileset_buf_free(e->data, e->len);
			break;
		}
	if (e == NULL) {
		if ((ne = reallocarray(set->e, set->n + 1, sizeof(*ne))) == NULL) {
			fileset_buf_free(copy, len);
			return -1;
		}
		set->e = ne;
		e = &set->e[set->n];
		if ((e->path = strdup(path)) == NULL) {
			fileset_buf_free(copy, len);
			return -1;
		}
		set->n++;
	}
	e->data = copy;
	e->len = len;
	e->mode = mode;
	return 0;
}

void
fileset_use(struct fileset *set, int record)
{
	cur = set;
	cur_record = record;
}

int
fileset_memfd(const char *name, const void *data, size_t len)
{
	const char	*p = data;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = memfd_create(name, MFD_CLOEXEC)) == -1)
		return -1;
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}
