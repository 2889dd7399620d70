/* fuzz_conf.c — the config lexer and parser (conf/): a whole file, as
 * submitd -n reads it.  Errors go to /dev/null. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/conf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[64];
	static FILE	*devnull;
	struct conf	*c;
	FILE		*f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_conf.%d", (int)getpid());
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	c = conf_load(path, devnull);
	conf_free(c);
	unlink(path);
	return 0;
}
