/*
 * test_dkim_util.h — helpers shared by the DKIM Check suites: files, the
 * RFC 8463 test data, base64.  Static functions: each suite is one binary.
 */
#ifndef TEST_DKIM_UTIL_H
#define TEST_DKIM_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkim/dkim.h"

/* Reads FILE whole (NUL-terminated); *LEN octets.  Fails the test if not. */
static inline char *
util_read(const char *file, size_t *len)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	fp = fopen(file, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", file);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, n, fp), (size_t)n);
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/*
 * The RFC 8463 directory: $SUBMITD_TESTDATA/rfc8463, else
 * tests/testdata/rfc8463 from the repository root (the tests run there),
 * else the same folder found through the source path the Makefile compiled
 * (TESTDATA_DIR, an absolute path into this repository).
 */
static inline const char *
util_rfcdir(void)
{
	static char	 dir[1024];
	const char	*env;

	if ((env = getenv("SUBMITD_TESTDATA")) != NULL && *env != '\0') {
		snprintf(dir, sizeof(dir), "%s/rfc8463", env);
		return dir;
	}
	if (access("tests/testdata/rfc8463/signed.eml", R_OK) == 0)
		return "tests/testdata/rfc8463";
#ifdef TESTDATA_DIR
	return TESTDATA_DIR "/rfc8463";
#else
	return "tests/testdata/rfc8463";
#endif
}

static inline char *
util_rfcfile(const char *name, size_t *len)
{
	char	 path[1200];

	snprintf(path, sizeof(path), "%s/%s", util_rfcdir(), name);
	return util_read(path, len);
}

/* The base64 B64 decoded into OUT; returns the length. */
static inline size_t
util_unb64(const char *b64, unsigned char *out, size_t max)
{
	long	 n = dkim_b64_decode(b64, strlen(b64), out, max);

	ck_assert_msg(n >= 0, "bad base64 %s", b64);
	return (size_t)n;
}

/* The body hash of BODY (LEN octets) fed in chunks of CHUNK octets. */
static inline void
util_bh(int simple, const char *body, size_t len, size_t chunk,
    unsigned char bh[DKIM_BH_LEN])
{
	struct dkim_bodyhash	*b;
	size_t			 p, n;

	b = dkim_bodyhash_new(simple);
	ck_assert_ptr_nonnull(b);
	for (p = 0; p < len; p += n) {
		n = len - p < chunk ? len - p : chunk;
		dkim_bodyhash_update(b, body + p, n);
	}
	dkim_bodyhash_final(b, bh);
	dkim_bodyhash_free(b);
}

/* base64 of the body hash, malloc'd. */
static inline char *
util_bh64(int simple, const char *body, size_t len, size_t chunk)
{
	unsigned char	 bh[DKIM_BH_LEN];

	util_bh(simple, body, len, chunk, bh);
	return dkim_b64_encode(bh, sizeof(bh));
}

#endif
