/* smtp_tls_tickets.c — ticket keys of the listeners; see smtp_tls_tickets.h. */
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

#include <openssl/ssl.h>
#include <sodium.h>
#include <tls.h>

#include "lib/log.h"
#include "smtpd/smtp_tls_tickets.h"

#define TICKET_KEYS	4	/* libtls keeps as many */

struct ticket_key {
	uint32_t	 rev;
	unsigned char	 key[TLS_TICKET_KEY_SIZE];
};

/* Process state, not config state: a new config takes the same keys. */
static struct ticket_key keys[TICKET_KEYS];	/* oldest first */
static size_t		 nkeys;
static uint32_t		 next_rev = 1;
static unsigned char	 session_id[TLS_MAX_SESSION_ID_LENGTH];
static int		 ready;

static void
tickets_new_key(void)
{
	if (nkeys == TICKET_KEYS) {
		sodium_memzero(&keys[0], sizeof(keys[0]));
		memmove(&keys[0], &keys[1], sizeof(keys[0]) * (TICKET_KEYS - 1));
		nkeys--;
	}
	keys[nkeys].rev = next_rev++;
	randombytes_buf(keys[nkeys].key, sizeof(keys[nkeys].key));
	nkeys++;
}

static void
tickets_init(void)
{
	if (ready)
		return;
	randombytes_buf(session_id, sizeof(session_id));
	tickets_new_key();
	ready = 1;
}

/*
 * Debian's libtls (libretls 3.7 over OpenSSL 3) issues no working ticket:
 * its ticket key callback returns 0 after setting up the encryption, the
 * success value of LibreSSL, where OpenSSL takes 0 for "no ticket" and
 * sends an empty one, so that no session ever resumes (issue 13: testssl
 * "tickets no, IDs no").  libtls installs that callback through
 * SSL_CTX_callback_ctrl(); this definition, found before libssl's, wraps
 * it so that an encryption set up answers 1.  The decryption answers
 * (0 unknown key, 1 good, 2 good but renew) mean the same to both and
 * pass unchanged.  Everything else goes to libssl as it came.
 */
typedef int	(*ticket_cb)(SSL *, unsigned char *, unsigned char *, void *,
		    void *, int);
typedef long	(*callback_ctrl_fn)(SSL_CTX *, int, void (*)(void));

static ticket_cb	 libtls_ticket_cb;

static int
tickets_cb_fixed(SSL *ssl, unsigned char *name, unsigned char *iv,
    void *cctx, void *hctx, int enc)
{
	int	 r = libtls_ticket_cb(ssl, name, iv, cctx, hctx, enc);

	return enc == 1 && r == 0 ? 1 : r;
}

long
SSL_CTX_callback_ctrl(SSL_CTX *ctx, int cmd, void (*fp)(void))
{
	static callback_ctrl_fn	 real;

	if (real == NULL &&
	    (real = (callback_ctrl_fn)dlsym(RTLD_NEXT,
	    "SSL_CTX_callback_ctrl")) == NULL)
		return 0;
	if (cmd == SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB && fp != NULL &&
	    fp != (void (*)(void))tickets_cb_fixed) {
		libtls_ticket_cb = (ticket_cb)fp;
		fp = (void (*)(void))tickets_cb_fixed;
	}
	return real(ctx, cmd, fp);
}

int
smtp_tls_tickets_apply(struct tls_config *cfg)
{
	size_t	 i;

	tickets_init();
	if (tls_config_set_session_lifetime(cfg, SMTP_TLS_SESSION_LIFETIME) == -1 ||
	    tls_config_set_session_id(cfg, session_id, sizeof(session_id)) == -1)
		return -1;
	for (i = 0; i < nkeys; i++)
		if (tls_config_add_ticket_key(cfg, keys[i].rev, keys[i].key,
		    sizeof(keys[i].key)) == -1)
			return -1;
	return 0;
}

void
smtp_tls_tickets_rotate(struct tls_config **cfgs, size_t n)
{
	size_t	 i;

	tickets_init();
	tickets_new_key();
	for (i = 0; i < n; i++)
		if (cfgs[i] != NULL && tls_config_add_ticket_key(cfgs[i],
		    keys[nkeys - 1].rev, keys[nkeys - 1].key,
		    sizeof(keys[nkeys - 1].key)) == -1)
			log_warnx("tls: ticket key: %s", tls_config_error(cfgs[i]));
	log_debug("event=tls-ticket-key rev=%u", keys[nkeys - 1].rev);
}
