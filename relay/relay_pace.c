/*
 * relay_pace.c — per-login sliding-window message limits; see relay_pace.h.
 * Each login keeps the start times of its last COUNT messages in a ring
 * (allocated at its first message): the oldest of them says when the next
 * may start.
 */
#include <stdlib.h>

#include "relay/relay_pace.h"

struct relay_pace_login {
	time_t		*ring;		/* COUNT start times, 0 = unused */
	size_t		 oldest;
};

struct relay_pace {
	uint64_t		 count;
	time_t			 window;
	size_t			 nlogins;
	struct relay_pace_login	*login;
};

struct relay_pace *
relay_pace_new(size_t nlogins, uint64_t count, time_t window)
{
	struct relay_pace	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->count = window > 0 ? count : 0;
	p->window = window;
	p->nlogins = nlogins;
	if (p->count > 0 &&
	    (p->login = calloc(nlogins + 1, sizeof(*p->login))) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
relay_pace_free(struct relay_pace *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	for (i = 0; p->login != NULL && i < p->nlogins; i++)
		free(p->login[i].ring);
	free(p->login);
	free(p);
}

time_t
relay_pace_wait(const struct relay_pace *p, size_t login, time_t now)
{
	const struct relay_pace_login *l;
	time_t			 t;

	if (p == NULL || p->count == 0 || login >= p->nlogins)
		return 0;
	l = &p->login[login];
	if (l->ring == NULL || (t = l->ring[l->oldest]) == 0)
		return 0;
	if (now - t >= p->window)
		return 0;
	return t + p->window - now;
}

int
relay_pace_charge(struct relay_pace *p, size_t login, time_t now)
{
	struct relay_pace_login	*l;

	if (p == NULL || p->count == 0 || login >= p->nlogins)
		return 0;
	l = &p->login[login];
	if (l->ring == NULL &&
	    (l->ring = calloc(p->count, sizeof(*l->ring))) == NULL)
		return -1;
	l->ring[l->oldest] = now > 0 ? now : 1;
	l->oldest = (l->oldest + 1) % p->count;
	return 0;
}

int
relay_pace_carry(struct relay_pace *to, size_t to_login,
    const struct relay_pace *from, size_t from_login, time_t now)
{
	const struct relay_pace_login *l;
	size_t			 i;
	time_t			 t;

	if (from == NULL || from->count == 0 || from_login >= from->nlogins ||
	    (l = &from->login[from_login])->ring == NULL)
		return 0;
	/* Oldest first, so that the ring keeps the newest. */
	for (i = 0; i < from->count; i++) {
		t = l->ring[(l->oldest + i) % from->count];
		if (t != 0 && now - t < from->window &&
		    relay_pace_charge(to, to_login, t) == -1)
			return -1;
	}
	return 0;
}
