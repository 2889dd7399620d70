/* fuzz_ctl_proto.c — the control-socket protocol (ctl/ctl_client.c): a
 * request as the daemon decodes it, a reply as submitctl decodes it.  A
 * request that decodes encodes back to the same octets (it has no
 * second spelling); a reply's text lies inside the buffer. */
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_client.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	 flags;
	int		 argc, status, i;
	char		**argv;
	const char	*text;
	size_t		 textlen, outlen;
	void		*out;

	if (ctl_request_decode(data, size, &flags, &argc, &argv) == 0) {
		if (argc < 1 || argc > CTL_ARGC_MAX || argv[argc] != NULL)
			abort();
		for (i = 0; i < argc; i++)
			if (strlen(argv[i]) > CTL_ARG_MAX)
				abort();
		if (ctl_request_encode(flags, argc, argv, &out, &outlen) != 0)
			abort();
		if (outlen != size || memcmp(out, data, size) != 0)
			abort();
		free(out);
		free(argv);
	}
	if (ctl_reply_decode(data, size, &status, &text, &textlen) == 0) {
		if (text < (const char *)data ||
		    text + textlen > (const char *)data + size)
			abort();
		if (ctl_reply_encode(status, text, textlen, &out, &outlen) != 0)
			abort();
		free(out);
	}
	return 0;
}
