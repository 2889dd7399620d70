/* sandbox.c — seccomp filters; placeholder until the filters land. */
#include "smtpd/sandbox.h"

void
sandbox_apply(const char *role)
{
	(void)role;
}
