/* test_users.c — the users file, users_find and sender_match. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/users.h"

#include "tests/unit/check_main.h"

static char	 path[64];
static char	*errtext;

#define HASH	"$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$" \
		"K4P0Ydq1aYJ8ZyS0k9mCVh5JhLuhbX3Y5v2n4rQeHqQ"

static struct users *
load(const char *text)
{
	struct users	*u;
	FILE		*errf;
	size_t		 len = strlen(text);
	int		 fd;

	snprintf(path, sizeof(path), "/tmp/test_users.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	free(errtext);
	errtext = NULL;
	errf = open_memstream(&errtext, &len);
	ck_assert_ptr_nonnull(errf);
	u = users_load(path, errf);
	fclose(errf);
	unlink(path);
	return u;
}

static void
assert_err(int line, const char *msg)
{
	char	 want[512];

	snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
	ck_assert_msg(strstr(errtext, want) != NULL,
	    "wanted '%s' in '%s'", want, errtext);
}

static const char good[] =
    "# name:hash:senders[:options]\n"
    "alice@example.org:" HASH ":alice@example.org,sales@example.org\n"
    "\n"
    "   # indented comment\n"
    "crm:" HASH ":*@crm.example.org:from=203.0.113.7/32,messages=1000/hour\n"
    "app:" HASH ":app@example.org:from=192.0.2.0/24,2001:db8::/32,"
    "::1,recipients=5000/day,messages=10/15m,bytes=100M/day\r\n";

START_TEST(test_good)
{
	struct users		*t = load(good);
	const struct user_entry	*u;

	ck_assert_msg(t != NULL, "errors: %s", errtext);
	ck_assert_str_eq(errtext, "");
	ck_assert_uint_eq(t->n, 3);

	u = users_find(t, "alice@example.org");
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u->hash, HASH);
	ck_assert_str_eq(u->senders, "alice@example.org,sales@example.org");
	ck_assert_uint_eq(u->nfrom, 0);
	ck_assert_uint_eq(u->messages.count, 0);
	ck_assert_int_eq(u->line, 2);

	u = users_find(t, "crm");
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->nfrom, 1);
	ck_assert_uint_eq(u->from[0].prefixlen, 32);
	ck_assert_uint_eq(u->messages.count, 1000);
	ck_assert_int_eq(u->messages.window, 3600);
	ck_assert_uint_eq(u->recipients.count, 0);

	u = users_find(t, "app");
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->nfrom, 3);
	ck_assert_int_eq(u->from[1].family, AF_INET6);
	ck_assert_uint_eq(u->from[2].prefixlen, 128);
	ck_assert_uint_eq(u->recipients.count, 5000);
	ck_assert_int_eq(u->recipients.window, 86400);
	ck_assert_uint_eq(u->messages.count, 10);
	ck_assert_int_eq(u->messages.window, 900);
	ck_assert_uint_eq(u->bytes.count, 100 * 1024 * 1024);
	ck_assert_int_eq(u->bytes.window, 86400);
	users_free(t);
}
END_TEST

START_TEST(test_find)
{
	struct users	*t = load(good);

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(users_find(t, "alice@EXAMPLE.ORG"));
	ck_assert_ptr_null(users_find(t, "Alice@example.org"));
	ck_assert_ptr_null(users_find(t, "alice"));
	ck_assert_ptr_null(users_find(t, "alice@example.org.evil"));
	ck_assert_ptr_null(users_find(t, "CRM"));
	ck_assert_ptr_null(users_find(t, ""));
	users_free(t);
}
END_TEST

static const struct {
	const char	*line;
	const char	*msg;
} bad[] = {
	{ "bob:$2y$10$abcdefghijklmnopqrstuv:bob@example.org",
	    "unsupported password hash" },
	{ "bob:$argon2i$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA:bob@example.org",
	    "unsupported password hash" },
	{ "bob:plaintext:bob@example.org", "unsupported password hash" },
	{ "bob:" HASH, "expected name:hash:senders[:options]" },
	{ "bob:" HASH ":b@example.org:messages=1/hour:extra",
	    "messages: bad rate '1/hour:extra'" },
	{ "bob:" HASH ":b@example.org:from=::1:messages=1/hour",
	    "from: bad address block '::1:messages=1/hour'" },
	{ ":" HASH ":b@example.org", "bad user name" },
	{ "bob:" HASH ":", "empty or too long sender list" },
	{ "bob:" HASH ":example.org", "bad sender pattern 'example.org'" },
	{ "bob:" HASH ":*", "bad sender pattern '*'" },
	{ "bob:" HASH ":b@example.org,,c@example.org", "bad sender pattern ''" },
	{ "bob:" HASH ":*@*.example.org", "bad sender pattern" },
	{ "bob:" HASH ":b@example.org:from=10.0.0.0/33",
	    "from: bad address block '10.0.0.0/33'" },
	{ "bob:" HASH ":b@example.org:messages=1000",
	    "messages: expected N/hour" },
	{ "bob:" HASH ":b@example.org:messages=0/hour",
	    "messages: bad rate '0/hour'" },
	{ "bob:" HASH ":b@example.org:recipients=5/fortnight",
	    "recipients: bad rate '5/fortnight'" },
	{ "bob:" HASH ":b@example.org:messages=1/hour,messages=2/hour",
	    "messages given twice" },
	{ "bob:" HASH ":b@example.org:bytes=100M",
	    "bytes: expected SIZE/hour" },
	{ "bob:" HASH ":b@example.org:bytes=0/day", "bytes: bad rate '0/day'" },
	{ "bob:" HASH ":b@example.org:bytes=1025G/day",
	    "bytes: bad rate '1025G/day'" },
	{ "bob:" HASH ":b@example.org:bytes=1M/hour,bytes=2M/hour",
	    "bytes given twice" },
	{ "bob:" HASH ":b@example.org:colour=blue", "unknown option 'colour'" },
	{ "bob:" HASH ":b@example.org:10.0.0.1", "unknown option '10.0.0.1'" },
	{ "bob:" HASH ":b@example.org:messages=1/hour,10.0.0.1",
	    "unknown option '10.0.0.1'" },
	{ "bob:" HASH ":b@example.org:", "empty option" },
	{ "bob :" HASH ":b@example.org", "blank, control or non-ASCII" },
	{ "alice@Example.org:" HASH ":b@example.org",
	    "duplicate user 'alice@Example.org' (first on line 1)" },
};

START_TEST(test_errors)
{
	char		 text[1024];
	struct users	*t;

	snprintf(text, sizeof(text), "alice@example.org:" HASH
	    ":alice@example.org\n%s\n", bad[_i].line);
	t = load(text);
	ck_assert_msg(t == NULL, "'%s' was accepted", bad[_i].line);
	assert_err(2, bad[_i].msg);
}
END_TEST

START_TEST(test_hostbits_warning)
{
	struct users	*t = load("a:" HASH ":a@example.org:from=10.1.2.3/8\n");

	ck_assert_msg(t != NULL, "errors: %s", errtext);
	assert_err(1, "warning: from: '10.1.2.3/8' has host bits set, taken "
	    "as 10.0.0.0/8");
	users_free(t);
}
END_TEST

START_TEST(test_sender_match)
{
	const char	*pats = "alice@example.org,*@Shop.Example,b.c+d@x.org";

	ck_assert_int_eq(sender_match(pats, "alice@example.org"), 1);
	ck_assert_int_eq(sender_match(pats, "alice@EXAMPLE.ORG"), 1);
	ck_assert_int_eq(sender_match(pats, "Alice@example.org"), 0);
	ck_assert_int_eq(sender_match(pats, "alice2@example.org"), 0);
	ck_assert_int_eq(sender_match(pats, "lice@example.org"), 0);
	ck_assert_int_eq(sender_match(pats, "alice@example.org.evil"), 0);
	ck_assert_int_eq(sender_match(pats, "alice@xexample.org"), 0);
	ck_assert_int_eq(sender_match(pats, "anyone@shop.example"), 1);
	ck_assert_int_eq(sender_match(pats, "Any.One@SHOP.example"), 1);
	ck_assert_int_eq(sender_match(pats, "b.c+d@x.org"), 1);
	ck_assert_int_eq(sender_match(pats, "b.c+D@x.org"), 0);
	ck_assert_int_eq(sender_match(pats, ""), 0);
	ck_assert_int_eq(sender_match(pats, "@shop.example"), 0);
	ck_assert_int_eq(sender_match(pats, "noat"), 0);
	ck_assert_int_eq(sender_match(pats, "a@"), 0);

	/* A U-label domain matches its A-labels (the file is ASCII). */
	ck_assert_int_eq(sender_match("*@xn--bcher-kva.example",
	    "user@b\xc3\xbc" "cher.example"), 1);
	ck_assert_int_eq(sender_match("user@xn--bcher-kva.example",
	    "user@B\xc3\xbc" "cher.Example"), 1);
	ck_assert_int_eq(sender_match("user@xn--bcher-kva.example",
	    "other@b\xc3\xbc" "cher.example"), 0);
	ck_assert_int_eq(sender_match("*@xn--bcher-kva.example",
	    "user@b\xc3\xbc" "cher.example.evil"), 0);
	ck_assert_int_eq(sender_match("*@bucher.example",
	    "user@b\xc3\xbc" "cher.example"), 0);
	ck_assert_int_eq(sender_match("*@xn--bcher-kva.example",
	    "user@b\xfc" "cher.example"), 0);	/* Latin-1: not UTF-8 */

	/* No subdomain wildcard surprises. */
	ck_assert_int_eq(sender_match("*@example.org", "a@example.org"), 1);
	ck_assert_int_eq(sender_match("*@example.org", "a@evil-example.org"),
	    0);
	ck_assert_int_eq(sender_match("*@example.org", "a@sub.example.org"), 0);
	ck_assert_int_eq(sender_match("*@example.org", "a@example.org.evil"),
	    0);
	ck_assert_int_eq(sender_match("*@example.org", "a@example.or"), 0);
	/* A quoted local part holding '@': the domain is after the last. */
	ck_assert_int_eq(sender_match("*@example.org",
	    "\"a@evil.org\"@example.org"), 1);
	ck_assert_int_eq(sender_match("*@evil.org",
	    "\"a@evil.org\"@example.org"), 0);
	/* "*" is no pattern for a user. */
	ck_assert_int_eq(sender_match("*", "a@example.org"), 0);
	ck_assert_int_eq(sender_match("", "a@example.org"), 0);
	ck_assert_int_eq(sender_match(",", "a@example.org"), 0);
}
END_TEST

START_TEST(test_example)
{
	const char		*file = "conf/users.example";
	struct users		*t;
	const struct user_entry	*u;
	FILE			*errf;
	size_t			 len;

	if (access(file, R_OK) == -1) {
		fprintf(stderr, "skipped: %s not here\n", file);
		return;
	}
	free(errtext);
	errtext = NULL;
	errf = open_memstream(&errtext, &len);
	t = users_load(file, errf);
	fclose(errf);
	ck_assert_msg(t != NULL, "%s", errtext);
	ck_assert_str_eq(errtext, "");
	ck_assert_uint_eq(t->n, 2);
	u = users_find(t, "crm");
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->nfrom, 2);
	ck_assert(sender_match(u->senders, "news@crm.example.org"));
	ck_assert(!sender_match(u->senders, "news@example.org"));
	users_free(t);
}
END_TEST

static Suite *
users_suite(void)
{
	Suite	*s = suite_create("users");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_find);
	tcase_add_loop_test(tc, test_errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_hostbits_warning);
	tcase_add_test(tc, test_sender_match);
	tcase_add_test(tc, test_example);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(users_suite());
}
