/* fuzz_queue_env.c — the queue's envelope file reader (queue/queue_env.c):
 * what a crash, a full disk or an operator's editor may leave in ID.env.
 * An envelope that parses formats back, and that text parses again to the
 * same text (a fixed point: nothing lost or changed by a rewrite). */
#include <stdlib.h>
#include <string.h>

#include "queue/queue_env.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env	 qe, qe2;
	const char		*why = NULL;
	char			*buf, *buf2;
	size_t			 len, len2;

	if (queue_env_parse((const char *)data, size, NULL, &qe, &why) != 0) {
		if (why == NULL)
			abort();
		queue_env_free(&qe);
		return 0;
	}
	if (queue_env_format(&qe, &buf, &len) != 0)
		abort();
	if (queue_env_parse(buf, len, qe.env.queue_id, &qe2, &why) != 0)
		abort();
	if (queue_env_format(&qe2, &buf2, &len2) != 0)
		abort();
	if (len != len2 || memcmp(buf, buf2, len) != 0)
		abort();
	free(buf);
	free(buf2);
	queue_env_free(&qe);
	queue_env_free(&qe2);
	return 0;
}
