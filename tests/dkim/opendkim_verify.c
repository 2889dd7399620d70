/*
 * opendkim_verify.c — an independent DKIM verifier for the tests, built on
 * OpenDKIM's libopendkim (no code shared with submitd).  Keys come from a
 * file instead of DNS, through dkim_set_key_lookup().
 *
 *	opendkim_verify KEYS MSG...
 *
 * KEYS has one line per key: "SELECTOR._domainkey.DOMAIN RECORD".  For each
 * message, one line per signature: "MSG N d=DOMAIN s=SELECTOR pass" or
 * "... fail REASON"; a message without signatures prints "MSG 0 none".
 * Exit 0 when every signature of every message passed.
 *
 * Built by tests/integration/test_dkim_verifiers.py:
 *	cc -o opendkim_verify opendkim_verify.c -lopendkim
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#define KEYS_MAX	64

static struct {
	char	*name;
	char	*record;
} keys[KEYS_MAX];
static int	nkeys;

static int
keys_load(const char *file)
{
	FILE	*fp;
	char	 line[8192], *sp;

	if ((fp = fopen(file, "r")) == NULL) {
		perror(file);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL && nkeys < KEYS_MAX) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		keys[nkeys].name = strdup(line);
		keys[nkeys].record = strdup(sp);
		nkeys++;
	}
	fclose(fp);
	return 0;
}

static DKIM_CBSTAT
key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, unsigned char *buf, size_t buflen)
{
	char	 name[1024];
	int	 i;

	(void)dkim;
	snprintf(name, sizeof(name), "%s._domainkey.%s",
	    (char *)dkim_sig_getselector(sig), (char *)dkim_sig_getdomain(sig));
	for (i = 0; i < nkeys; i++)
		if (strcasecmp(keys[i].name, name) == 0) {
			if (strlen(keys[i].record) >= buflen)
				return DKIM_CBSTAT_ERROR;
			strcpy((char *)buf, keys[i].record);
			return DKIM_CBSTAT_CONTINUE;
		}
	return DKIM_CBSTAT_NOTFOUND;
}

static int
verify_file(DKIM_LIB *lib, const char *file)
{
	DKIM		*dkim;
	DKIM_SIGINFO	**sigs;
	DKIM_STAT	 st;
	FILE		*fp;
	unsigned char	 buf[65536];
	size_t		 n;
	int		 nsigs = 0, i, bad = 0;

	if ((fp = fopen(file, "rb")) == NULL) {
		perror(file);
		return 1;
	}
	dkim = dkim_verify(lib, (const unsigned char *)file, NULL, &st);
	if (dkim == NULL) {
		printf("%s 0 fail dkim_verify: %s\n", file, dkim_getresultstr(st));
		fclose(fp);
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		if ((st = dkim_chunk(dkim, buf, n)) != DKIM_STAT_OK)
			break;
	fclose(fp);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(dkim, NULL, 0);
	if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)
		st = dkim_eom(dkim, NULL);
	if (dkim_getsiglist(dkim, &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0) {
		printf("%s 0 none %s\n", file, dkim_getresultstr(st));
		dkim_free(dkim);
		return 1;
	}
	for (i = 0; i < nsigs; i++) {
		int ok = DKIM_SIG_CHECK(sigs[i]);

		printf("%s %d d=%s s=%s %s", file, i + 1,
		    (char *)dkim_sig_getdomain(sigs[i]),
		    (char *)dkim_sig_getselector(sigs[i]), ok ? "pass" : "fail");
		if (!ok) {
			printf(" %s bh=%d",
			    dkim_sig_geterrorstr(dkim_sig_geterror(sigs[i])),
			    dkim_sig_getbh(sigs[i]));
			bad = 1;
		}
		printf("\n");
	}
	dkim_free(dkim);
	return bad;
}

int
main(int argc, char **argv)
{
	DKIM_LIB	*lib;
	int		 i, bad = 0;
	unsigned int	 flags;

	if (argc < 3) {
		fprintf(stderr, "usage: opendkim_verify keys msg...\n");
		return 2;
	}
	if (keys_load(argv[1]) == -1 || (lib = dkim_init(NULL, NULL)) == NULL)
		return 2;
	/* verify every signature, not just the first good one */
	flags = 0;
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
	dkim_set_key_lookup(lib, key_lookup);
	for (i = 2; i < argc; i++)
		bad |= verify_file(lib, argv[i]);
	dkim_close(lib);
	return bad;
}
