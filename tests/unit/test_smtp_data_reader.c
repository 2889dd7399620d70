/*
 * test_smtp_data_reader.c — the DATA line reader (proto/smtp_data_reader.c):
 * where the data ends, what is refused, and that none of it depends on how
 * the octets were split into reads (issue 13: a CR ending one read and its
 * LF starting the next hid the final ".").
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_data_reader.h"
#include "check_main.h"

/*
 * Feed IN (LEN octets) in chunks cut at the positions in CUTS (NCUTS of
 * them, ascending), as the session does with its input buffer; write what
 * the reader said into OUT: one letter a unit (L line, F fragment, E end)
 * followed by its flags, and the offset of the end.
 */
static void
run(const char *in, size_t len, const size_t *cuts, size_t ncuts, char *out,
    size_t outsz)
{
	struct smtp_data_reader	 r;
	char			*buf = malloc(len + 1);
	size_t			 have = 0, fed = 0, c = 0, o = 0, consumed = 0;

	smtp_data_reader_init(&r);
	out[0] = '\0';
	while (fed < len || have > 0) {
		size_t		 upto = c < ncuts ? cuts[c++] : len, n;
		unsigned	 flags;
		enum smtp_data_unit u;

		memcpy(buf + have, in + fed, upto - fed);
		have += upto - fed;
		fed = upto;
		for (;;) {
			u = smtp_data_reader_next(&r, buf, have, &n, &flags);
			if (u == SDR_MORE)
				break;
			o += snprintf(out + o, outsz - o, "%c%u ",
			    u == SDR_LINE ? 'L' : u == SDR_FRAGMENT ? 'F' : 'E',
			    flags);
			memmove(buf, buf + n, have - n);
			have -= n;
			consumed += n;
			if (u == SDR_END) {
				o += snprintf(out + o, outsz - o, "@%zu", consumed);
				free(buf);
				return;
			}
		}
		if (fed == len)
			break;
	}
	snprintf(out + o, outsz - o, "open");
	free(buf);
}

static char *
long_line_then_dot(size_t linelen, size_t *len)
{
	char	*m = malloc(linelen + 32);

	memcpy(m, "Subject: x\r\n\r\n", 14);
	memset(m + 14, 'a', linelen);
	memcpy(m + 14 + linelen, "\r\n.\r\n", 5);
	*len = 14 + linelen + 5;
	return m;
}

/* The issue's case: a 1000-octet line, its CR the last octet of a read. */
START_TEST(cr_lf_split_across_reads)
{
	char	 whole[256], split[256];
	size_t	 len, cut;
	char	*m = long_line_then_dot(1000, &len);

	run(m, len, NULL, 0, whole, sizeof(whole));
	ck_assert_msg(strstr(whole, "E0 @") != NULL, "no end: %s", whole);
	ck_assert_msg(strstr(whole, "L4 ") != NULL, "not too long: %s", whole);
	for (cut = 1; cut < len; cut++) {
		run(m, len, &cut, 1, split, sizeof(split));
		ck_assert_msg(strcmp(whole, split) == 0,
		    "cut at %zu: %s, whole: %s", cut, split, whole);
	}
	free(m);
}
END_TEST

/* Lines of every length around the limit, each cut everywhere. */
START_TEST(every_length_every_cut)
{
	char	 whole[256], split[256];
	size_t	 len, cut, ll;

	for (ll = 995; ll <= 1005; ll++) {
		char	*m = long_line_then_dot(ll, &len);

		run(m, len, NULL, 0, whole, sizeof(whole));
		ck_assert_msg(strstr(whole, "E0 @") != NULL, "%zu: %s", ll, whole);
		ck_assert_int_eq(strstr(whole, "L4 ") != NULL || strstr(whole,
		    "F4") != NULL, ll + 2 > 1000);
		for (cut = 1; cut < len; cut += 7) {
			run(m, len, &cut, 1, split, sizeof(split));
			ck_assert_msg(strcmp(whole, split) == 0, "%zu cut %zu", ll,
			    cut);
		}
		free(m);
	}
}
END_TEST

/* Only <CRLF>.<CRLF> ends the data; look-alikes are refused lines. */
START_TEST(smuggling_lookalikes)
{
	static const char *nonend[] = {
		"a\n.\r\nb\r\n", "a\r\n.\nb\r\n", "a\r.\r\nb\r\n",
		"a\r\n.\r\r\n", "a\n.\nb\r\n",
	};
	char	 out[256];
	size_t	 i;

	for (i = 0; i < sizeof(nonend) / sizeof(nonend[0]); i++) {
		run(nonend[i], strlen(nonend[i]), NULL, 0, out, sizeof(out));
		ck_assert_msg(strstr(out, "E") == NULL, "%zu ended: %s", i, out);
		ck_assert_msg(strstr(out, "L1") != NULL, "%zu: %s", i, out);
	}
	run("a\r\n.\r\n", 6, NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "L0 E0 @6");
	run(".\r\n", 3, NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "E0 @3");
	run("..\r\n.\r\n", 7, NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "L0 E0 @7");
	run("a\0b\r\n.\r\n", 8, NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "L2 E0 @8");
}
END_TEST

/* Random octets (CR, LF, dots and letters) in random reads agree with
 * the whole buffer. */
START_TEST(random_splits_agree)
{
	static const char alpha[] = "\r\n.a\r\n..\r\n";
	char	 in[4096], whole[8192], split[8192];
	size_t	 cuts[16], i, j, k;

	srandom(13);
	for (i = 0; i < 300; i++) {
		size_t	 len = 1 + random() % sizeof(in);

		for (j = 0; j < len; j++)
			in[j] = random() % 7 == 0 ? 'x' :
			    alpha[random() % (sizeof(alpha) - 1)];
		if (i % 3 == 0)		/* long runs too */
			memset(in, 'y', len / 2);
		run(in, len, NULL, 0, whole, sizeof(whole));
		for (k = 0; k < 16; k++)
			cuts[k] = 1 + random() % len;
		for (j = 0; j < 16; j++)	/* sort */
			for (k = j + 1; k < 16; k++)
				if (cuts[k] < cuts[j]) {
					size_t t = cuts[j];
					cuts[j] = cuts[k];
					cuts[k] = t;
				}
		run(in, len, cuts, 16, split, sizeof(split));
		ck_assert_msg(strcmp(whole, split) == 0, "round %zu", i);
	}
}
END_TEST

static Suite *
smtp_data_reader_suite(void)
{
	Suite	*s = suite_create("smtp_data_reader");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, cr_lf_split_across_reads);
	tcase_add_test(tc, every_length_every_cut);
	tcase_add_test(tc, smuggling_lookalikes);
	tcase_add_test(tc, random_splits_agree);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(smtp_data_reader_suite());
}
