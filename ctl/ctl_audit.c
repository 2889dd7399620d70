/*
 * ctl_audit.c — "submitctl audit" (see ctl_audit.h and submitctl(8)):
 * listeners and certificates, the smarthost, users, the allowlist, SPF,
 * DKIM, DMARC, MX and reverse DNS.  Every finding has a check name (the
 * same in text and JSON, for scripts and tests), a subject, what was
 * found and, unless it passed, the fix.
 */
#include <sys/stat.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <tls.h>

#include "auth/users.h"
#include "conf/conf.h"
#include "conf/secrets.h"
#include "ctl/ctl_audit.h"
#include "ctl/dns_client.h"
#include "dkim/dkim.h"

enum level { PASS, WARN, FAIL };
static const char *const level_name[] = { "PASS", "WARN", "FAIL" };

struct audit {
	const struct conf	*conf;
	int			 json;
	int			 nitems;
	int			 count[3];
	struct dns_resolver	 res;
	struct sockaddr_storage	 public_ip;
	int			 has_public_ip;
	int			 ovh;		/* the smarthost is OVH's */
};

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
finding(struct audit *a, enum level lv, const char *check,
    const char *subject, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* One finding: FIX may be NULL (nothing to do). */
static void
finding(struct audit *a, enum level lv, const char *check,
    const char *subject, const char *fix, const char *fmt, ...)
{
	char	 text[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	a->count[lv]++;
	if (a->json) {
		printf("%s\n  {\"level\": \"%s\", \"check\": ",
		    a->nitems ? "," : "", level_name[lv]);
		json_str(check);
		printf(", \"subject\": ");
		json_str(subject);
		printf(", \"finding\": ");
		json_str(text);
		printf(", \"fix\": ");
		json_str(fix ? fix : "");
		printf("}");
	} else {
		printf("%s %s %s: %s", level_name[lv], check, subject, text);
		if (fix != NULL && lv != PASS)
			printf(" -- fix: %s", fix);
		printf("\n");
	}
	a->nitems++;
}

/* --- helpers ----------------------------------------------------------- */

static const char *
sa_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	if (getnameinfo(sa, len, buf, size, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(buf, size, "?");
	return buf;
}

static int
sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* 1 for an address others on the internet can reach: not wildcard,
 * loopback, link-local, private (RFC 1918, RFC 4193) or shared. */
static int
addr_global(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const uint8_t *b = (const uint8_t *)
		    &((const struct sockaddr_in *)ss)->sin_addr;

		return !(b[0] == 0 || b[0] == 127 || b[0] == 10 ||
		    (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		    (b[0] == 192 && b[1] == 168) ||
		    (b[0] == 169 && b[1] == 254) ||
		    (b[0] == 100 && (b[1] & 0xc0) == 64));
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *in6 =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return !(IN6_IS_ADDR_UNSPECIFIED(in6) ||
		    IN6_IS_ADDR_LOOPBACK(in6) || IN6_IS_ADDR_LINKLOCAL(in6) ||
		    (in6->s6_addr[0] & 0xfe) == 0xfc);
	}
	return 0;
}

static int
addr_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    INADDR_ANY;
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* RFC 1918 and RFC 4193 blocks (and CGNAT's 100.64/10). */
static int
cidr_private(const struct conf_cidr *c)
{
	if (c->family == AF_INET)
		return (c->addr[0] == 10 && c->prefixlen >= 8) ||
		    (c->addr[0] == 172 && (c->addr[1] & 0xf0) == 16 &&
		    c->prefixlen >= 12) ||
		    (c->addr[0] == 192 && c->addr[1] == 168 &&
		    c->prefixlen >= 16) ||
		    (c->addr[0] == 100 && (c->addr[1] & 0xc0) == 64 &&
		    c->prefixlen >= 10);
	return (c->addr[0] & 0xfe) == 0xfc && c->prefixlen >= 7;
}

/* 1 when block A contains block B (same family). */
static int
cidr_contains(const struct conf_cidr *a, const struct conf_cidr *b)
{
	unsigned	 i, bits = a->prefixlen;

	if (a->family != b->family || a->prefixlen > b->prefixlen)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (a->addr[i] != b->addr[i])
			return 0;
	if (bits % 8) {
		uint8_t	 m = (uint8_t)(0xff << (8 - bits % 8));

		if ((a->addr[i] & m) != (b->addr[i] & m))
			return 0;
	}
	return 1;
}

/* The TXT records at NAME: -1 (ERR set) when the lookup failed; NXDOMAIN
 * and no data are 0 records. */
static int
txt_lookup(struct audit *a, const char *name, struct dns_answer *ans,
    char *err, size_t errlen)
{
	if (dns_lookup(&a->res, name, DNS_T_TXT, ans, err, errlen) == -1)
		return -1;
	if (ans->rcode != DNS_RCODE_NOERROR &&
	    ans->rcode != DNS_RCODE_NXDOMAIN) {
		snprintf(err, errlen, "%s answered rcode %d for %s TXT",
		    a->res.name, ans->rcode, name);
		dns_answer_free(ans);
		return -1;
	}
	return 0;
}

/* 1 when TXT starts with TAG ("v=spf1") followed by a blank or the end. */
static int
txt_is(const char *txt, const char *tag)
{
	size_t	 n = strlen(tag);

	return strncasecmp(txt, tag, n) == 0 &&
	    (txt[n] == '\0' || txt[n] == ' ' || txt[n] == ';');
}

/* --- listeners and certificates ---------------------------------------- */

static void
audit_pki(struct audit *a, const struct conf_pki *pki)
{
	char		 subj[512], names[512] = "";
	X509		*leaf = NULL, *x;
	EVP_PKEY	*key = NULL;
	FILE		*f;
	struct stat	 st;
	int		 nchain = 0, days = 0, secs = 0, bits;
	GENERAL_NAMES	*san;

	snprintf(subj, sizeof(subj), "pki %s", pki->name);
	if ((f = fopen(pki->cert_file, "r")) == NULL) {
		finding(a, FAIL, "tls.cert", subj, "point the pki statement "
		    "at the certificate chain (leaf first)", "cannot read %s: %s",
		    pki->cert_file, strerror(errno));
		return;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (leaf == NULL)
			leaf = x;
		else
			X509_free(x);
		nchain++;
	}
	fclose(f);
	if (leaf == NULL) {
		finding(a, FAIL, "tls.cert", subj, "put the PEM certificate "
		    "chain there, leaf first", "no PEM certificate in %s",
		    pki->cert_file);
		return;
	}
	san = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; san != NULL && i < sk_GENERAL_NAME_num(san); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);

		if (g->type == GEN_DNS) {
			size_t n = strlen(names);

			snprintf(names + n, sizeof(names) - n, "%s%.*s",
			    n ? "," : "", ASN1_STRING_length(g->d.dNSName),
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		}
	}
	GENERAL_NAMES_free(san);
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) != 1)
		days = 0, secs = -1;
	if (days < 0 || secs < 0)
		finding(a, FAIL, "tls.expiry", subj, "renew the certificate "
		    "and run submitctl reload", "%s expired %d days ago",
		    pki->cert_file, -days);
	else if (days < AUDIT_CERT_WARN_DAYS)
		finding(a, WARN, "tls.expiry", subj, "renew the certificate "
		    "(certbot renew, or your CA) and run submitctl reload",
		    "%s expires in %d days", pki->cert_file, days);
	else
		finding(a, PASS, "tls.expiry", subj, NULL,
		    "%s: %d certificate(s), expires in %d days", pki->cert_file,
		    nchain, days);
	if (X509_check_host(leaf, a->conf->hostname, 0, 0, NULL) == 1)
		finding(a, PASS, "tls.names", subj, NULL, "names %s include "
		    "hostname %s", names, a->conf->hostname);
	else
		finding(a, WARN, "tls.names", subj, "get a certificate whose "
		    "subjectAltName has the hostname clients connect to",
		    "names [%s] do not include hostname %s", names,
		    a->conf->hostname);
	{
		EVP_PKEY	*pub = X509_get0_pubkey(leaf);
		char		 curve[64] = "";
		size_t		 cl;

		bits = pub ? EVP_PKEY_bits(pub) : 0;
		if (pub && EVP_PKEY_base_id(pub) == EVP_PKEY_RSA && bits < 2048)
			finding(a, FAIL, "tls.key", subj, "a new key: RSA 2048+ "
			    "or ECDSA P-256", "RSA key of %d bits", bits);
		else if (pub && EVP_PKEY_base_id(pub) == EVP_PKEY_EC) {
			EVP_PKEY_get_group_name(pub, curve, sizeof(curve), &cl);
			finding(a, PASS, "tls.key", subj, NULL, "ECDSA %s", curve);
		} else
			finding(a, PASS, "tls.key", subj, NULL, "%s key of %d bits",
			    pub && EVP_PKEY_base_id(pub) == EVP_PKEY_RSA ?
			    "RSA" : "public", bits);
	}
	if ((f = fopen(pki->key_file, "r")) == NULL ||
	    (key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		finding(a, FAIL, "tls.keyfile", subj, "point the pki statement "
		    "at the certificate's PEM private key", "cannot read a "
		    "private key from %s%s%s", pki->key_file, f ? "" : ": ",
		    f ? "" : strerror(errno));
	else if (X509_check_private_key(leaf, key) != 1)
		finding(a, FAIL, "tls.keyfile", subj, "use the key the "
		    "certificate was made for", "%s does not match %s",
		    pki->key_file, pki->cert_file);
	else if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		finding(a, FAIL, "tls.keyfile", subj, "chmod 600 the key "
		    "file", "%s is mode %04o: others may read the key",
		    pki->key_file, (unsigned)(st.st_mode & 07777));
	else
		finding(a, PASS, "tls.keyfile", subj, NULL, "%s matches the "
		    "certificate", pki->key_file);
	if (f != NULL)
		fclose(f);
	EVP_PKEY_free(key);
	X509_free(leaf);
}

static void
audit_listeners(struct audit *a)
{
	const struct conf	*c = a->conf;
	char			 subj[128], host[64];
	size_t			 i;

	if (c->nlisten == 0)
		finding(a, FAIL, "listen", "config", "add 'listen on ADDR "
		    "port 587 starttls pki NAME'", "no listener");
	for (i = 0; i < c->nlisten; i++) {
		const struct conf_listen *l = &c->listen[i];
		int port = sa_port(&l->ss), starttls = l->tls == LISTEN_STARTTLS;

		snprintf(subj, sizeof(subj), "listen %s port %d",
		    sa_text((const struct sockaddr *)&l->ss, l->sslen, host,
		    sizeof(host)), port);
		if ((starttls && port == 587) || (!starttls && port == 465))
			finding(a, PASS, "listen.port", subj, NULL, "%s on %d",
			    starttls ? "starttls" : "tls", port);
		else if ((starttls && port == 465) || (!starttls && port == 587))
			finding(a, FAIL, "listen.port", subj, starttls ?
			    "port 465 is for implicit TLS: 'tls' there, or "
			    "starttls on 587" : "port 587 is for STARTTLS: "
			    "'starttls' there, or tls on 465",
			    "%s on port %d: clients will speak the other mode",
			    starttls ? "starttls" : "tls", port);
		else
			finding(a, WARN, "listen.port", subj, "use 587 for "
			    "starttls and 465 for tls (RFC 8314)", "%s on port "
			    "%d, where mail clients do not look",
			    starttls ? "starttls" : "tls", port);
	}
	for (i = 0; i < c->npki; i++)
		audit_pki(a, &c->pki[i]);
	{
		uint32_t	 protos = 0;
		const char	*pl = c->tls_protocols[0] ? c->tls_protocols :
		    CONF_TLS_PROTOCOLS;

		if (tls_config_parse_protocols(&protos, pl) == -1)
			finding(a, FAIL, "tls.versions", "config", "'tls "
			    "protocols \"tlsv1.2,tlsv1.3\"'", "protocols \"%s\" "
			    "do not parse", pl);
		else if (protos & (TLS_PROTOCOL_TLSv1_0 | TLS_PROTOCOL_TLSv1_1))
			finding(a, WARN, "tls.versions", "config", "'tls "
			    "protocols \"tlsv1.2,tlsv1.3\"' (every mail client "
			    "of the last ten years speaks TLS 1.2)", "protocols "
			    "\"%s\" let clients in with TLS 1.0 or 1.1 (RFC "
			    "8996 deprecates them)", pl);
		else
			finding(a, PASS, "tls.versions", "config", NULL,
			    "protocols \"%s\"", pl);
	}
}

/* --- the smarthost ----------------------------------------------------- */

int
ctl_audit_ovh_host(const char *host)
{
	char		 h[SMTP_DOMAIN_MAX + 1];
	size_t		 n = strlen(host), i;
	const char	*p;

	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return 0;
	for (i = 0; i <= n; i++)
		h[i] = (char)tolower((unsigned char)host[i]);
	if (n && h[n - 1] == '.')
		h[--n] = '\0';
	if (strcmp(h, "ssl0.ovh.net") == 0 || strcmp(h, "smtp.mail.ovh.ca") == 0)
		return 1;
	if ((strncmp(h, "pro", 3) == 0 && (p = h + 3)) ||
	    (strncmp(h, "ex", 2) == 0 && (p = h + 2))) {
		const char *d = p;

		while (isdigit((unsigned char)*d))
			d++;
		if (d > p && strcmp(d, ".mail.ovh.net") == 0)
			return 1;
	}
	{
		static const char *const dom[] = { "ovh.net", "ovh.ca",
		    "ovh.com", "ovh.co.uk", "ovh.de", "ovh.es", "ovh.it",
		    "ovh.pl", "ovh.pt", "ovh.ie", "ovh.lt", "ovh.nl", NULL };

		for (i = 0; dom[i]; i++) {
			size_t dl = strlen(dom[i]);

			if (n >= dl && strcmp(h + n - dl, dom[i]) == 0 &&
			    (n == dl || h[n - dl - 1] == '.'))
				return 2;
		}
	}
	return 0;
}

static void
audit_relay(struct audit *a)
{
	const struct conf	*c = a->conf;
	const struct conf_relay	*r = &c->relay;
	char			 subj[SMTP_DOMAIN_MAX + 16];
	int			 port, smtps, ovh;
	struct stat		 st;

	if (!c->has_relay) {
		finding(a, FAIL, "relay", "config", "add 'relay "
		    "smtps://ssl0.ovh.net:465 secrets FILE'", "no relay "
		    "statement: nothing can leave");
		return;
	}
	snprintf(subj, sizeof(subj), "relay %s:%s", r->host, r->port);
	port = atoi(r->port);
	smtps = r->tls == RELAY_SMTPS;
	if ((smtps && port == 465) || (!smtps && port == 587))
		finding(a, PASS, "relay.port", subj, NULL, "%s on %d",
		    smtps ? "implicit TLS (smtps://)" : "STARTTLS (smtp+tls://)",
		    port);
	else if ((smtps && port == 587) || (!smtps && port == 465))
		finding(a, FAIL, "relay.port", subj, "smtps://HOST:465 or "
		    "smtp+tls://HOST:587", "%s to port %d, which speaks %s",
		    smtps ? "implicit TLS (smtps://)" : "STARTTLS (smtp+tls://)",
		    port, smtps ? "STARTTLS" : "implicit TLS");
	else
		finding(a, WARN, "relay.port", subj, "check the smarthost's "
		    "documentation: 465 is implicit TLS, 587 STARTTLS",
		    "port %d is neither 465 nor 587", port);
	ovh = ctl_audit_ovh_host(r->host);
	a->ovh = ovh != 0;
	if (ovh == 1)
		finding(a, PASS, "relay.host", subj, NULL, "a known OVH "
		    "submission host");
	else if (ovh == 2)
		finding(a, WARN, "relay.host", subj, "ssl0.ovh.net (MX Plan), "
		    "proN.mail.ovh.net (Email Pro), exN.mail.ovh.net "
		    "(Exchange), smtp.mail.ovh.ca (Canada)", "%s is under an "
		    "OVH domain but not one of its submission hosts", r->host);
	else
		finding(a, PASS, "relay.host", subj, NULL, "not an OVH host: "
		    "the OVH-specific checks are skipped");

	/* the secrets file */
	if (stat(r->secrets_file, &st) == -1)
		finding(a, FAIL, "relay.secrets", r->secrets_file, "write it: "
		    "'sender-pattern login password' a line, mode 0600",
		    "%s", strerror(errno));
	else {
		char	*errs = NULL;
		size_t	 errlen = 0;
		FILE	*mem = open_memstream(&errs, &errlen);
		struct secrets *s = mem ? secrets_load(r->secrets_file, mem) :
		    NULL;

		if (mem)
			fclose(mem);
		if (st.st_uid != 0)
			finding(a, FAIL, "relay.secrets-owner", r->secrets_file,
			    "chown root: it holds the upstream passwords",
			    "owned by uid %u, not root", (unsigned)st.st_uid);
		if (st.st_mode & 077)
			finding(a, FAIL, "relay.secrets-mode", r->secrets_file,
			    "chmod 600", "mode %04o lets others read the "
			    "upstream passwords", (unsigned)(st.st_mode & 07777));
		if (s == NULL) {
			char *nl = errs ? strchr(errs, '\n') : NULL;

			if (nl)
				*nl = '\0';
			finding(a, FAIL, "relay.secrets", r->secrets_file,
			    "fix the line named", "%s", errs && *errs ? errs :
			    "cannot be read");
		} else
			finding(a, PASS, "relay.secrets", r->secrets_file, NULL,
			    "%zu login(s)", s->n);
		secrets_free(s);
		free(errs);
	}

	/* pacing: OVH locks a mailbox past ~200 messages an hour */
	if (r->msgs_per_login.count == 0 || r->msgs_per_login.window <= 0) {
		if (ovh)
			finding(a, FAIL, "relay.limit", subj, "'relay limit "
			    "messages 190 per hour'", "no 'relay limit "
			    "messages': OVH locks a mailbox for spam past "
			    "about %d messages an hour", AUDIT_OVH_HOURLY);
		else
			finding(a, PASS, "relay.limit", subj, NULL, "no relay "
			    "limit (not an OVH host)");
	} else {
		double hourly = (double)r->msgs_per_login.count * 3600.0 /
		    (double)r->msgs_per_login.window;

		if (ovh && hourly > AUDIT_OVH_HOURLY)
			finding(a, FAIL, "relay.limit", subj, "'relay limit "
			    "messages 190 per hour'", "%.0f messages an hour "
			    "per login: OVH locks a mailbox past about %d",
			    hourly, AUDIT_OVH_HOURLY);
		else if (ovh && hourly > AUDIT_OVH_HOURLY_WARN)
			finding(a, WARN, "relay.limit", subj, "'relay limit "
			    "messages 190 per hour'", "%.0f messages an hour "
			    "per login: too close to OVH's %d", hourly,
			    AUDIT_OVH_HOURLY);
		else
			finding(a, PASS, "relay.limit", subj, NULL, "%.0f "
			    "messages an hour per login", hourly);
	}
}

/* --- users ------------------------------------------------------------- */

/* "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH": 0 with the parameters and the
 * salt's offset, -1 when not Argon2id. */
static int
argon2_params(const char *h, unsigned long *m, unsigned long *t,
    unsigned long *p, size_t *salt, size_t *saltlen)
{
	int		 n = 0;
	const char	*s, *e;

	if (sscanf(h, "$argon2id$v=19$m=%lu,t=%lu,p=%lu$%n", m, t, p, &n) != 3 ||
	    n == 0)
		return -1;
	s = h + n;
	if ((e = strchr(s, '$')) == NULL)
		return -1;
	*salt = (size_t)(s - h);
	*saltlen = (size_t)(e - s);
	return 0;
}

static void
audit_users(struct audit *a)
{
	const struct conf	*c = a->conf;
	const char		*file = c->users_file;
	struct users		*u;
	struct stat		 st;
	char			*errs = NULL;
	size_t			 errlen = 0, i, j;
	FILE			*mem;
	int			 bad = 0;

	if (file == NULL) {
		finding(a, FAIL, "users", "config", "add 'users FILE'",
		    "no users file: nobody can log in");
		return;
	}
	if (stat(file, &st) == -1) {
		finding(a, FAIL, "users", file, "create it with lines from "
		    "submitctl passwd", "%s", strerror(errno));
		return;
	}
	if (st.st_mode & 022)
		finding(a, FAIL, "users.mode", file, "chmod 640 (or 600)",
		    "mode %04o lets others change who may log in",
		    (unsigned)(st.st_mode & 07777));
	else if (st.st_mode & 004)
		finding(a, WARN, "users.mode", file, "chmod 640 (or 600)",
		    "mode %04o lets everyone read the password hashes",
		    (unsigned)(st.st_mode & 07777));
	else
		finding(a, PASS, "users.mode", file, NULL, "mode %04o",
		    (unsigned)(st.st_mode & 07777));
	mem = open_memstream(&errs, &errlen);
	u = mem ? users_load(file, mem) : NULL;
	if (mem)
		fclose(mem);
	if (u == NULL) {
		char *nl = errs ? strchr(errs, '\n') : NULL;

		if (nl)
			*nl = '\0';
		finding(a, FAIL, "users", file, "fix the line named", "%s",
		    errs && *errs ? errs : "cannot be read");
		free(errs);
		return;
	}
	free(errs);
	for (i = 0; i < u->n; i++) {
		const struct user_entry	*e = &u->entries[i];
		unsigned long		 m, t, p;
		size_t			 so, sl;

		if (argon2_params(e->hash, &m, &t, &p, &so, &sl) == -1) {
			finding(a, FAIL, "users.hash", e->name, "a new hash "
			    "from submitctl passwd", "line %d: not an Argon2id "
			    "hash", e->line);
			bad++;
			continue;
		}
		if (m < 65536 || t < 3) {
			finding(a, WARN, "users.hash", e->name, "a new hash "
			    "from submitctl passwd (m=65536,t=3)", "line %d: "
			    "Argon2id m=%lu,t=%lu,p=%lu is weaker than the "
			    "default m=65536,t=3", e->line, m, t, p);
			bad++;
		}
		for (j = 0; j < i; j++) {
			const struct user_entry *o = &u->entries[j];
			unsigned long	 m2, t2, p2;
			size_t		 so2, sl2;

			if (strcmp(o->hash, e->hash) == 0) {
				finding(a, FAIL, "users.shared", e->name,
				    "give each login its own password (a new "
				    "hash from submitctl passwd)", "line %d has "
				    "the same hash as %s (line %d): one "
				    "password for two logins", e->line,
				    o->name, o->line);
				bad++;
			} else if (argon2_params(o->hash, &m2, &t2, &p2, &so2,
			    &sl2) == 0 && sl == sl2 &&
			    memcmp(o->hash + so2, e->hash + so, sl) == 0) {
				finding(a, FAIL, "users.shared", e->name,
				    "a new hash from submitctl passwd (it "
				    "draws a random salt)", "line %d has the "
				    "same salt as %s (line %d)", e->line,
				    o->name, o->line);
				bad++;
			}
		}
	}
	if (!bad)
		finding(a, PASS, "users.hash", file, NULL, "%zu login(s), "
		    "Argon2id at the default cost or more, no two alike", u->n);
	users_free(u);
}

/* --- the allowlist ----------------------------------------------------- */

static void
audit_allow(struct audit *a)
{
	const struct conf	*c = a->conf;
	char			 b1[64], b2[64];
	size_t			 i, j;
	int			 bad = 0, public = 0;

	if (c->nallow == 0) {
		finding(a, WARN, "allow", "config", "'allow from' each network "
		    "your clients come from", "no 'allow from': every address "
		    "may connect and try passwords");
		return;
	}
	for (i = 0; i < c->nlisten; i++)
		if (addr_global(&c->listen[i].ss) ||
		    (addr_wildcard(&c->listen[i].ss) && a->has_public_ip))
			public = 1;
	for (i = 0; i < c->nallow; i++) {
		const struct conf_cidr *e = &c->allow[i];

		conf_cidr_format(e, b1, sizeof(b1));
		if (e->prefixlen == 0) {
			finding(a, WARN, "allow.any", b1, "list the networks "
			    "your clients come from instead", "the allowlist "
			    "lets every %s address in: it does nothing",
			    e->family == AF_INET ? "IPv4" : "IPv6");
			bad++;
		}
		if (public && cidr_private(e)) {
			finding(a, WARN, "allow.private", b1, "keep it only if "
			    "clients reach the listener over a LAN or VPN",
			    "a private range on a public listener");
			bad++;
		}
		for (j = 0; j < i; j++) {
			const struct conf_cidr *o = &c->allow[j];

			conf_cidr_format(o, b2, sizeof(b2));
			if (o->prefixlen == e->prefixlen &&
			    cidr_contains(o, e)) {
				finding(a, WARN, "allow.duplicate", b1, "remove "
				    "one of them", "listed twice");
				bad++;
			} else if (cidr_contains(o, e) || cidr_contains(e, o)) {
				finding(a, WARN, "allow.overlap", b1, "keep the "
				    "larger block only", "overlaps %s", b2);
				bad++;
			}
		}
	}
	if (!bad)
		finding(a, PASS, "allow", "config", NULL, "%zu block(s)",
		    c->nallow);
}

/* --- SPF ---------------------------------------------------------------- */

struct spf_walk {
	int	 lookups;
	int	 depth;
	int	 ovh_included;
	char	 unresolved[SMTP_DOMAIN_MAX + 1];
};

/* Counts the DNS-querying terms of RECORD, following include: and
 * redirect= through DNS (RFC 7208 4.6.4). */
static void
spf_count(struct audit *a, const char *record, struct spf_walk *w)
{
	char	*copy, *tok, *save = NULL;

	if ((copy = strdup(record)) == NULL)
		return;
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char	*t = tok, *target = NULL;

		if (*t == '+' || *t == '-' || *t == '~' || *t == '?')
			t++;
		if (strncasecmp(t, "include:", 8) == 0)
			target = t + 8;
		else if (strncasecmp(t, "redirect=", 9) == 0)
			target = t + 9;
		else if (strcasecmp(t, "a") == 0 || strcasecmp(t, "mx") == 0 ||
		    strncasecmp(t, "a:", 2) == 0 || strncasecmp(t, "a/", 2) == 0 ||
		    strncasecmp(t, "mx:", 3) == 0 ||
		    strncasecmp(t, "mx/", 3) == 0 ||
		    strcasecmp(t, "ptr") == 0 || strncasecmp(t, "ptr:", 4) == 0 ||
		    strncasecmp(t, "exists:", 7) == 0) {
			w->lookups++;
			continue;
		} else
			continue;
		w->lookups++;
		if (dns_name_equal(target, "mx.ovh.com"))
			w->ovh_included = 1;
		if (w->depth >= AUDIT_SPF_LOOKUPS_MAX ||
		    w->lookups > AUDIT_SPF_LOOKUPS_MAX || strchr(target, '%'))
			continue;	/* over already, or a macro */
		{
			struct dns_answer ans;
			char		 err[256];
			size_t		 i;
			const char	*found = NULL;

			if (txt_lookup(a, target, &ans, err, sizeof(err)) == -1) {
				snprintf(w->unresolved, sizeof(w->unresolved),
				    "%s", target);
				continue;
			}
			for (i = 0; i < ans.nrr; i++)
				if (ans.rr[i].type == DNS_T_TXT &&
				    txt_is(ans.rr[i].txt, "v=spf1"))
					found = ans.rr[i].txt;
			if (found == NULL)
				snprintf(w->unresolved, sizeof(w->unresolved),
				    "%s", target);
			else {
				w->depth++;
				spf_count(a, found, w);
				w->depth--;
			}
			dns_answer_free(&ans);
		}
	}
	free(copy);
}

static void
audit_spf(struct audit *a, const char *domain)
{
	struct dns_answer	 ans;
	char			 err[256], fix[256];
	const char		*rec = NULL, *all = NULL;
	size_t			 i, n = 0;
	struct spf_walk		 w;
	char			*copy, *tok, *save = NULL;
	int			 redirect = 0, before = a->count[FAIL] + a->count[WARN];

	snprintf(fix, sizeof(fix), "publish one TXT record at %s: "
	    "\"v=spf1 %s-all\"", domain, a->ovh ? "include:mx.ovh.com " :
	    "a:SMARTHOST ");
	if (txt_lookup(a, domain, &ans, err, sizeof(err)) == -1) {
		finding(a, FAIL, "spf", domain, "check the resolver and the "
		    "domain's name servers", "cannot look it up: %s", err);
		return;
	}
	for (i = 0; i < ans.nrr; i++)
		if (ans.rr[i].type == DNS_T_TXT && txt_is(ans.rr[i].txt,
		    "v=spf1")) {
			rec = ans.rr[i].txt;
			n++;
		}
	if (n == 0) {
		finding(a, FAIL, "spf.missing", domain, fix, "no SPF record: "
		    "receivers cannot tell the smarthost may send for it");
		dns_answer_free(&ans);
		return;
	}
	if (n > 1) {
		finding(a, FAIL, "spf.multiple", domain, "merge them into one "
		    "record", "%zu SPF records: receivers treat that as a "
		    "permanent error (RFC 7208 4.5)", n);
		dns_answer_free(&ans);
		return;
	}
	memset(&w, 0, sizeof(w));
	spf_count(a, rec, &w);
	if ((copy = strdup(rec)) != NULL) {
		for (tok = strtok_r(copy, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			if (strncasecmp(tok, "redirect=", 9) == 0)
				redirect = 1;
			if (strcasecmp(tok, "all") == 0 ||
			    (strchr("+-~?", *tok) && *tok &&
			    strcasecmp(tok + 1, "all") == 0))
				all = rec + (tok - copy);
		}
	}
	if (all != NULL && (*all == '+' || *all == '?' || *all == 'a' ||
	    *all == 'A'))
		finding(a, FAIL, "spf.all", domain, "end it with -all (or "
		    "~all)", "\"%.4s\" lets anyone send as %s", all[0] == 'a' ||
		    all[0] == 'A' ? "all" : all, domain);
	else if (all == NULL && !redirect)
		finding(a, WARN, "spf.all", domain, "end it with -all (or "
		    "~all)", "no 'all' at the end: mail from anywhere is "
		    "neutral");
	if (w.lookups > AUDIT_SPF_LOOKUPS_MAX)
		finding(a, FAIL, "spf.lookups", domain, "flatten includes or "
		    "drop unused ones", "%d DNS-querying terms, over the "
		    "limit of %d (RFC 7208 4.6.4): receivers answer permerror",
		    w.lookups, AUDIT_SPF_LOOKUPS_MAX);
	if (w.unresolved[0])
		finding(a, WARN, "spf.include", domain, "fix or remove the "
		    "include", "include or redirect target %s has no SPF "
		    "record", w.unresolved);
	if (a->ovh && !w.ovh_included)
		finding(a, FAIL, "spf.smarthost", domain, fix, "the record "
		    "does not include:mx.ovh.com: mail relayed through OVH "
		    "fails SPF");
	if (a->count[FAIL] + a->count[WARN] == before)
		finding(a, PASS, "spf", domain, NULL, "\"%s\" (%d DNS "
		    "lookups)", rec, w.lookups);
	free(copy);
	dns_answer_free(&ans);
}

/* --- DKIM --------------------------------------------------------------- */

/* Copies the value of TAG in the tag list TXT, blanks removed, into OUT;
 * 1 when present, 0 when not. */
static int
tag_value(const char *txt, const char *tag, char *out, size_t size)
{
	const char	*p = txt;
	size_t		 tl = strlen(tag), o = 0;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (strncmp(p, tag, tl) == 0) {
			const char *q = p + tl;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=') {
				for (q++; *q && *q != ';'; q++)
					if (*q != ' ' && *q != '\t' &&
					    o + 1 < size)
						out[o++] = *q;
				out[o] = '\0';
				return 1;
			}
		}
		while (*p && *p != ';')
			p++;
	}
	if (size)
		out[0] = '\0';
	return 0;
}

static void
audit_dkim(struct audit *a, const struct conf_dkim *d)
{
	char			 name[DNS_NAME_MAX + 1], err[256];
	char			 fix[DNS_TXT_MAX + 256], want[DNS_TXT_MAX];
	char			 got[DNS_TXT_MAX], k[32], t[64];
	struct dns_answer	 ans;
	struct dkim_key		*key;
	char			*txt;
	const char		*rec = NULL;
	size_t			 i, n = 0;
	int			 bad = 0;

	snprintf(name, sizeof(name), "%s._domainkey.%s", d->selector,
	    d->domain);
	if (strncasecmp(d->selector, "ovh", 3) == 0)
		finding(a, WARN, "dkim.selector", name, "pick a selector "
		    "that does not start with ovh (e.g. s2026r)", "selector "
		    "%s may collide with OVH's own DKIM selectors", d->selector);
	if ((key = dkim_key_load(d->key_file, d->alg, err, sizeof(err))) ==
	    NULL) {
		finding(a, FAIL, "dkim.key", name, "submitctl dkim keygen, "
		    "or point the dkim statement at the key", "%s: %s",
		    d->key_file, err);
		return;
	}
	if (dkim_key_alg(key) == DKIM_ALG_RSA_SHA256 &&
	    dkim_key_bits(key) < 2048) {
		finding(a, FAIL, "dkim.key", name, "submitctl dkim keygen -a "
		    "rsa (2048 bits) under a new selector", "RSA key of %d "
		    "bits (RFC 8301 asks for 2048)", dkim_key_bits(key));
		bad++;
	}
	txt = dkim_key_txt(key);
	tag_value(txt ? txt : "", "p", want, sizeof(want));
	snprintf(fix, sizeof(fix), "publish TXT \"%s\" at %s", txt ? txt :
	    "", name);
	free(txt);
	if (txt_lookup(a, name, &ans, err, sizeof(err)) == -1) {
		finding(a, FAIL, "dkim", name, "check the resolver and the "
		    "domain's name servers", "cannot look it up: %s", err);
		dkim_key_free(key);
		return;
	}
	for (i = 0; i < ans.nrr; i++)
		if (ans.rr[i].type == DNS_T_TXT) {
			rec = ans.rr[i].txt;
			n++;
		}
	if (n == 0)
		finding(a, FAIL, "dkim.missing", name, fix, "no key record: "
		    "receivers cannot check the signatures");
	else if (n > 1)
		finding(a, FAIL, "dkim.multiple", name, "keep one TXT record",
		    "%zu TXT records", n);
	else {
		const char *alg = dkim_key_alg(key) == DKIM_ALG_ED25519_SHA256 ?
		    "ed25519" : "rsa";

		if (!tag_value(rec, "k", k, sizeof(k)))
			snprintf(k, sizeof(k), "rsa");
		tag_value(rec, "p", got, sizeof(got));
		if (got[0] == '\0') {
			finding(a, FAIL, "dkim.revoked", name, fix, "p= is "
			    "empty: the key is revoked");
			bad++;
		} else if (strcmp(got, want) != 0) {
			finding(a, FAIL, "dkim.mismatch", name, fix, "p= is "
			    "not the public half of %s: every signature fails",
			    d->key_file);
			bad++;
		}
		if (strcasecmp(k, alg) != 0) {
			finding(a, FAIL, "dkim.k", name, fix, "k=%s, but the "
			    "key is %s", k, alg);
			bad++;
		}
		if (tag_value(rec, "t", t, sizeof(t)) && strchr(t, 'y')) {
			finding(a, WARN, "dkim.testing", name, "drop t=y once "
			    "signatures verify", "t=y: receivers treat the "
			    "signatures as a test");
			bad++;
		}
		if (!bad)
			finding(a, PASS, "dkim", name, NULL, "k=%s, p= matches "
			    "%s", k, d->key_file);
	}
	dns_answer_free(&ans);
	dkim_key_free(key);
}

/* --- DMARC, MX ----------------------------------------------------------- */

static void
audit_dmarc(struct audit *a, const char *domain)
{
	char			 name[DNS_NAME_MAX + 1], err[256], p[32];
	char			 fix[512];
	struct dns_answer	 ans;
	const char		*rec = NULL;
	size_t			 i, n = 0;

	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	snprintf(fix, sizeof(fix), "publish TXT \"v=DMARC1; p=quarantine; "
	    "rua=mailto:dmarc@%s\" at %s", domain, name);
	if (txt_lookup(a, name, &ans, err, sizeof(err)) == -1) {
		finding(a, FAIL, "dmarc", name, "check the resolver and the "
		    "domain's name servers", "cannot look it up: %s", err);
		return;
	}
	for (i = 0; i < ans.nrr; i++)
		if (ans.rr[i].type == DNS_T_TXT &&
		    txt_is(ans.rr[i].txt, "v=DMARC1")) {
			rec = ans.rr[i].txt;
			n++;
		}
	if (n == 0)
		finding(a, FAIL, "dmarc.missing", name, fix, "no DMARC record");
	else if (n > 1)
		finding(a, FAIL, "dmarc.multiple", name, "keep one record",
		    "%zu DMARC records: receivers ignore them all", n);
	else if (!tag_value(rec, "p", p, sizeof(p)) || p[0] == '\0')
		finding(a, FAIL, "dmarc.policy", name, fix, "no p= tag");
	else if (strcasecmp(p, "none") == 0)
		finding(a, WARN, "dmarc.none", name, "once the reports show "
		    "all your mail passes, p=quarantine then p=reject",
		    "p=none: receivers only report, forged mail is delivered");
	else
		finding(a, PASS, "dmarc", name, NULL, "p=%s", p);
	dns_answer_free(&ans);
}

static void
audit_mx(struct audit *a, const char *domain)
{
	struct dns_answer	 ans;
	char			 err[256];
	size_t			 i, n = 0;

	if (dns_lookup(&a->res, domain, DNS_T_MX, &ans, err, sizeof(err)) ==
	    -1) {
		finding(a, FAIL, "mx", domain, "check the resolver and the "
		    "domain's name servers", "cannot look it up: %s", err);
		return;
	}
	for (i = 0; i < ans.nrr; i++)
		n += ans.rr[i].type == DNS_T_MX;
	if (n == 0)
		finding(a, WARN, "mx.missing", domain, "publish the MX records "
		    "of the mailbox provider (OVH: mx1.mail.ovh.net ...)",
		    "no MX: replies and bounces to its senders cannot come "
		    "back");
	else
		finding(a, PASS, "mx", domain, NULL, "%zu MX record(s)", n);
	dns_answer_free(&ans);
}

/* --- reverse DNS ------------------------------------------------------- */

/* Addresses of NAME (A and AAAA) into OUT (at most MAX); -1 on a lookup
 * failure. */
static int
addrs_of(struct audit *a, const char *name, struct sockaddr_storage *out,
    size_t max, size_t *n, char *err, size_t errlen)
{
	static const uint16_t	 types[] = { DNS_T_A, DNS_T_AAAA };
	struct dns_answer	 ans;
	size_t			 i, t;

	*n = 0;
	for (t = 0; t < 2; t++) {
		if (dns_lookup(&a->res, name, types[t], &ans, err, errlen) == -1)
			return -1;
		for (i = 0; i < ans.nrr && *n < max; i++) {
			struct sockaddr_storage *ss = &out[*n];

			memset(ss, 0, sizeof(*ss));
			if (ans.rr[i].type == DNS_T_A) {
				ss->ss_family = AF_INET;
				memcpy(&((struct sockaddr_in *)ss)->sin_addr,
				    ans.rr[i].addr, 4);
				(*n)++;
			} else if (ans.rr[i].type == DNS_T_AAAA) {
				ss->ss_family = AF_INET6;
				memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr,
				    ans.rr[i].addr, 16);
				(*n)++;
			}
		}
		dns_answer_free(&ans);
	}
	return 0;
}

