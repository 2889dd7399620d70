/* submitd.c — placeholder main, replaced as the daemon lands. */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "submitd: not built yet\n");
	return 1;
}
