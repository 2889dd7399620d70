/* config.c — the files a configuration names and their checks; see config.h. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tls.h>

#include "auth/users.h"
#include "conf/conf.h"
#include "conf/secrets.h"
#include "dkim/dkim.h"
#include "lib/fileset.h"
#include "smtpd/config.h"

static void
files_smtp(const struct conf *conf, config_file_fn fn, void *arg)
{
	size_t	 i;

	for (i = 0; i < conf->npki; i++) {
		fn(arg, conf->pki[i].cert_file);
		fn(arg, conf->pki[i].key_file);
	}
}

static void
files_auth(const struct conf *conf, config_file_fn fn, void *arg)
{
	if (conf->users_file != NULL)
		fn(arg, conf->users_file);
}

static void
files_queue(const struct conf *conf, config_file_fn fn, void *arg)
{
	size_t	 i;

	for (i = 0; i < conf->ndkim; i++)
		fn(arg, conf->dkim[i].key_file);
}

static void
files_relay(const struct conf *conf, config_file_fn fn, void *arg)
{
	if (conf->relay.secrets_file != NULL)
		fn(arg, conf->relay.secrets_file);
	fn(arg, conf->relay.ca_file != NULL ? conf->relay.ca_file :
	    tls_default_ca_cert_file());
}

/* Every role reads the config file itself; then what this table says. */
static const struct {
	const char	*role;
	void		(*files)(const struct conf *, config_file_fn, void *);
} role_files[] = {
	{ "smtp",	files_smtp },
	{ "auth",	files_auth },
	{ "queue",	files_queue },
	{ "relay",	files_relay },
};

void
config_role_files(const struct conf *conf, const char *role,
    config_file_fn fn, void *arg)
{
	size_t	 i;

	fn(arg, conf->file);
	for (i = 0; i < sizeof(role_files) / sizeof(role_files[0]); i++)
		if (strcmp(role_files[i].role, role) == 0)
			role_files[i].files(conf, fn, arg);
}

/* Each line of TEXT to ERRF after "FILE:LINE: WHAT: ". */
static void
prefixed(FILE *errf, const struct conf *conf, int line, const char *what,
    const char *text)
{
	const char	*nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		if (line > 0)
			fprintf(errf, "%s:%d: %s: ", conf->file, line, what);
		else
			fprintf(errf, "%s: %s: ", conf->file, what);
		fprintf(errf, "%.*s\n", nl ? (int)(nl - text) : (int)strlen(text),
		    text);
		if (nl == NULL)
			break;
		text = nl + 1;
	}
}

/* Calls LOAD with a memory stream; its messages to ERRF, prefixed. */
#define CAPTURE(errf, conf, line, what, call, ok) do {			\
	char	*cap_buf = NULL;					\
	size_t	 cap_len = 0;						\
	FILE	*cap = open_memstream(&cap_buf, &cap_len);		\
									\
	if (cap == NULL) {						\
		fprintf(errf, "%s: out of memory\n", (conf)->file);	\
		ok = 0;							\
		break;							\
	}								\
	ok = (call);							\
	fclose(cap);							\
	prefixed(errf, conf, line, what, cap_buf);			\
	free(cap_buf);							\
} while (0)

static char *
when(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm	 tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "?");
	return buf;
}

static const char *
ssl_error(void)
{
	unsigned long	 e = ERR_get_error();

	ERR_clear_error();
	return e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) :
	    "unknown error" : "no PEM data";
}