static int
same_ip(const struct sockaddr_storage *x, const struct sockaddr_storage *y)
{
	if (x->ss_family != y->ss_family)
		return 0;
	if (x->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)x)->sin_addr,
		    &((const struct sockaddr_in *)y)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)x)->sin6_addr,
	    &((const struct sockaddr_in6 *)y)->sin6_addr, 16) == 0;
}

static void
audit_rdns_ip(struct audit *a, const struct sockaddr_storage *ip)
{
	char			 ipt[64], ptr[80], err[256], fix[1024];
	struct dns_answer	 ans;
	struct sockaddr_storage	 back[16];
	size_t			 i, nback;
	const char		*target = NULL;
	int			 confirmed = 0;

	sa_text((const struct sockaddr *)ip, ip->ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6), ipt,
	    sizeof(ipt));
	if (dns_ptr_name((const struct sockaddr *)ip, ptr, sizeof(ptr)) == -1)
		return;
	snprintf(fix, sizeof(fix), "ask the owner of %s (OVH: the control "
	    "panel's IP page) for a PTR to %s, and an A/AAAA record of %s "
	    "back to it", ipt, a->conf->hostname, a->conf->hostname);
	if (dns_lookup(&a->res, ptr, DNS_T_PTR, &ans, err, sizeof(err)) == -1) {
		finding(a, FAIL, "rdns", ipt, "check the resolver", "cannot "
		    "look up %s: %s", ptr, err);
		return;
	}
	for (i = 0; i < ans.nrr; i++)
		if (ans.rr[i].type == DNS_T_PTR)
			target = ans.rr[i].target;
	if (target == NULL) {
		finding(a, FAIL, "rdns.ptr", ipt, fix, "no PTR record");
		dns_answer_free(&ans);
		return;
	}
	if (addrs_of(a, target, back, 16, &nback, err, sizeof(err)) == 0)
		for (i = 0; i < nback; i++)
			confirmed |= same_ip(&back[i], ip);
	if (!confirmed)
		finding(a, FAIL, "rdns.fcrdns", ipt, fix, "PTR %s does not "
		    "resolve back to %s", target, ipt);
	else if (!dns_name_equal(target, a->conf->hostname))
		finding(a, WARN, "rdns.hostname", ipt, fix, "PTR %s is not "
		    "the hostname %s", target, a->conf->hostname);
	else
		finding(a, PASS, "rdns", ipt, NULL, "PTR %s, forward-confirmed",
		    target);
	dns_answer_free(&ans);
}

