/*
 * reqtab.h — requests waiting for their reply from another role: a table
 * from request ID to the caller's state.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_REQTAB_H
#define LIB_REQTAB_H

#include <stddef.h>
#include <stdint.h>

struct reqtab;

/* reqtab_new: an empty table; NULL on allocation failure. */
struct reqtab	*reqtab_new(void);
/* reqtab_free: frees the table and, with FREEFN, each item still in it. */
void		 reqtab_free(struct reqtab *, void (*freefn)(void *));
/* reqtab_add: stores ITEM under a new, never-zero ID; 0 when out of memory. */
uint64_t	 reqtab_add(struct reqtab *, void *item);
/* reqtab_take: removes and returns the item of ID; NULL if there is none. */
void		*reqtab_take(struct reqtab *, uint64_t id);
/* reqtab_count: items waiting. */
size_t		 reqtab_count(const struct reqtab *);

#endif