/* One pki: chain, key, match, expiry; and libtls takes them. */
static int
check_pki(const struct conf *conf, const struct conf_pki *pki, FILE *errf)
{
	char		*cert = NULL, *key = NULL, t[64];
	size_t		 certlen = 0, keylen = 0;
	BIO		*bio = NULL;
	X509		*leaf = NULL, *x;
	EVP_PKEY	*pk = NULL;
	struct tls_config *cfg = NULL;
	int		 bad = 1, n, days, secs;

#define PKIERR(f, ...) do {						\
	fprintf(errf, "%s:%d: pki %s: %s: ", conf->file, pki->line,	\
	    pki->name, f);							\
	fprintf(errf, __VA_ARGS__);					\
	fputc('\n', errf);						\
} while (0)
	if (fileset_read(pki->cert_file, FILESET_FILE_MAX, &cert, &certlen,
	    NULL) == -1) {
		PKIERR(pki->cert_file, "%s", errno == EINVAL ?
		    "not a regular file" : strerror(errno));
		cert = NULL;
		goto out;
	}
	if (fileset_read(pki->key_file, FILESET_FILE_MAX, &key, &keylen,
	    NULL) == -1) {
		PKIERR(pki->key_file, "%s", errno == EINVAL ?
		    "not a regular file" : strerror(errno));
		key = NULL;
		goto out;
	}
	ERR_clear_error();
	if ((bio = BIO_new_mem_buf(cert, (int)certlen)) == NULL)
		goto out;
	for (n = 0; (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL; n++)
		if (leaf == NULL)
			leaf = x;
		else
			X509_free(x);
	ERR_clear_error();
	BIO_free(bio);
	if (n == 0) {
		PKIERR(pki->cert_file, "no PEM certificate in it");
		goto out;
	}
	if ((bio = BIO_new_mem_buf(key, (int)keylen)) == NULL)
		goto out;
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	BIO_free(bio);
	if (pk == NULL) {
		PKIERR(pki->key_file, "not a private key in PEM without a "
		    "passphrase (%s)", ssl_error());
		goto out;
	}
	if (X509_check_private_key(leaf, pk) != 1) {
		ERR_clear_error();
		PKIERR(pki->key_file, "key does not match the certificate %s",
		    pki->cert_file);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		PKIERR(pki->cert_file, "certificate expired on %s",
		    when(X509_get0_notAfter(leaf), t, sizeof(t)));
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
		PKIERR(pki->cert_file, "certificate not valid before %s",
		    when(X509_get0_notBefore(leaf), t, sizeof(t)));
		goto out;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) == 1 &&
	    days < CONFIG_CERT_WARN_DAYS)
		fprintf(errf, "%s:%d: warning: pki %s: %s: certificate expires "
		    "on %s, in %d days: renew it\n", conf->file, pki->line,
		    pki->name, pki->cert_file,
		    when(X509_get0_notAfter(leaf), t, sizeof(t)), days);
	/* What the smtp role will do with them (smtp_server.c). */
	if ((cfg = tls_config_new()) == NULL)
		goto out;
	if (tls_config_set_keypair_mem(cfg, (uint8_t *)cert, certlen,
	    (uint8_t *)key, keylen) == -1) {
		PKIERR(pki->cert_file, "%s", tls_config_error(cfg));
		goto out;
	}
	bad = 0;
out:
#undef PKIERR
	tls_config_free(cfg);
	EVP_PKEY_free(pk);
	X509_free(leaf);
	fileset_buf_free(cert, certlen);
	fileset_buf_free(key, keylen);
	return bad ? -1 : 0;
}

/* "FILE:LINE: " (or "FILE: " for line 0) to ERRF, then the message. */
static void
at_line(FILE *errf, const struct conf *conf, int line)
{
	if (line > 0)
		fprintf(errf, "%s:%d: ", conf->file, line);
	else
		fprintf(errf, "%s: ", conf->file);
}

/*
 * Reads FILE as the role that uses it will (lib/fileset.h), with the
 * rights of whoever runs the check (root, as the daemon starts); on
 * failure "FILE:LINE: WHAT: PATH: reason" and -1.
 */
static int
read_named(const struct conf *conf, int line, const char *what,
    const char *file, char **buf, size_t *len, unsigned *mode, FILE *errf)
{
	if (fileset_read(file, FILESET_FILE_MAX, buf, len, mode) == -1) {
		at_line(errf, conf, line);
		fprintf(errf, "%s: %s: %s\n", what, file, errno == EINVAL ?
		    "not a regular file" : strerror(errno));
		return -1;
	}
	return 0;
}

