/*
 * dkim_bench.c — DKIM signing throughput, for "make bench" (not a timed
 * test): MB/s of body hashed per canonicalization, signatures per second
 * per algorithm, verifications per second.
 *
 *	cc -O2 -I. -o dkim_bench tests/dkim/dkim_bench.c build/libsubmitd.a \
 *	    $(pkg-config --libs libtls libevent_pthreads libevent libsodium libcrypto)
 *	dkim_bench [seconds-per-measure]
 *
 * One "key=value" line per measure, e.g. "dkim bodyhash=relaxed mb_per_s=412".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim/dkim.h"

static const char hdr[] =
    "From: Alice Example <alice@example.org>\r\n"
    "To: Bob <bob@example.net>, carol@example.net\r\n"
    "Subject: quarterly report, with a subject long enough to be folded\r\n"
    " over two lines\r\n"
    "Date: Sun, 29 Nov 2026 14:00:00 +0000\r\n"
    "Message-ID: <20261129140000.1234@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n";

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A body of typical text lines, blanks and trailing spaces included. */
static char *
make_body(size_t size)
{
	static const char line[] = "The quick brown fox  jumps over\tthe lazy "
	    "dog, 0123456789 times; and again.  \r\n";
	char	*b;
	size_t	 p;

	if ((b = malloc(size)) == NULL)
		return NULL;
	for (p = 0; p < size; p++)
		b[p] = line[p % (sizeof(line) - 1)];
	return b;
}

static void
bench_bodyhash(const char *body, size_t size, double secs, int simple)
{
	struct dkim_bodyhash	*b;
	unsigned char		 bh[DKIM_BH_LEN];
	double			 t0 = now(), t;
	size_t			 total = 0, p;

	do {
		if ((b = dkim_bodyhash_new(simple)) == NULL)
			exit(1);
		for (p = 0; p < size; p += 65536)
			dkim_bodyhash_update(b, body + p,
			    size - p < 65536 ? size - p : 65536);
		dkim_bodyhash_final(b, bh);
		dkim_bodyhash_free(b);
		total += size;
	} while ((t = now() - t0) < secs);
	printf("dkim bodyhash=%s mb_per_s=%.0f\n", simple ? "simple" : "relaxed",
	    total / t / 1e6);
}

static void
bench_sign(enum dkim_alg alg, int bits, double secs)
{
	struct dkim_pubkey	*pk;
	struct dkim_key		*k;
	struct dkim_result	 res;
	struct dkim_bodyhash	*b;
	unsigned char		 bh[DKIM_BH_LEN];
	char			 err[128], *sig = NULL, *msg;
	double			 t0, t;
	long			 n = 0;
	size_t			 len;

	if ((k = dkim_key_generate(alg, bits, err, sizeof(err))) == NULL ||
	    (pk = dkim_pubkey_from_key(k)) == NULL) {
		fprintf(stderr, "dkim_bench: %s\n", err);
		exit(1);
	}
	if ((b = dkim_bodyhash_new(0)) == NULL)
		exit(1);
	dkim_bodyhash_final(b, bh);	/* the empty body's */
	dkim_bodyhash_free(b);
	t0 = now();
	do {
		free(sig);
		if ((sig = dkim_sign(k, "example.org", "bench", 0, hdr,
		    sizeof(hdr) - 1, bh, 1700000000)) == NULL)
			exit(1);
		n++;
	} while ((t = now() - t0) < secs);
	printf("dkim sign=%s bits=%d per_s=%.0f\n", alg == DKIM_ALG_RSA_SHA256 ?
	    "rsa-sha256" : "ed25519-sha256", bits, n / t);

	len = strlen(sig) + sizeof(hdr) + 2;
	if ((msg = malloc(len)) == NULL)
		exit(1);
	snprintf(msg, len, "%s%s\r\n", sig, hdr);
	n = 0;
	t0 = now();
	do {
		if (dkim_verify_message(msg, strlen(msg), &pk, 1, 0, &res, 1) != 1 ||
		    !res.pass) {
			fprintf(stderr, "dkim_bench: verify: %s\n", res.reason);
			exit(1);
		}
		n++;
	} while ((t = now() - t0) < secs);
	printf("dkim verify=%s bits=%d per_s=%.0f\n", alg == DKIM_ALG_RSA_SHA256 ?
	    "rsa-sha256" : "ed25519-sha256", bits, n / t);
	free(msg);
	free(sig);
	dkim_pubkey_free(pk);
	dkim_key_free(k);
}

int
main(int argc, char **argv)
{
	double	 secs = argc > 1 ? atof(argv[1]) : 1.0;
	size_t	 size = 8 * 1024 * 1024;
	char	*body;

	if (secs <= 0 || (body = make_body(size)) == NULL)
		return 1;
	bench_bodyhash(body, size, secs, 0);
	bench_bodyhash(body, size, secs, 1);
	bench_sign(DKIM_ALG_RSA_SHA256, 2048, secs);
	bench_sign(DKIM_ALG_ED25519_SHA256, 256, secs);
	free(body);
	return 0;
}
