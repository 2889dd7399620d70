/* ctl_dkim.c — stub until the DKIM module lands. */
#include <stdio.h>

#include "smtpd/ctl_dkim.h"

int
ctl_dkim_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "submitctl: dkim: not built yet\n");
	return 1;
}
