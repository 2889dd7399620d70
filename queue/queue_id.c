/* queue_id.c — queue IDs; see queue_id.h. */
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "queue/queue.h"
#include "queue/queue_id.h"

#define QUEUE_ID_TIME_DIGITS	13
#define QUEUE_ID_RAND_DIGITS	6

static const char hexdigits[] = "0123456789ABCDEF";

void
queue_id_make(char out[QUEUE_ID_SIZE], uint64_t usec, uint32_t rnd)
{
	int	 i;

	for (i = QUEUE_ID_TIME_DIGITS - 1; i >= 0; i--) {
		out[i] = hexdigits[usec & 0xf];
		usec >>= 4;
	}
	for (i = QUEUE_ID_RAND_DIGITS - 1; i >= 0; i--) {
		out[QUEUE_ID_TIME_DIGITS + i] = hexdigits[rnd & 0xf];
		rnd >>= 4;
	}
	out[QUEUE_ID_LEN] = '\0';
}

void
queue_id_new(char out[QUEUE_ID_SIZE])
{
	static uint64_t	 last;	/* never go back, even if the clock does */
	struct timespec	 ts;
	uint64_t	 usec;
	uint32_t	 rnd;

	clock_gettime(CLOCK_REALTIME, &ts);
	usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if (usec <= last)
		usec = last + 1;
	last = usec;
	randombytes_buf(&rnd, sizeof(rnd));
	queue_id_make(out, usec, rnd);
}

int
queue_id_valid(const char *s)
{
	size_t	 i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (s[i] == '\0' || strchr(hexdigits, s[i]) == NULL)
			return 0;
	return s[QUEUE_ID_LEN] == '\0';
}