static void
audit_rdns(struct audit *a)
{
	const struct conf	*c = a->conf;
	struct sockaddr_storage	 addrs[16];
	size_t			 n = 0, i;
	char			 err[256];
	int			 any = 0;

	if (addrs_of(a, c->hostname, addrs, 16, &n, err, sizeof(err)) == -1)
		finding(a, FAIL, "hostname", c->hostname, "check the resolver",
		    "cannot look it up: %s", err);
	else if (n == 0)
		finding(a, FAIL, "hostname", c->hostname, "publish an A (and "
		    "AAAA) record for it", "the hostname does not resolve");
	else if (a->has_public_ip) {
		int found = 0;

		for (i = 0; i < n; i++)
			found |= same_ip(&addrs[i], &a->public_ip);
		if (found)
			finding(a, PASS, "hostname", c->hostname, NULL,
			    "resolves to the public address");
		else
			finding(a, WARN, "hostname", c->hostname, "point its "
			    "A/AAAA record at the server's public address",
			    "does not resolve to the public address");
	} else
		finding(a, PASS, "hostname", c->hostname, NULL, "resolves "
		    "(%zu address(es))", n);
	if (a->has_public_ip) {
		audit_rdns_ip(a, &a->public_ip);
		return;
	}
	for (i = 0; i < c->nlisten; i++)
		if (addr_global(&c->listen[i].ss)) {
			size_t	 j;
			int	 seen = 0;

			for (j = 0; j < i; j++)
				seen |= same_ip(&c->listen[j].ss,
				    &c->listen[i].ss);
			if (!seen)
				audit_rdns_ip(a, &c->listen[i].ss);
			any = 1;
		}
	if (!any)
		finding(a, WARN, "rdns", "listen", "run audit with --public-ip "
		    "ADDR", "no listener on a public address: the reverse "
		    "DNS of the server's public address is not checked");
}

