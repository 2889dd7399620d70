/*
 * test_dkim_canon.c — canonicalization (RFC 6376 3.4): each rule of simple
 * and relaxed, for header fields and bodies, one case each; the body hash
 * vectors of the test data README; any chunking gives the same hash; field
 * splitting and the bottom-up choice of repeated fields (5.4.2).
 */
#include <sodium.h>

#include "tests/unit/test_dkim_util.h"

/* Header field IN canonicalized must give WANT (without CRLF). */
static void
hdr_is(int simple, const char *in, const char *want)
{
	char	 out[1024];
	size_t	 n;

	n = dkim_canon_header(simple, in, strlen(in), out);
	out[n] = '\0';
	ck_assert_str_eq(out, want);
}

/* Body IN canonicalized must be WANT: their hashes agree, in any chunks. */
static void
body_is(int simple, const char *in, size_t inlen, const char *want)
{
	unsigned char	 got[DKIM_BH_LEN], exp[DKIM_BH_LEN];
	static const size_t chunks[] = { 1, 2, 3, 5, 64, 1 << 20 };
	size_t		 i;

	crypto_hash_sha256(exp, (const unsigned char *)want, strlen(want));
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		util_bh(simple, in, inlen, chunks[i], got);
		ck_assert_msg(memcmp(got, exp, sizeof(got)) == 0,
		    "%s body [%s] chunk %zu is not [%s]",
		    simple ? "simple" : "relaxed", in, chunks[i], want);
	}
}
#define BODY_IS(s, in, want)	body_is((s), (in), sizeof(in) - 1, (want))

/* 3.4.1: simple header canonicalization changes nothing. */
START_TEST(test_hdr_simple_unchanged)
{
	hdr_is(1, "SuBjecT : a  \t b \r\n\tc  \r\n", "SuBjecT : a  \t b \r\n\tc  ");
}
END_TEST

/* 3.4.2: names lower-cased. */
START_TEST(test_hdr_relaxed_lowercase_name)
{
	hdr_is(0, "SUBJECT:x\r\n", "subject:x");
	hdr_is(0, "Message-ID:<A@B>\r\n", "message-id:<A@B>");
}
END_TEST

/* 3.4.2: unfold continuation lines. */
START_TEST(test_hdr_relaxed_unfold)
{
	hdr_is(0, "To:a,\r\n b\r\n", "to:a, b");
	hdr_is(0, "To:a,\r\n\tb,\r\n  c\r\n", "to:a, b, c");
}
END_TEST

/* 3.4.2: runs of WSP become one SP. */
START_TEST(test_hdr_relaxed_wsp_runs)
{
	hdr_is(0, "Subject:a \t  b\t\tc\r\n", "subject:a b c");
}
END_TEST

/* 3.4.2: WSP at the end of the value goes (after unfolding). */
START_TEST(test_hdr_relaxed_trailing_wsp)
{
	hdr_is(0, "Subject:a \t\r\n", "subject:a");
	hdr_is(0, "Subject:a\r\n \t\r\n", "subject:a");
}
END_TEST

/* 3.4.2: WSP before and after the colon goes. */
START_TEST(test_hdr_relaxed_colon_wsp)
{
	hdr_is(0, "Subject \t: \t x\r\n", "subject:x");
	hdr_is(0, "Subject:\r\n x\r\n", "subject:x");
	hdr_is(0, "Subject: a: b\r\n", "subject:a: b");
	hdr_is(0, "Subject:\r\n", "subject:");
}
END_TEST

/* 3.4.2 with 8-bit octets: left as they are. */
START_TEST(test_hdr_relaxed_8bit)
{
	hdr_is(0, "Subject: \xc3\xa9t\xc3\xa9  chaud\r\n", "subject:\xc3\xa9t\xc3\xa9 chaud");
}
END_TEST

