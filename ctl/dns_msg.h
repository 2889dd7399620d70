/*
 * dns_msg.h — DNS messages (RFC 1035 4) for submitctl audit: one question
 * encoded, an answer decoded.  Only what the audit reads: A, AAAA, CNAME,
 * PTR, MX and TXT records of the answer section.  The decoder takes hostile
 * input: every length is checked against the message, a compression
 * pointer may only point backwards (no loops), names are at most
 * DNS_NAME_MAX octets, at most DNS_RR_MAX records are kept and a TXT
 * record's strings, joined, at most DNS_TXT_MAX octets.
 *
 * ctl/: the control protocol and submitctl.  Knows nothing of the roles,
 * their IPC or their state: the roles answer requests themselves
 * (smtpd/ctl_serve.h).
 */
#ifndef CTL_DNS_MSG_H
#define CTL_DNS_MSG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	255	/* presentation form, without the final dot */
#define DNS_TXT_MAX	8192
#define DNS_RR_MAX	64
#define DNS_MSG_MAX	65535
#define DNS_QUERY_MAX	(12 + DNS_NAME_MAX + 2 + 4 + 11)	/* with EDNS0 */

#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3
#define DNS_RCODE_REFUSED	5

struct dns_rr {
	uint16_t	 type;
	uint32_t	 ttl;
	char		 name[DNS_NAME_MAX + 1];	/* owner, lower case */
	uint8_t		 addr[16];	/* A (4 used), AAAA */
	uint16_t	 pref;		/* MX */
	char		 target[DNS_NAME_MAX + 1];	/* CNAME, PTR, MX */
	char		*txt;		/* TXT strings joined, NUL-terminated;
					   control octets shown as '?' */
};

struct dns_answer {
	int		 rcode;
	int		 truncated;	/* TC: ask again over TCP */
	size_t		 nrr;
	struct dns_rr	*rr;		/* answer section, types above only */
};

/*
 * dns_query_encode: a recursive query (RD) for NAME (presentation form, a
 * final dot optional) and TYPE with id ID and an EDNS0 OPT record asking
 * for 4096-octet UDP answers, into BUF (SIZE octets, DNS_QUERY_MAX is
 * enough).  Returns its length, or -1 when NAME is not a valid name.
 */
int	dns_query_encode(uint16_t id, const char *name, uint16_t type,
	    unsigned char *buf, size_t size);
/*
 * dns_answer_decode: the answer in BUF (LEN octets) to the query with ID
 * for NAME and TYPE.  0 with *OUT filled (free with dns_answer_free), or
 * -1 with a reason in ERR: malformed, not an answer, another id or
 * question.
 */
int	dns_answer_decode(const unsigned char *buf, size_t len, uint16_t id,
	    const char *name, uint16_t type, struct dns_answer *out,
	    char *err, size_t errlen);
void	dns_answer_free(struct dns_answer *);

/*
 * dns_name_decode: the name at *OFF in MSG (LEN octets), compression
 * followed, into OUT (DNS_NAME_MAX + 1 octets) in lower case without the
 * final dot ("" for the root); *OFF moves past it.  0 or -1.
 */
int	dns_name_decode(const unsigned char *msg, size_t len, size_t *off,
	    char *out);
/* dns_name_equal: NAME and OTHER equal, case and a final dot ignored. */
int	dns_name_equal(const char *name, const char *other);
/*
 * dns_ptr_name: the reverse name of SA (AF_INET: "4.3.2.1.in-addr.arpa",
 * AF_INET6: nibbles under ip6.arpa) into BUF (SIZE octets, 80 is plenty);
 * 0 or -1.
 */
int	dns_ptr_name(const struct sockaddr *sa, char *buf, size_t size);
/* dns_type_name: "A", "TXT", ... for a type above, else "TYPE". */
const char *dns_type_name(uint16_t type);

#endif
