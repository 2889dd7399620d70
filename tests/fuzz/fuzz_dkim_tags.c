/* fuzz_dkim_tags.c — DKIM tag lists (dkim/dkim_tags.c): what a DNS TXT
 * record or a DKIM-Signature field gives the verifier. */
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_taglist	 tl;
	char			 err[256];
	char			*s = fuzz_cstr(data, size);

	if (dkim_tags_parse(s, size, &tl, err, sizeof(err)) == 0) {
		const struct dkim_tag	*t;

		if ((t = dkim_tags_get(&tl, "v")) != NULL)
			(void)dkim_tags_is(t, "DKIM1");
		(void)dkim_tags_get(&tl, "p");
		(void)dkim_tags_get(&tl, "bh");
	} else if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	free(s);
	return 0;
}
