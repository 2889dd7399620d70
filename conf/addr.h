/*
 * addr.h — mail addresses and sender patterns as the users and secrets
 * files write them: "local@domain", "*@domain", and "*" (anything; only
 * the secrets file takes it).  Domains compare case-insensitively, local
 * parts exactly (RFC 5321 2.4).  No subdomain wildcards: "*@example.org"
 * matches neither "a@sub.example.org" nor "a@evil-example.org".
 *
 * conf/: the config and secrets files as data, addresses and networks.
 * Sits on lib/ only: knows nothing of SMTP sessions, DKIM, the queue, the
 * relay or the roles that use what it parsed.
 */
#ifndef CONF_ADDR_H
#define CONF_ADDR_H

#include <stddef.h>

/*
 * addr_domain_valid: 1 when the LEN octets at S are a domain name: dot-
 * separated labels of letters, digits, '-' and '_', each 1..63 octets,
 * 255 in all; else 0.
 */
int	addr_domain_valid(const char *s, size_t len);
/*
 * addr_pattern_valid: 1 when the LEN octets at S are "local@domain" or
 * "*@domain" (local part 1..64 printable octets without blanks, ',', ':'
 * or '@'), or "*" when ALLOW_ANY; else 0.
 */
int	addr_pattern_valid(const char *s, size_t len, int allow_any);
/*
 * addr_pattern_match: 1 when ADDR matches the pattern of PATLEN octets at
 * PAT, else 0.  "*" matches every ADDR, "" (the null reverse-path)
 * included; the others never match "".
 */
int	addr_pattern_match(const char *pat, size_t patlen, const char *addr);

#endif
