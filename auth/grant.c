/* grant.c — the table of logins the auth role vouched for; see grant.h. */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/grant.h"

struct gent {
	TAILQ_ENTRY(gent)	 entry;		/* oldest first */
	size_t			 size;		/* of the allocation */
	struct grant		 g;
	/* then the user's and the senders' strings */
};

static TAILQ_HEAD(gent_list, gent) grants = TAILQ_HEAD_INITIALIZER(grants);
static size_t	 ngrants;

static void
gent_free(struct gent *e)
{
	TAILQ_REMOVE(&grants, e, entry);
	sodium_memzero(e, e->size);
	free(e);
	ngrants--;
}

/* Drop the expired grants at the head (they expire in order of making). */
static void
grant_expire(int64_t now_ms)
{
	struct gent	*e;

	while ((e = TAILQ_FIRST(&grants)) != NULL && e->g.expires_ms <= now_ms)
		gent_free(e);
}

struct grant *
grant_add(const struct grant *g)
{
	struct gent	*e;
	const char	*user = g->user ? g->user : "";
	const char	*senders = g->senders ? g->senders : "";
	size_t		 ul = strlen(user) + 1, sl = strlen(senders) + 1;
	char		*p;

	if ((e = calloc(1, sizeof(*e) + ul + sl)) == NULL)
		return NULL;
	e->size = sizeof(*e) + ul + sl;
	e->g = *g;
	p = (char *)(e + 1);
	memcpy(p, user, ul);
	memcpy(p + ul, senders, sl);
	e->g.user = p;
	e->g.senders = p + ul;
	while (e->g.id == 0)
		randombytes_buf(&e->g.id, sizeof(e->g.id));
	if (ngrants >= GRANT_MAX)
		gent_free(TAILQ_FIRST(&grants));
	TAILQ_INSERT_TAIL(&grants, e, entry);
	ngrants++;
	return &e->g;
}

static struct gent *
grant_lookup(uint64_t id)
{
	struct gent	*e;

	if (id == 0)
		return NULL;
	TAILQ_FOREACH_REVERSE(e, &grants, gent_list, entry) {
		if (e->g.id == id)
			return e;
	}
	return NULL;
}

struct grant *
grant_find(uint64_t id, int64_t now_ms)
{
	struct gent	*e;

	grant_expire(now_ms);
	return (e = grant_lookup(id)) != NULL ? &e->g : NULL;
}

void
grant_end(uint64_t id)
{
	struct gent	*e;

	if ((e = grant_lookup(id)) != NULL)
		gent_free(e);
}

void
grant_reserved(const char *user, uint64_t except, int64_t now_ms,
    uint64_t *messages, uint64_t *rcpt, uint64_t *bytes)
{
	struct gent	*e;

	*messages = *rcpt = *bytes = 0;
	grant_expire(now_ms);
	TAILQ_FOREACH(e, &grants, entry) {
		if (e->g.id == except || strcmp(e->g.user, user) != 0)
			continue;
		*messages += e->g.res_messages;
		*rcpt += e->g.res_rcpt;
		*bytes += e->g.res_bytes;
	}
}

size_t
grant_count(void)
{
	return ngrants;
}
