/*
 * ctl_dkim.c — "submitctl dkim keygen|sign|verify": make a key and print its
 * DNS record, sign a message, check a message's signatures offline.  Works
 * without a running daemon; messages on stdin may have LF or CRLF lines
 * (they are turned into CRLF, as SMTP carries them).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl_dkim.h"
#include "dkim/dkim.h"

#define MSG_MAX		(512UL * 1024 * 1024)	/* octets read from stdin */
#define KEYS_MAX	16
#define RESULTS_MAX	64
#define TXT_CHUNK	255	/* RFC 1035 3.3.14: a TXT string */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: submitctl dkim keygen -a rsa|ed25519 -d domain -s selector "
	    "-o keyfile [-b bits]\n"
	    "       submitctl dkim sign -d domain -s selector -k keyfile "
	    "[-a alg] [-t unixtime] [-c relaxed|simple] [-x unixtime] < msg\n"
	    "       submitctl dkim verify (-k keyfile | --txt record) ... < msg\n");
}

static int
alg_parse(const char *s, enum dkim_alg *alg)
{
	if (strcmp(s, "rsa") == 0 || strcmp(s, "rsa-sha256") == 0)
		*alg = DKIM_ALG_RSA_SHA256;
	else if (strcmp(s, "ed25519") == 0 || strcmp(s, "ed25519-sha256") == 0)
		*alg = DKIM_ALG_ED25519_SHA256;
	else {
		fprintf(stderr, "submitctl: dkim: unknown algorithm %s "
		    "(rsa or ed25519; never rsa-sha1)\n", s);
		return -1;
	}
	return 0;
}

static int
num_parse(const char *s, long long min, long long max, long long *out)
{
	char	*end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *out < min || *out > max) {
		fprintf(stderr, "submitctl: dkim: bad number %s\n", s);
		return -1;
	}
	return 0;
}

/* Reads stdin, bare LF turned into CRLF; malloc'd, *LEN octets, or NULL. */
static char *
msg_read(size_t *len)
{
	char	*buf = NULL, *p;
	size_t	 cap = 0, n = 0, got;
	int	 c, prev = -1;

	while ((c = getc_unlocked(stdin)) != EOF) {
		if (n + 2 >= cap) {
			if (cap >= MSG_MAX) {
				fprintf(stderr, "submitctl: dkim: message over "
				    "%lu octets\n", MSG_MAX);
				free(buf);
				return NULL;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL) {
				perror("submitctl: dkim");
				free(buf);
				return NULL;
			}
			buf = p;
		}
		if (c == '\n' && prev != '\r')
			buf[n++] = '\r';
		buf[n++] = (char)c;
		prev = c;
	}
	got = n;
	if (ferror(stdin)) {
		perror("submitctl: dkim: stdin");
		free(buf);
		return NULL;
	}
	*len = got;
	return buf == NULL ? calloc(1, 1) : buf;
}

static int
write_all(const char *buf, size_t len)
{
	if (len > 0 && fwrite(buf, 1, len, stdout) != len)
		return -1;
	return 0;
}

/* Prints NAME. IN TXT "..." "..." with strings of at most 255 octets. */
static void
txt_print(const char *selector, const char *domain, const char *txt)
{
	size_t	 n = strlen(txt), p;

	printf("%s._domainkey.%s. IN TXT", selector, domain);
	for (p = 0; p < n; p += TXT_CHUNK)
		printf(" \"%.*s\"", (int)(n - p < TXT_CHUNK ? n - p : TXT_CHUNK),
		    txt + p);
	printf("\n");
}

