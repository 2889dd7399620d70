/*
 * fileset.h — reading the files the configuration names (certificates,
 * keys, the users and secrets files, the config itself) through one
 * door, so that a reload can hand a chrooted role the very bytes the
 * parent checked.
 *
 * Normally fileset_read reads the disk.  The parent, checking a new
 * configuration, records a copy of every file read (fileset_use with
 * RECORD set); a role being reloaded installs the set the parent sent it
 * (RECORD clear) and then reads only from it: a path not in the set is
 * ENOENT, whatever a chroot might hold under that name.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/.
 */
#ifndef LIB_FILESET_H
#define LIB_FILESET_H

#include <stddef.h>

#define FILESET_FILE_MAX	((size_t)64 << 20)	/* octets in one file */

struct fileset;

/*
 * fileset_read: the contents of PATH (at most MAX octets) into *BUF,
 * malloc'd and NUL-terminated after *LEN octets; *MODE (may be NULL) its
 * permission bits.  -1 with errno set: EINVAL not a regular file, EFBIG
 * larger than MAX, ENOENT not in the installed set, or open/read's.
 * Free the buffer with fileset_buf_free (it may hold a secret).
 */
int	 fileset_read(const char *path, size_t max, char **buf, size_t *len,
	    unsigned *mode);
void	 fileset_buf_free(char *buf, size_t len);

struct fileset	*fileset_new(void);
/* fileset_free: wipes every copy and frees SET (NULL is fine). */
void	 fileset_free(struct fileset *);
/* fileset_add: a copy of DATA as PATH (replacing one of that path); 0/-1. */
int	 fileset_add(struct fileset *, const char *path, const void *data,
	    size_t len, unsigned mode);
/*
 * fileset_use: from now on fileset_read reads SET (RECORD 0), or reads
 * the disk and adds what it read to SET (RECORD 1); NULL: the disk only.
 */
void	 fileset_use(struct fileset *, int record);
/* fileset_get: the copy of PATH in SET; 0, or -1 when SET has none. */
int	 fileset_get(const struct fileset *, const char *path,
	    const char **data, size_t *len, unsigned *mode);

/*
 * fileset_memfd: a sealed-size anonymous file (memfd) holding DATA, offset
 * 0, for passing to another process; -1 on error.  fileset_fd_read: all of
 * FD (at most MAX) into a malloc'd buffer, as fileset_read; FD is not
 * closed.
 */
int	 fileset_memfd(const char *name, const void *data, size_t len);
int	 fileset_fd_read(int fd, size_t max, char **buf, size_t *len);

#endif
