/* fuzz_users.c — the users table (auth/users.c): a whole file, as the
 * auth role loads it; when it loads, lookups and sender patterns on what
 * it holds.  Errors go to /dev/null. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/users.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[64];
	static FILE	*devnull;
	struct users	*u;
	FILE		*f;
	size_t		 i;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_users.%d", (int)getpid());
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	u = users_load(path, devnull);
	unlink(path);
	if (u == NULL)
		return 0;
	for (i = 0; i < u->n; i++) {
		const struct user_entry *e = &u->entries[i];

		if (e->name == NULL || e->hash == NULL || e->senders == NULL)
			abort();
		if (users_find(u, e->name) == NULL)
			abort();	/* every entry can be found */
		(void)sender_match(e->senders, e->name);
		(void)sender_match(e->senders, "alice@example.org");
		(void)sender_match(e->senders, "");
	}
	(void)users_find(u, "nobody@example.org");
	users_free(u);
	return 0;
}
