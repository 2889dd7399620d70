/* fuzz_secrets.c — the upstream secrets file (conf/secrets.c): a whole
 * file, as the relay loads it; when it loads, matches against what it
 * holds.  Errors go to /dev/null. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/secrets.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[64];
	static FILE	*devnull;
	struct secrets	*s;
	FILE		*f;
	size_t		 i;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_secrets.%d", (int)getpid());
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	s = secrets_load(path, devnull);
	unlink(path);
	if (s == NULL)
		return 0;
	for (i = 0; i < s->n; i++) {
		const struct secret *e = &s->entries[i];

		if (e->pattern == NULL || e->login == NULL ||
		    e->password == NULL)
			abort();
		(void)secrets_match(s, e->pattern);
		(void)secrets_match(s, e->login);
	}
	(void)secrets_match(s, "");
	(void)secrets_match(s, "alice@example.org");
	secrets_free(s);
	return 0;
}