/* --- main ---------------------------------------------------------------- */

static void
audit_usage(void)
{
	fprintf(stderr, "usage: submitctl audit [-f config] [--resolver "
	    "IP[:PORT]] [--public-ip IP] [--json]\n");
}

int
ctl_audit_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "public-ip", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct audit	 a;
	const char	*file = CONF_DEFAULT_FILE, *resolver = NULL;
	const char	*public_ip = NULL;
	char		 err[256];
	struct conf	*conf;
	size_t		 i, j;
	int		 ch;

	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'r':
			resolver = optarg;
			break;
		case 'P':
			public_ip = optarg;
			break;
		case 'j':
			a.json = 1;
			break;
		case 'h':
			audit_usage();
			return 0;
		default:
			audit_usage();
			return 2;
		}
	}
	if (optind != argc) {
		audit_usage();
		return 2;
	}
	if (public_ip != NULL) {
		struct sockaddr_in  *sin = (struct sockaddr_in *)&a.public_ip;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.public_ip;

		if (inet_pton(AF_INET, public_ip, &sin->sin_addr) == 1)
			sin->sin_family = AF_INET;
		else if (inet_pton(AF_INET6, public_ip, &sin6->sin6_addr) == 1)
			sin6->sin6_family = AF_INET6;
		else {
			fprintf(stderr, "submitctl: audit: bad --public-ip "
			    "'%s'\n", public_ip);
			return 2;
		}
		a.has_public_ip = 1;
	}
	if (dns_resolver_init(&a.res, resolver, err, sizeof(err)) == -1) {
		fprintf(stderr, "submitctl: audit: %s\n", err);
		return 2;
	}
	if (a.json) {
		printf("{\"config\": ");
		json_str(file);
		printf(", \"findings\": [");
	}
	if ((conf = conf_load(file, stderr)) == NULL) {
		finding(&a, FAIL, "config", file, "submitd -n -f FILE names "
		    "each error as file:line:", "the config does not load");
		goto out;
	}
	a.conf = conf;
	audit_listeners(&a);
	audit_relay(&a);
	audit_users(&a);
	audit_allow(&a);
	if (conf->ndkim == 0)
		finding(&a, FAIL, "dkim", "config", "submitctl dkim keygen, "
		    "then a 'dkim domain' statement", "no dkim statement: "
		    "mail leaves unsigned");
	for (i = 0; i < conf->ndkim; i++) {
		int seen = 0;

		for (j = 0; j < i; j++)
			seen |= strcasecmp(conf->dkim[j].domain,
			    conf->dkim[i].domain) == 0;
		if (!seen) {
			audit_spf(&a, conf->dkim[i].domain);
			audit_dmarc(&a, conf->dkim[i].domain);
			audit_mx(&a, conf->dkim[i].domain);
		}
		audit_dkim(&a, &conf->dkim[i]);
	}
	audit_rdns(&a);
	conf_free(conf);
out:
	if (a.json)
		printf("\n], \"pass\": %d, \"warn\": %d, \"fail\": %d}\n",
		    a.count[PASS], a.count[WARN], a.count[FAIL]);
	else
		printf("audit: %d pass, %d warn, %d fail\n", a.count[PASS],
		    a.count[WARN], a.count[FAIL]);
	return a.count[FAIL] ? 1 : 0;
}