/* A CA file: readable, with at least one PEM certificate. */
static int
check_ca_file(const struct conf *conf, int line, const char *what,
    const char *file, FILE *errf)
{
	char		*buf;
	size_t		 len;
	BIO		*bio;
	X509		*x;
	int		 ok;

	if (read_named(conf, line, what, file, &buf, &len, NULL, errf) == -1)
		return -1;
	ok = (bio = BIO_new_mem_buf(buf, (int)len)) != NULL &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL;
	if (ok)
		X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	fileset_buf_free(buf, len);
	if (!ok) {
		at_line(errf, conf, line);
		fprintf(errf, "%s: %s: no PEM certificate in it\n", what, file);
		return -1;
	}
	return 0;
}

static int
check_ca(const struct conf *conf, FILE *errf)
{
	return check_ca_file(conf, conf->relay.ca_line, "relay ca",
	    conf->relay.ca_file ? conf->relay.ca_file :
	    tls_default_ca_cert_file(), errf);
}

/*
 * The directory of the unix socket PATH: a role is chrooted there (the
 * filter's, the auth role's for Redis), so it must exist, whether the
 * socket does yet or not (its server may start later).
 */
static int
check_socket_dir(const struct conf *conf, int line, const char *what,
    const char *path, FILE *errf)
{
	char		 dir[PATH_MAX];
	const char	*slash = strrchr(path, '/'), *why;
	struct stat	 st;

	if (slash == NULL)
		return 0;	/* the parser wants an absolute path */
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
	    (int)(slash - path), path);
	if (stat(dir, &st) == -1)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else
		return 0;
	at_line(errf, conf, line);
	fprintf(errf, "%s: socket directory %s: %s\n", what, dir, why);
	return -1;
}

/*
 * state redis: the password file (its first line is the password: not
 * empty; a secret: group and others should not read it), the CA of
 * rediss://, the directory of a unix: socket (the auth role's chroot).
 * The auth role reads them at start, before it drops root.
 */
static int
check_state_redis(const struct conf *conf, FILE *errf)
{
	const struct conf_redis	*r = conf->state_redis;
	char			*buf;
	size_t			 len;
	unsigned		 mode;
	int			 bad = 0;

	if (r->password_file != NULL) {
		if (read_named(conf, r->line, "state redis password-file",
		    r->password_file, &buf, &len, &mode, errf) == -1)
			bad = 1;
		else {
			if (strcspn(buf, "\r\n") == 0) {
				at_line(errf, conf, r->line);
				fprintf(errf, "state redis password-file: %s: "
				    "its first line (the password) is empty\n",
				    r->password_file);
				bad = 1;
			}
			if (mode & (S_IRWXG | S_IRWXO)) {
				at_line(errf, conf, r->line);
				fprintf(errf, "warning: state redis password-file: "
				    "%s: mode %04o lets group or others read it "
				    "(chmod 600)\n", r->password_file, mode);
			}
			fileset_buf_free(buf, len);
		}
	}
	if (r->ca != NULL && check_ca_file(conf, r->line, "state redis ca",
	    r->ca, errf) == -1)
		bad = 1;
	if (r->path != NULL && check_socket_dir(conf, r->line, "state redis",
	    r->path, errf) == -1)
		bad = 1;
	return bad ? -1 : 0;
}

