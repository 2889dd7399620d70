/* reqtab.c — request ID to pending state; see reqtab.h. */
#include <stdlib.h>

#include "lib/reqtab.h"

#define REQTAB_BUCKETS	1024	/* power of two */

struct reqtab_node {
	struct reqtab_node	*next;
	uint64_t		 id;
	void			*item;
};

struct reqtab {
	struct reqtab_node	*bucket[REQTAB_BUCKETS];
	uint64_t		 next_id;
	size_t			 count;
};

struct reqtab *
reqtab_new(void)
{
	return calloc(1, sizeof(struct reqtab));
}

void
reqtab_free(struct reqtab *t, void (*freefn)(void *))
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < REQTAB_BUCKETS; i++)
		while (t->bucket[i] != NULL) {
			struct reqtab_node *n = t->bucket[i];

			t->bucket[i] = n->next;
			if (freefn)
				freefn(n->item);
			free(n);
		}
	free(t);
}

uint64_t
reqtab_add(struct reqtab *t, void *item)
{
	struct reqtab_node	*n;

	if ((n = malloc(sizeof(*n))) == NULL)
		return 0;
	if (++t->next_id == 0)
		t->next_id = 1;
	n->id = t->next_id;
	n->item = item;
	n->next = t->bucket[n->id & (REQTAB_BUCKETS - 1)];
	t->bucket[n->id & (REQTAB_BUCKETS - 1)] = n;
	t->count++;
	return n->id;
}

void *
reqtab_take(struct reqtab *t, uint64_t id)
{
	struct reqtab_node	**pp, *n;
	void			*item;

	for (pp = &t->bucket[id & (REQTAB_BUCKETS - 1)]; (n = *pp) != NULL;
	    pp = &n->next)
		if (n->id == id) {
			*pp = n->next;
			item = n->item;
			free(n);
			t->count--;
			return item;
		}
	return NULL;
}

size_t
reqtab_count(const struct reqtab *t)
{
	return t->count;
}
