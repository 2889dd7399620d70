/* state_redis_tls.c — TLS to Redis; see state_redis_tls.h. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "auth/state_redis_tls.h"
#include "lib/log.h"

/* An answer due, oldest first. */
struct rcb {
	rtls_reply_fn	 fn;
	void		*priv;
	struct rcb	*next;
};

struct rtls {
	struct bufferevent	*bev;
	redisReader		*reader;
	struct rcb		*head, *tail;
	rtls_down_fn		 down;
	int			 failed;	/* down called */
	int			 in_read;	/* answering: free later */
	int			 dead;		/* rtls_free while in_read */
};

static SSL_CTX	*ctx;

int
rtls_init(const char *cafile)
{
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		log_warnx("auth: state redis: TLS setup failed");
		rtls_fini();
		return -1;
	}
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		log_warnx("auth: state redis: ca %s: %s", cafile,
		    ERR_reason_error_string(ERR_get_error()));
		rtls_fini();
		return -1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return 0;
}

void
rtls_fini(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}

static void
fail(struct rtls *t, const char *why)
{
	if (t->failed)
		return;
	t->failed = 1;
	t->down(why);
}

/* Frees T, then answers every command still due with NULL. */
static void
really_free(struct rtls *t)
{
	struct rcb	*c = t->head, *next;

	bufferevent_setcb(t->bev, NULL, NULL, NULL, NULL);
	bufferevent_free(t->bev);	/* closes the SSL and the socket */
	redisReaderFree(t->reader);
	free(t);
	for (; c != NULL; c = next) {
		next = c->next;
		c->fn(c->priv, NULL);
		free(c);
	}
}

void
rtls_free(struct rtls *t)
{
	if (t == NULL)
		return;
	if (t->in_read)
		t->dead = 1;
	else
		really_free(t);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct rtls	*t = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct rcb	*c;
	char		 buf[16384];
	void		*reply;
	int		 n;

	while ((n = evbuffer_remove(in, buf, sizeof(buf))) > 0)
		if (redisReaderFeed(t->reader, buf, (size_t)n) != REDIS_OK) {
			fail(t, "out of memory");
			return;
		}
	t->in_read = 1;
	while (!t->dead && !t->failed) {
		if (redisReaderGetReply(t->reader, &reply) != REDIS_OK) {
			fail(t, "protocol error");
			break;
		}
		if (reply == NULL)
			break;
		if ((c = t->head) == NULL) {
			freeReplyObject(reply);
			fail(t, "an answer to no command");
			break;
		}
		if ((t->head = c->next) == NULL)
			t->tail = NULL;
		c->fn(c->priv, reply);
		freeReplyObject(reply);
		free(c);
	}
	t->in_read = 0;
	if (t->dead)
		really_free(t);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct rtls	*t = arg;
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long	 e;
	long		 vr;
	char		 why[256];
	int		 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED)
		return;		/* handshake done, certificate good */
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK)
		snprintf(why, sizeof(why), "TLS: certificate verify failed: "
		    "%s", X509_verify_cert_error_string(vr));
	else if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		snprintf(why, sizeof(why), "TLS: ");
		ERR_error_string_n(e, why + 5, sizeof(why) - 5);
	} else if ((what & BEV_EVENT_ERROR) && err != 0)
		snprintf(why, sizeof(why), "%s", strerror(err));
	else
		snprintf(why, sizeof(why), "connection closed");
	fail(t, why);
}

struct rtls *
rtls_connect(struct event_base *base, const char *host, const char *port,
    rtls_down_fn down, const char **why)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	struct rtls		*t;
	socklen_t		 len;
	SSL			*ssl;
	int			 one = 1, fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		len = sizeof(*s6);
	} else {
		*why = "not a numeric address";
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->reader = redisReaderCreate()) == NULL)
		fatal("state redis tls");
	t->down = down;
	/* The certificate must name the address of the URL (IP SAN). */
	if ((ssl = SSL_new(ctx)) == NULL ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) {
		SSL_free(ssl);
		redisReaderFree(t->reader);
		free(t);
		*why = "TLS setup failed";
		return NULL;
	}
	if ((t->bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		redisReaderFree(t->reader);
		free(t);
		*why = "out of memory";
		return NULL;
	}
	bufferevent_setcb(t->bev, on_read, NULL, on_event, t);
	if (bufferevent_enable(t->bev, EV_READ | EV_WRITE) == -1 ||
	    bufferevent_socket_connect(t->bev, (struct sockaddr *)&ss,
	    (int)len) == -1) {
		bufferevent_free(t->bev);
		redisReaderFree(t->reader);
		free(t);
		*why = strerror(errno);
		return NULL;
	}
	/* Small commands one after the other: no Nagle delay. */
	if ((fd = bufferevent_getfd(t->bev)) != -1)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return t;
}

int
rtls_command(struct rtls *t, rtls_reply_fn fn, void *priv, int argc,
    const char **argv, const size_t *argvlen)
{
	struct rcb	*c;
	char		*cmd;
	int		 len;

	if (t->failed || t->dead)
		return -1;
	if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0)
		return -1;
	if (bufferevent_write(t->bev, cmd, (size_t)len) == -1) {
		redisFreeCommand(cmd);
		return -1;
	}
	redisFreeCommand(cmd);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("state redis tls");
	c->fn = fn;
	c->priv = priv;
	if (t->tail != NULL)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
	return 0;
}
