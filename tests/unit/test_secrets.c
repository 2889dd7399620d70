/* test_secrets.c — the upstream secrets file: parsing, mode, first match. */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/secrets.h"

#include "tests/unit/check_main.h"

static char	 path[64];
static char	*errtext;

static struct secrets *
load_mode(const char *text, mode_t mode)
{
	struct secrets	*s;
	FILE		*errf;
	size_t		 len = strlen(text);
	int		 fd;

	snprintf(path, sizeof(path), "/tmp/test_secrets.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	free(errtext);
	errtext = NULL;
	errf = open_memstream(&errtext, &len);
	ck_assert_ptr_nonnull(errf);
	s = secrets_load(path, errf);
	fclose(errf);
	unlink(path);
	return s;
}

static struct secrets *
load(const char *text)
{
	return load_mode(text, 0600);
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
    "# OVH: a mailbox may only send as itself or its aliases\n"
    "*@example.org   postmaster@example.org   secret-one\n"
    "\n"
    "billing@shop.example  billing@shop.example \"pass with spaces\"  # c\n"
    "  bob@Example.NET\tbob@example.net\t\"quo\\\"te#\\\\\"\n"
    "*               relay@example.net        secret-two\n";

START_TEST(test_good)
{
	struct secrets		*s = load(good);
	const struct secret	*e;

	ck_assert_msg(s != NULL, "errors: %s", errtext);
	ck_assert_str_eq(errtext, "");
	ck_assert_uint_eq(s->n, 4);
	ck_assert_str_eq(s->entries[0].pattern, "*@example.org");
	ck_assert_str_eq(s->entries[0].login, "postmaster@example.org");
	ck_assert_str_eq(s->entries[0].password, "secret-one");
	ck_assert_int_eq(s->entries[0].line, 2);
	ck_assert_str_eq(s->entries[1].password, "pass with spaces");
	ck_assert_str_eq(s->entries[2].password, "quo\"te#\\");
	ck_assert_int_eq(s->entries[3].line, 6);

	e = secrets_match(s, "alice@example.org");
	ck_assert_ptr_eq(e, &s->entries[0]);
	e = secrets_match(s, "alice@EXAMPLE.org");
	ck_assert_ptr_eq(e, &s->entries[0]);
	/* No subdomain or suffix surprises: these fall to "*". */
	ck_assert_ptr_eq(secrets_match(s, "a@sub.example.org"), &s->entries[3]);
	ck_assert_ptr_eq(secrets_match(s, "a@evil-example.org"),
	    &s->entries[3]);
	ck_assert_ptr_eq(secrets_match(s, "billing@shop.example"),
	    &s->entries[1]);
	ck_assert_ptr_eq(secrets_match(s, "Billing@shop.example"),
	    &s->entries[3]);
	ck_assert_ptr_eq(secrets_match(s, "bob@example.NET"), &s->entries[2]);
	/* The null reverse-path (bounces) matches only "*". */
	ck_assert_ptr_eq(secrets_match(s, ""), &s->entries[3]);
	secrets_free(s);
}
END_TEST

START_TEST(test_no_match)
{
	struct secrets	*s = load("*@example.org a@example.org pw\n");

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(secrets_match(s, "x@example.com"));
	ck_assert_ptr_null(secrets_match(s, ""));
	secrets_free(s);
}
END_TEST

START_TEST(test_mode_warning)
{
	struct secrets	*s = load_mode("* a@example.org pw\n", 0644);

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(errtext, "warning: mode 0644 lets group "
	    "or others read it"));
	secrets_free(s);
	s = load_mode("* a@example.org pw\n", 0640);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(errtext, "warning: mode 0640"));
	secrets_free(s);
	s = load_mode("* a@example.org pw\n", 0400);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(errtext, "");
	secrets_free(s);
}
END_TEST

static const struct {
	const char	*line;
	const char	*msg;
} bad[] = {
	{ "*@example.org login", "expected 'sender-pattern login password', "
	    "got 2 words" },
	{ "* login pass word", "expected 'sender-pattern login password', "
	    "got 4 words" },
	{ "example.org login pw", "bad sender pattern 'example.org'" },
	{ "*@ login pw", "bad sender pattern '*@'" },
	{ "a@b@c login pw", "bad sender pattern 'a@b@c'" },
	{ "*@*.example.org login pw", "bad sender pattern" },
	{ "* login \"\"", "empty or too long password" },
	{ "* \"\" pw", "bad login" },
	{ "* login \"unterminated", "unterminated quoted string" },
};

START_TEST(test_errors)
{
	char		 text[512];
	struct secrets	*s;

	snprintf(text, sizeof(text), "* a@example.org pw\n%s\n", bad[_i].line);
	s = load(text);
	ck_assert_msg(s == NULL, "'%s' was accepted", bad[_i].line);
	assert_err(2, bad[_i].msg);
}
END_TEST

START_TEST(test_password_not_printed)
{
	struct secrets	*s;
	char		 text[512], pw[300];

	memset(pw, 'z', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	snprintf(text, sizeof(text), "* a@example.org %s\n", pw);
	s = load(text);
	ck_assert_ptr_null(s);
	assert_err(1, "empty or too long password");
	ck_assert_ptr_null(strstr(errtext, "zzzz"));
}
END_TEST

START_TEST(test_hostile)
{
	struct secrets	*s;
	FILE		*errf;
	size_t		 len;

	free(errtext);
	errtext = NULL;
	errf = open_memstream(&errtext, &len);
	ck_assert_ptr_null(secrets_load("/nonexistent/secrets", errf));
	fclose(errf);
	ck_assert_ptr_nonnull(strstr(errtext, "/nonexistent/secrets: "));
	s = load("* a@example.org p\x01w\n");
	ck_assert_ptr_null(s);
	assert_err(1, "control character in line");
}
END_TEST

START_TEST(test_example)
{
	const char	*file = "conf/upstream.secrets.example";
	struct secrets	*s;
	FILE		*errf;
	size_t		 len;

	if (access(file, R_OK) == -1) {
		fprintf(stderr, "skipped: %s not here\n", file);
		return;
	}
	free(errtext);
	errtext = NULL;
	errf = open_memstream(&errtext, &len);
	s = secrets_load(file, errf);
	fclose(errf);
	ck_assert_msg(s != NULL, "%s", errtext);
	ck_assert_str_eq(secrets_match(s, "billing@example.org")->password,
	    "change me too");
	ck_assert_str_eq(secrets_match(s, "x@example.org")->login,
	    "postmaster@example.org");
	ck_assert_str_eq(secrets_match(s, "")->login, "relay@example.net");
	secrets_free(s);
}
END_TEST

static Suite *
secrets_suite(void)
{
	Suite	*s = suite_create("secrets");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_no_match);
	tcase_add_test(tc, test_mode_warning);
	tcase_add_loop_test(tc, test_errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_password_not_printed);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_example);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(secrets_suite());
}
