/*
 * smtp_parse.h — pure parsing of what an SMTP client sends: command
 * lines, paths and ESMTP parameters (RFC 5321 4.1.2, RFC 1870, RFC 6152).
 * No I/O, no state: unit-testable on its own.
 *
 * proto/: SMTP and RFC 5322 syntax, without I/O.  Sits on lib/ only: knows
 * nothing of sockets, the config, the queue or the roles.
 */
#ifndef PROTO_SMTP_PARSE_H
#define PROTO_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * smtp_parse_path: parses "<path>" at the start of S (spaces before it
 * skipped), RFC 5321 4.1.2 Reverse-path / Forward-path: a Mailbox
 * (dot-atom or quoted-string local part, domain name or address literal),
 * a source route "@a,@b:" being accepted and dropped.  An empty path "<>"
 * is allowed only when ALLOW_EMPTY.  Writes the mailbox (without the
 * brackets) into OUT (OUTSZ octets) and sets *REST after the '>'.
 * Returns 0, or -1 on bad syntax or a path over 256 octets.
 */
int	smtp_parse_path(const char *s, int allow_empty, char *out, size_t outsz,
	    const char **rest);

/* MAIL FROM parameters we understand (RFC 1870 SIZE, RFC 6152 BODY). */
struct smtp_mail_params {
	uint64_t	 size;		/* SIZE=, 0 if absent */
	int		 body_8bitmime;	/* BODY=8BITMIME */
	int		 smtputf8;	/* SMTPUTF8 (RFC 6531 3.4) */
};

/*
 * smtp_parse_mail_params: parses " KEY[=VALUE]..." after the path.
 * Returns 0, -1 on bad syntax (501 5.5.4), -2 on an unknown parameter
 * (555 5.5.4).
 */
int	smtp_parse_mail_params(const char *s, struct smtp_mail_params *out);
/*
 * smtp_utf8_valid: 1 when S is well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), else 0.
 * smtp_ascii: 1 when S has no octet above 127.
 */
int	smtp_utf8_valid(const char *s);
int	smtp_ascii(const char *s);
/*
 * smtp_domain_alabel: DOMAIN with each label holding UTF-8 (a U-label) as
 * its A-label ("xn--" and Punycode, RFC 3492), ASCII lower-cased, into
 * OUT (OUTSZ octets): what DKIM's d= and key lookup compare (RFC 8616
 * 4.1).  Non-ASCII letters are not case-mapped nor normalized (IDNA2008
 * mapping is the client's).  0, or -1 when not UTF-8, a label grows over
 * 63 octets or OUT is too small.
 */
int	smtp_domain_alabel(const char *domain, char *out, size_t outsz);
/* smtp_parse_rcpt_params: only an empty list is accepted; as above. */
int	smtp_parse_rcpt_params(const char *s);

/*
 * smtp_addr_domain: pointer to the domain part of mailbox ADDR (after the
 * last '@' outside a quoted local part), or NULL if none.
 */
const char *smtp_addr_domain(const char *addr);

/*
 * smtp_cmd_verb: copies the verb of command LINE (up to the first space,
 * upper-cased, at most VERBSZ-1 octets) into VERB and returns a pointer to
 * the arguments (after one space, or "" at the end).  NULL if the verb is
 * too long.
 */
const char *smtp_cmd_verb(const char *line, char *verb, size_t verbsz);

#endif
