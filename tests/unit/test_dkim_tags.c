/*
 * test_dkim_tags.c — tag=value lists (RFC 6376 3.2) and key records
 * (3.6.1, RFC 8463 4.2).
 */
#include "tests/unit/test_dkim_util.h"

static struct dkim_taglist tl;
static char	 err[128];

static int
parse(const char *s)
{
	return dkim_tags_parse(s, strlen(s), &tl, err, sizeof(err));
}

static void
value_is(const char *name, const char *want)
{
	const struct dkim_tag	*t = dkim_tags_get(&tl, name);

	ck_assert_msg(t != NULL, "no tag %s", name);
	ck_assert_int_eq(t->valuelen, strlen(want));
	ck_assert(memcmp(t->value, want, t->valuelen) == 0);
}

START_TEST(test_simple_list)
{
	ck_assert_int_eq(parse("v=1; a=rsa-sha256; d=example.org"), 0);
	ck_assert_int_eq(tl.ntags, 3);
	value_is("v", "1");
	value_is("a", "rsa-sha256");
	value_is("d", "example.org");
	ck_assert_ptr_null(dkim_tags_get(&tl, "s"));
	ck_assert(dkim_tags_is(dkim_tags_get(&tl, "v"), "1"));
	ck_assert(!dkim_tags_is(dkim_tags_get(&tl, "v"), "10"));
}
END_TEST

/* FWS around names, '=' and values; folded values keep inner FWS. */
START_TEST(test_fws)
{
	ck_assert_int_eq(parse(" v = 1 ;\r\n\ta=\r\n ed25519-sha256\t;h=from :\r\n to"), 0);
	value_is("v", "1");
	value_is("a", "ed25519-sha256");
	value_is("h", "from :\r\n to");
}
END_TEST

/* A final ';' and an empty list are fine. */
START_TEST(test_trailing_semicolon)
{
	ck_assert_int_eq(parse("v=1;"), 0);
	ck_assert_int_eq(tl.ntags, 1);
	ck_assert_int_eq(parse("v=1; \r\n "), 0);
	ck_assert_int_eq(parse(""), 0);
	ck_assert_int_eq(tl.ntags, 0);
}
END_TEST

/* Empty values are values. */
START_TEST(test_empty_value)
{
	ck_assert_int_eq(parse("b=; p= ;x=1"), 0);
	value_is("b", "");
	value_is("p", "");
}
END_TEST

/* Tag names are case-sensitive: "B" is not "b". */
START_TEST(test_case_sensitive)
{
	ck_assert_int_eq(parse("B=1; b=2"), 0);
	value_is("b", "2");
	value_is("B", "1");
}
END_TEST

START_TEST(test_duplicate)
{
	ck_assert_int_eq(parse("v=1; d=a; d=b"), -1);
	ck_assert_str_eq(err, "tag d twice");
}
END_TEST

START_TEST(test_bad_syntax)
{
	ck_assert_int_eq(parse("v=1;; a=x"), -1);	/* empty tag-spec */
	ck_assert_int_eq(parse("v"), -1);
	ck_assert_int_eq(parse("1v=1"), -1);
	ck_assert_int_eq(parse("v=1; a b=2"), -1);
	ck_assert_int_eq(parse("v=\x80"), -1);		/* not a VALCHAR */
	ck_assert_int_eq(parse("n_1=ok"), 0);
}
END_TEST

/* raw_start..raw_end covers the whole value with its FWS (for b=). */
START_TEST(test_raw_offsets)
{
	const char	*s = "a=1; b= AbC\r\n dEf ; c=2";

	ck_assert_int_eq(parse(s), 0);
	ck_assert_int_eq(dkim_tags_get(&tl, "b")->raw_start, 7);
	ck_assert_int_eq(dkim_tags_get(&tl, "b")->raw_end, 18);
	value_is("b", "AbC\r\n dEf");
}
END_TEST

START_TEST(test_too_many)
{
	char	 buf[1024] = "";
	size_t	 i;

	for (i = 0; i <= DKIM_TAGS_MAX; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "t%zu=1;", i);
	ck_assert_int_eq(parse(buf), -1);
}
END_TEST

START_TEST(test_base64)
{
	unsigned char	 out[8];

	ck_assert_int_eq(dkim_b64_decode("YWJj", 4, out, sizeof(out)), 3);
	ck_assert(memcmp(out, "abc", 3) == 0);
	ck_assert_int_eq(dkim_b64_decode("YW\r\n Jj", 7, out, sizeof(out)), 3);
	ck_assert_int_eq(dkim_b64_decode("YWJ", 3, out, sizeof(out)), -1);
	ck_assert_int_eq(dkim_b64_decode("YWJj!", 5, out, sizeof(out)), -1);
	ck_assert_int_eq(dkim_b64_decode("YWJjYWJjYWJj", 12, out, sizeof(out)), -1);
}
END_TEST

/* Key records. */
START_TEST(test_key_records)
{
	static const char *const bad[] = {
		"v=DKIM1; k=ed25519",			/* no p= */
		"v=DKIM1; k=ed25519; p=",		/* revoked */
		"k=ed25519; v=DKIM1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
		"v=DKIM1; k=ed25519; p=AAAA",		/* not 32 octets */
		"v=DKIM1; k=dsa; p=AAAA",
		"v=DKIM1; k=rsa; p=AAAA",
		"v=DKIM1; h=sha1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
		"v=DKIM2; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	};
	struct dkim_pubkey	*pk;
	size_t			 i;

	pk = dkim_pubkey_from_txt("v=DKIM1; k=ed25519; h=sha1:sha256; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", err, sizeof(err));
	ck_assert_msg(pk != NULL, "%s", err);
	ck_assert_int_eq(dkim_pubkey_alg(pk), DKIM_ALG_ED25519_SHA256);
	dkim_pubkey_free(pk);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pk = dkim_pubkey_from_txt(bad[i], err, sizeof(err));
		ck_assert_msg(pk == NULL, "accepted %s", bad[i]);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dkim_tags");
	TCase	*tc = tcase_create("tags");
	SRunner	*sr;
	int	 nfail;

	tcase_add_test(tc, test_simple_list);
	tcase_add_test(tc, test_fws);
	tcase_add_test(tc, test_trailing_semicolon);
	tcase_add_test(tc, test_empty_value);
	tcase_add_test(tc, test_case_sensitive);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_bad_syntax);
	tcase_add_test(tc, test_raw_offsets);
	tcase_add_test(tc, test_too_many);
	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_key_records);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? 0 : 1;
}
