/*
 * test_store_util.h — helpers shared by the Check suites that open the
 * auth role's LMDB state store.  Static functions: each suite is one
 * binary.
 */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <stdio.h>
#include <unistd.h>

/* Removes DIR, a closed state store's directory, and its two files. */
static inline void
store_dir_remove(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char		 path[256];
	size_t		 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

#endif