int
config_check(const struct conf *conf, FILE *errf)
{
	struct users	*users = NULL;
	struct secrets	*secrets = NULL;
	struct dkim_key	*k;
	char		 err[512];
	size_t		 i;
	int		 bad = 0, ok;

	for (i = 0; i < conf->npki; i++)
		if (check_pki(conf, &conf->pki[i], errf) == -1)
			bad = 1;
	CAPTURE(errf, conf, conf->users_line, "users",
	    (users = users_load(conf->users_file, cap)) != NULL, ok);
	if (!ok)
		bad = 1;
	users_free(users);
	if (conf->has_relay) {
		CAPTURE(errf, conf, conf->relay.secrets_line, "relay secrets",
		    (secrets = secrets_load(conf->relay.secrets_file, cap)) !=
		    NULL, ok);
		if (!ok)
			bad = 1;
		secrets_free(secrets);
		if (check_ca(conf, errf) == -1)
			bad = 1;
	}
	if (conf->state_redis != NULL && check_state_redis(conf, errf) == -1)
		bad = 1;
	if (conf->filter.enabled && conf->filter.unix_socket &&
	    check_socket_dir(conf, conf->filter.line, "filter",
	    conf->filter.url, errf) == -1)
		bad = 1;
	for (i = 0; i < conf->ndkim; i++) {
		const struct conf_dkim *d = &conf->dkim[i];

		err[0] = '\0';
		if ((k = dkim_key_load(d->key_file, d->alg, err,
		    sizeof(err))) == NULL) {
			fprintf(errf, "%s:%d: dkim domain %s selector %s: %s\n",
			    conf->file, d->line, d->domain, d->selector, err);
			bad = 1;
			continue;
		}
		if (err[0] != '\0')
			fprintf(errf, "%s:%d: warning: dkim domain %s selector "
			    "%s: %s\n", conf->file, d->line, d->domain,
			    d->selector, err);
		dkim_key_free(k);
	}
	return bad ? -1 : 0;
}

static int
differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Whether the absolute paths A and B name files in the same directory. */
static int
same_dir(const char *a, const char *b)
{
	size_t	 la = (size_t)(strrchr(a, '/') - a);

	return la == (size_t)(strrchr(b, '/') - b) && strncmp(a, b, la) == 0;
}

int
config_check_change(const struct conf *old, const struct conf *new,
    FILE *errf)
{
	static const char what[] = "changed: restart submitd for it (a reload "
	    "cannot)";
	int	 bad = 0;

#define CHANGED(field, name) do {					\
	if (differ(old->field, new->field)) {				\
		fprintf(errf, "%s: %s %s\n", new->file, name, what);	\
		bad = 1;						\
	}								\
} while (0)
	CHANGED(user, "user");
	CHANGED(queue_dir, "queue directory");
	CHANGED(state_dir, "state directory");
	CHANGED(control_path, "control socket");
	/*
	 * The filter role runs or not, chrooted where its socket is and with
	 * AF_UNIX sockets allowed or not: those take a restart.  Its timeout,
	 * settings-id, a TCP address or a socket's name in the same directory
	 * reload (the filter role's, the on-error the queue role's).
	 */
	if (old->filter.enabled != new->filter.enabled ||
	    old->filter.unix_socket != new->filter.unix_socket ||
	    (old->filter.enabled && old->filter.unix_socket &&
	    !same_dir(old->filter.url, new->filter.url))) {
		fprintf(errf, "%s: filter %s\n", new->file, what);
		bad = 1;
	}
	if ((old->metrics_line == 0) != (new->metrics_line == 0) ||
	    old->metrics_sslen != new->metrics_sslen ||
	    memcmp(&old->metrics_ss, &new->metrics_ss, old->metrics_sslen) != 0) {
		fprintf(errf, "%s: metrics listen %s\n", new->file, what);
		bad = 1;
	}
	if ((old->state_redis == NULL) != (new->state_redis == NULL) ||
	    (old->state_redis != NULL &&
	    (differ(old->state_redis->url, new->state_redis->url) ||
	    differ(old->state_redis->ca, new->state_redis->ca)))) {
		fprintf(errf, "%s: state %s\n", new->file, what);
		bad = 1;
	}
#undef CHANGED
	return bad ? -1 : 0;
}

int
config_listen_same(const struct conf_listen *a, const struct conf_listen *b)
{
	return a->sslen == b->sslen && memcmp(&a->ss, &b->ss, a->sslen) == 0;
}
