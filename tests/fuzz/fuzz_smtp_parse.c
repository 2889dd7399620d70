/* fuzz_smtp_parse.c — SMTP command lines: the verb, paths and parameters
 * (proto/smtp_parse.c), as the session calls them. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/submitd.h"
#include "proto/smtp_parse.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*line = fuzz_cstr(data, size);
	char			 verb[16], path[SMTP_PATH_MAX + 1];
	const char		*args, *rest;
	struct smtp_mail_params	 mp;

	if ((args = smtp_cmd_verb(line, verb, sizeof(verb))) != NULL) {
		if (strncasecmp(args, "FROM:", 5) == 0 &&
		    smtp_parse_path(args + 5, 1, path, sizeof(path), &rest) == 0) {
			(void)smtp_parse_mail_params(rest, &mp);
			(void)smtp_addr_domain(path);
		}
		if (strncasecmp(args, "TO:", 3) == 0 &&
		    smtp_parse_path(args + 3, 0, path, sizeof(path), &rest) == 0)
			(void)smtp_parse_rcpt_params(rest);
	}
	/* Every entry point on the raw line too. */
	if (smtp_parse_path(line, 1, path, sizeof(path), &rest) == 0)
		(void)smtp_addr_domain(path);
	(void)smtp_parse_mail_params(line, &mp);
	(void)smtp_parse_rcpt_params(line);
	free(line);
	return 0;
}