/* 3.4.5: the RFC's example. */
START_TEST(test_rfc6376_example)
{
	hdr_is(0, "A: X\r\n", "a:X");
	hdr_is(0, "B : Y\t\r\n\tZ  \r\n", "b:Y Z");
	hdr_is(1, "B : Y\t\r\n\tZ  \r\n", "B : Y\t\r\n\tZ  ");
	BODY_IS(0, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
	BODY_IS(1, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n");
}
END_TEST

/* 3.4.3: empty lines at the end of the body go. */
START_TEST(test_body_simple_trailing_empty)
{
	BODY_IS(1, "a\r\n\r\n\r\n", "a\r\n");
	BODY_IS(1, "a\r\n\r\nb\r\n\r\n", "a\r\n\r\nb\r\n");
}
END_TEST

/* 3.4.3: lines of white space are not empty in simple. */
START_TEST(test_body_simple_white_lines_kept)
{
	BODY_IS(1, "a\r\n \r\n\t\r\n", "a\r\n \r\n\t\r\n");
}
END_TEST

/* 3.4.3: an empty body is one CRLF. */
START_TEST(test_body_simple_empty)
{
	BODY_IS(1, "", "\r\n");
	BODY_IS(1, "\r\n\r\n\r\n", "\r\n");
}
END_TEST

/* 3.4.3: a body without a final CRLF gets one. */
START_TEST(test_body_simple_no_final_crlf)
{
	BODY_IS(1, "a", "a\r\n");
	BODY_IS(1, "a\r\nb  ", "a\r\nb  \r\n");
}
END_TEST

/* 3.4.4: WSP at the end of lines goes. */
START_TEST(test_body_relaxed_trailing_wsp)
{
	BODY_IS(0, "a \t \r\nb\t\r\n", "a\r\nb\r\n");
}
END_TEST

/* 3.4.4: runs of WSP in a line become one SP (at its start too). */
START_TEST(test_body_relaxed_wsp_runs)
{
	BODY_IS(0, "a \t b\t\tc\r\n", "a b c\r\n");
	BODY_IS(0, "\t\t x\r\n", " x\r\n");
}
END_TEST

/* 3.4.4: empty lines at the end go, white ones too. */
START_TEST(test_body_relaxed_trailing_empty)
{
	BODY_IS(0, "a\r\n\r\n \r\n\t \r\n\r\n", "a\r\n");
	BODY_IS(0, "a\r\n \r\nb\r\n", "a\r\n\r\nb\r\n");
}
END_TEST

/* 3.4.4: an empty body (or only blank lines) is empty. */
START_TEST(test_body_relaxed_empty)
{
	BODY_IS(0, "", "");
	BODY_IS(0, "\r\n \r\n\t\r\n", "");
}
END_TEST

/* 3.4.4: a body without a final CRLF gets one. */
START_TEST(test_body_relaxed_no_final_crlf)
{
	BODY_IS(0, "a", "a\r\n");
	BODY_IS(0, "a\r\nb \t", "a\r\nb\r\n");
}
END_TEST

/* Bare CR (the daemon refuses them; the hash still must be sane). */
START_TEST(test_body_bare_cr)
{
	BODY_IS(1, "a\rb\r\n", "a\rb\r\n");
	BODY_IS(0, "a\r", "a\r\r\n");
}
END_TEST

/* Dot-stuffing is undone before hashing: dots are content. */
START_TEST(test_body_dots)
{
	BODY_IS(0, ".\r\n..x\r\n", ".\r\n..x\r\n");
}
END_TEST

/* The README's table. */
START_TEST(test_readme_vectors)
{
	static const struct { const char *in, *simple, *relaxed; } v[] = {
		{ "", "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=",
		    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
		{ "\r\n\r\n", "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=",
		    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
		{ "a", "jkYhN5eG70Kk/sFVzVJcKR3X2zwf3jR4Ui9PYcA/0b0=",
		    "jkYhN5eG70Kk/sFVzVJcKR3X2zwf3jR4Ui9PYcA/0b0=" },
		{ "a \r\n \r\n\t\r\n", "c4uZLhuYTn5092ysRBD9kZ+pXz2BarsYrc7tUB0CblM=",
		    "jkYhN5eG70Kk/sFVzVJcKR3X2zwf3jR4Ui9PYcA/0b0=" },
		{ "a  \t b \r\nc\r\n\r\n\r\n",
		    "i+dx2hSB+fWVaJEqqDCWarHwhQP3la5zRYQKWZ1e/Iw=",
		    "Fpw9LRv98sOa9yITRAMuqnTeI6v8pmVq3GnXQ4jXZAY=" },
		{ " x\r\n", "ke28WSuh9b+cQI5hAwVR5sGjZpXa9E5HKrMgt7wR45I=",
		    "ke28WSuh9b+cQI5hAwVR5sGjZpXa9E5HKrMgt7wR45I=" },
	};
	size_t	 i, chunk;
	char	*b64;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (chunk = 1; chunk < 8; chunk++) {
			b64 = util_bh64(1, v[i].in, strlen(v[i].in), chunk);
			ck_assert_str_eq(b64, v[i].simple);
			free(b64);
			b64 = util_bh64(0, v[i].in, strlen(v[i].in), chunk);
			ck_assert_str_eq(b64, v[i].relaxed);
			free(b64);
		}
}
END_TEST

/*
 * A plain reference canonicalizer, line by line as RFC 6376 3.4.3 and 3.4.4
 * read, for bodies of CRLF lines (a bare CR is content); OUT holds 2 * LEN
 * + 2 octets.  Returns the length.
 */
static size_t
ref_body(int simple, const char *in, size_t len, char *out)
{
	size_t	 o = 0, i = 0, keep = 0, end, ls;
	int	 wsp;

	while (i < len) {
		end = i;
		while (end < len && !(in[end] == '\r' && end + 1 < len &&
		    in[end + 1] == '\n'))
			end++;
		ls = o;
		wsp = 0;
		for (; i < end; i++) {
			if (!simple && (in[i] == ' ' || in[i] == '\t')) {
				wsp = 1;	/* dropped at the end of the line */
				continue;
			}
			if (wsp)
				out[o++] = ' ';
			wsp = 0;
			out[o++] = in[i];
		}
		out[o++] = '\r';
		out[o++] = '\n';
		if (o - ls > 2)
			keep = o;	/* empty lines after this one go */
		i = end < len ? end + 2 : end;
	}
	if (simple && keep == 0) {
		out[0] = '\r';
		out[1] = '\n';
		return 2;
	}
	return keep;
}

/* Random bodies of a small alphabet, random chunks: stream == reference. */
START_TEST(test_random_bodies)
{
	static const char alpha[] = "ab \t\r\n\r\n.";
	unsigned char	 got[DKIM_BH_LEN], exp[DKIM_BH_LEN];
	char		 in[64], ref[64 * 2 + 2];
	size_t		 n, len, r;
	int		 simple;

	srandom(6376);
	for (n = 0; n < 20000; n++) {
		len = random() % sizeof(in);
		for (r = 0; r < len; r++)
			in[r] = alpha[random() % (sizeof(alpha) - 1)];
		simple = n & 1;
		r = ref_body(simple, in, len, ref);
		crypto_hash_sha256(exp, (unsigned char *)ref, r);
		util_bh(simple, in, len, 1 + random() % 9, got);
		ck_assert_msg(memcmp(got, exp, sizeof(got)) == 0,
		    "%s body of %zu octets [%.*s] canon [%.*s]",
		    simple ? "simple" : "relaxed", len, (int)len, in, (int)r, ref);
	}
}
END_TEST

/* Field splitting: folded fields, odd case, WSP before the colon. */
START_TEST(test_fields_split)
{
	const char		*h = "FROM: a\r\nSubject : b\r\n\tc\r\nx-y:z\r\nnocolon\r\n";
	struct dkim_field	*f;
	size_t			 n;

	f = dkim_fields_split(h, strlen(h), &n);
	ck_assert_int_eq(n, 4);
	ck_assert(dkim_field_is(&f[0], "from"));
	ck_assert(dkim_field_is(&f[1], "SUBJECT"));
	ck_assert_int_eq(f[1].len, strlen("Subject : b\r\n\tc\r\n"));
	ck_assert(dkim_field_is(&f[2], "X-Y"));
	ck_assert_int_eq(f[3].namelen, 0);
	ck_assert(!dkim_field_is(&f[3], "nocolon"));
	ck_assert_int_eq(dkim_field_count(f, n, "From"), 1);
	free(f);
	ck_assert_ptr_null(dkim_fields_split("", 0, &n));
	ck_assert_int_eq(n, 0);
}
END_TEST

/* 5.4.2: repeated fields are taken from the bottom; one too many is empty. */
START_TEST(test_hash_bottom_up)
{
	const char		*h = "X: 1\r\nFrom: f\r\nx: 2\r\n";
	const char		*sig = "DKIM-Signature: b=";
	const char		*want = "x:2\r\nx:1\r\nfrom:f\r\ndkim-signature:b=";
	unsigned char		 got[DKIM_BH_LEN], exp[DKIM_BH_LEN];
	struct dkim_field	*f;
	size_t			 n;

	const char		*hl = "x : X:x:\r\n from:nothere";

	f = dkim_fields_split(h, strlen(h), &n);
	ck_assert_int_eq(dkim_header_hash(f, n, hl, strlen(hl), 0, sig,
	    strlen(sig), got), 0);
	crypto_hash_sha256(exp, (const unsigned char *)want, strlen(want));
	ck_assert(memcmp(got, exp, sizeof(got)) == 0);
	free(f);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dkim_canon");
	TCase	*th = tcase_create("header");
	TCase	*tb = tcase_create("body");
	SRunner	*sr;
	int	 nfail;

	tcase_add_test(th, test_hdr_simple_unchanged);
	tcase_add_test(th, test_hdr_relaxed_lowercase_name);
	tcase_add_test(th, test_hdr_relaxed_unfold);
	tcase_add_test(th, test_hdr_relaxed_wsp_runs);
	tcase_add_test(th, test_hdr_relaxed_trailing_wsp);
	tcase_add_test(th, test_hdr_relaxed_colon_wsp);
	tcase_add_test(th, test_hdr_relaxed_8bit);
	tcase_add_test(th, test_rfc6376_example);
	tcase_add_test(th, test_fields_split);
	tcase_add_test(th, test_hash_bottom_up);
	tcase_add_test(tb, test_body_simple_trailing_empty);
	tcase_add_test(tb, test_body_simple_white_lines_kept);
	tcase_add_test(tb, test_body_simple_empty);
	tcase_add_test(tb, test_body_simple_no_final_crlf);
	tcase_add_test(tb, test_body_relaxed_trailing_wsp);
	tcase_add_test(tb, test_body_relaxed_wsp_runs);
	tcase_add_test(tb, test_body_relaxed_trailing_empty);
	tcase_add_test(tb, test_body_relaxed_empty);
	tcase_add_test(tb, test_body_relaxed_no_final_crlf);
	tcase_add_test(tb, test_body_bare_cr);
	tcase_add_test(tb, test_body_dots);
	tcase_add_test(tb, test_readme_vectors);
	tcase_add_test(tb, test_random_bodies);
	suite_add_tcase(s, th);
	suite_add_tcase(s, tb);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? 0 : 1;
}