static int
ctl_keygen(int argc, char **argv)
{
	struct dkim_key	*k;
	enum dkim_alg	 alg = DKIM_ALG_RSA_SHA256;
	const char	*domain = NULL, *selector = NULL, *out = NULL;
	char		*txt, err[256];
	long long	 bits = 2048;
	int		 ch, have_alg = 0;

	optind = 0;
	while ((ch = getopt(argc, argv, "a:b:d:o:s:")) != -1) {
		switch (ch) {
		case 'a':
			if (alg_parse(optarg, &alg) == -1)
				return 1;
			have_alg = 1;
			break;
		case 'b':
			if (num_parse(optarg, 1, 1 << 20, &bits) == -1)
				return 1;
			break;
		case 'd': domain = optarg; break;
		case 'o': out = optarg; break;
		case 's': selector = optarg; break;
		default: usage(); return 1;
		}
	}
	if (!have_alg || domain == NULL || selector == NULL || out == NULL ||
	    optind != argc) {
		usage();
		return 1;
	}
	if (!dkim_name_valid(domain, 0) || !dkim_name_valid(selector, 1)) {
		fprintf(stderr, "submitctl: dkim: bad domain or selector\n");
		return 1;
	}
	if (alg == DKIM_ALG_RSA_SHA256 && bits >= DKIM_RSA_MIN_BITS &&
	    bits < DKIM_RSA_GOOD_BITS)
		fprintf(stderr, "submitctl: dkim: warning: RSA keys under %d "
		    "bits are weak (RFC 8301)\n", DKIM_RSA_GOOD_BITS);
	if ((k = dkim_key_generate(alg, (int)bits, err, sizeof(err))) == NULL ||
	    dkim_key_write(k, out, err, sizeof(err)) == -1) {
		fprintf(stderr, "submitctl: dkim: %s\n", err);
		dkim_key_free(k);
		return 1;
	}
	txt = dkim_key_txt(k);
	dkim_key_free(k);
	if (txt == NULL) {
		fprintf(stderr, "submitctl: dkim: out of memory\n");
		return 1;
	}
	txt_print(selector, domain, txt);
	free(txt);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The signature field for MSG, or NULL with a message on stderr. */
static char *
sign_msg(const struct dkim_key *k, const struct dkim_sign_params *sp,
    const char *msg, size_t len)
{
	struct dkim_bodyhash	*b;
	struct dkim_field	*fields;
	unsigned char		 bh[DKIM_BH_LEN];
	size_t			 hdrlen, bodyoff, n;
	char			*sig;

	dkim_msg_split(msg, len, &hdrlen, &bodyoff);
	fields = dkim_fields_split(msg, hdrlen, &n);
	n = dkim_field_count(fields, n, "From");
	free(fields);
	if (n != 1) {
		fprintf(stderr, "submitctl: dkim: the message has %zu From: "
		    "fields; it needs exactly one\n", n);
		return NULL;
	}
	if ((b = dkim_bodyhash_new(sp->canon_simple)) == NULL) {
		fprintf(stderr, "submitctl: dkim: out of memory\n");
		return NULL;
	}
	dkim_bodyhash_update(b, msg + bodyoff, len - bodyoff);
	dkim_bodyhash_final(b, bh);
	dkim_bodyhash_free(b);
	if ((sig = dkim_sign_params(k, sp, msg, hdrlen, bh)) == NULL)
		fprintf(stderr, "submitctl: dkim: signing failed\n");
	return sig;
}

/*
 * A message of header fields only gets the empty line that ends the header
 * section: the same message for DKIM (an empty body hashes as one CRLF,
 * RFC 6376 3.4.3), but some verifiers (OpenDKIM) misread it without.
 */
static int
sign_separator(const char *msg, size_t len)
{
	size_t	 hdrlen, bodyoff;

	dkim_msg_split(msg, len, &hdrlen, &bodyoff);
	if (len == 0 || hdrlen != len)
		return 0;
	if (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n')
		if (write_all("\r\n", 2) == -1)
			return -1;
	return write_all("\r\n", 2);
}

static int
ctl_sign(int argc, char **argv)
{
	struct dkim_sign_params	 sp;
	struct dkim_key		*k;
	enum dkim_alg		 alg = DKIM_ALG_RSA_SHA256;
	const char		*keyfile = NULL;
	char			*msg, *sig, err[512];
	size_t			 len = 0;
	long long		 n;
	int			 ch, have_alg = 0, rc;

	memset(&sp, 0, sizeof(sp));
	sp.t = time(NULL);
	optind = 0;
	while ((ch = getopt(argc, argv, "a:c:d:k:s:t:x:")) != -1) {
		switch (ch) {
		case 'a':
			if (alg_parse(optarg, &alg) == -1)
				return 1;
			have_alg = 1;
			break;
		case 'c':
			if (strcmp(optarg, "simple") == 0 ||
			    strcmp(optarg, "simple/simple") == 0)
				sp.canon_simple = 1;
			else if (strcmp(optarg, "relaxed") == 0 ||
			    strcmp(optarg, "relaxed/relaxed") == 0)
				sp.canon_simple = 0;
			else {
				usage();
				return 1;
			}
			break;
		case 'd': sp.domain = optarg; break;
		case 'k': keyfile = optarg; break;
		case 's': sp.selector = optarg; break;
		case 't':
		case 'x':
			if (num_parse(optarg, 0, 99999999999LL, &n) == -1)
				return 1;
			if (ch == 't')
				sp.t = (time_t)n;
			else
				sp.x = (time_t)n;
			break;
		default: usage(); return 1;
		}
	}
	if (sp.domain == NULL || sp.selector == NULL || keyfile == NULL ||
	    optind != argc) {
		usage();
		return 1;
	}
	if (!dkim_name_valid(sp.domain, 0) || !dkim_name_valid(sp.selector, 1)) {
		fprintf(stderr, "submitctl: dkim: bad domain or selector\n");
		return 1;
	}
	if (sp.x != 0 && sp.x <= sp.t) {
		fprintf(stderr, "submitctl: dkim: -x must be after -t\n");
		return 1;
	}
	k = have_alg ? dkim_key_load(keyfile, alg, err, sizeof(err)) :
	    dkim_key_load_any(keyfile, err, sizeof(err));
	if (k == NULL) {
		fprintf(stderr, "submitctl: dkim: %s\n", err);
		return 1;
	}
	if ((msg = msg_read(&len)) == NULL) {
		dkim_key_free(k);
		return 1;
	}
	sig = sign_msg(k, &sp, msg, len);
	dkim_key_free(k);
	rc = 1;
	if (sig != NULL && write_all(sig, strlen(sig)) == 0 &&
	    write_all(msg, len) == 0 && sign_separator(msg, len) == 0 &&
	    fflush(stdout) == 0)
		rc = 0;
	free(sig);
	free(msg);
	return rc;
}

static int
verify_report(const struct dkim_result *res, int nsig)
{
	int	 i, bad = 0;

	if (nsig == 0) {
		printf("no DKIM-Signature field: fail\n");
		return 1;
	}
	for (i = 0; i < nsig; i++) {
		if (i >= RESULTS_MAX) {
			printf("signature %d: fail (too many signatures)\n", i + 1);
			bad = 1;
			continue;
		}
		printf("signature %d: d=%s s=%s a=%s: ", i + 1, res[i].domain,
		    res[i].selector, res[i].alg);
		if (res[i].pass)
			printf("pass\n");
		else {
			printf("fail (%s)\n", res[i].reason);
			bad = 1;
		}
	}
	return bad;
}

static int
verify_addkey(struct dkim_pubkey **keys, size_t *nkeys, int is_txt,
    const char *arg)
{
	struct dkim_key	*k;
	char		 err[512];

	if (*nkeys == KEYS_MAX) {
		fprintf(stderr, "submitctl: dkim: at most %d keys\n", KEYS_MAX);
		return -1;
	}
	if (is_txt)
		keys[*nkeys] = dkim_pubkey_from_txt(arg, err, sizeof(err));
	else if ((k = dkim_key_load_any(arg, err, sizeof(err))) != NULL) {
		keys[*nkeys] = dkim_pubkey_from_key(k);
		dkim_key_free(k);
		snprintf(err, sizeof(err), "%s: no public key", arg);
	} else
		keys[*nkeys] = NULL;
	if (keys[*nkeys] == NULL) {
		fprintf(stderr, "submitctl: dkim: %s\n", err);
		return -1;
	}
	(*nkeys)++;
	return 0;
}

static int
ctl_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "txt", required_argument, NULL, 'T' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct dkim_pubkey	*keys[KEYS_MAX];
	struct dkim_result	*res;
	size_t			 nkeys = 0, len = 0, i;
	char			*msg;
	int			 ch, nsig, rc = 1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
		if ((ch != 'k' && ch != 'T') ||
		    verify_addkey(keys, &nkeys, ch == 'T', optarg) == -1) {
			if (ch != 'k' && ch != 'T')
				usage();
			goto out;
		}
	}
	if (nkeys == 0 || optind != argc) {
		usage();
		goto out;
	}
	if ((msg = msg_read(&len)) == NULL)
		goto out;
	if ((res = calloc(RESULTS_MAX, sizeof(*res))) == NULL)
		perror("submitctl: dkim");
	else if ((nsig = dkim_verify_message(msg, len, keys, nkeys, time(NULL),
	    res, RESULTS_MAX)) == -1)
		fprintf(stderr, "submitctl: dkim: out of memory\n");
	else
		rc = verify_report(res, nsig);
	free(res);
	free(msg);
	fflush(stdout);
 out:
	for (i = 0; i < nkeys; i++)
		dkim_pubkey_free(keys[i]);
	return rc;
}

int
ctl_dkim_main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 1;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return ctl_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return ctl_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return ctl_verify(argc - 1, argv + 1);
	usage();
	return 1;
}
