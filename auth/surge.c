/* surge.c — the rule of alert user-surge; see surge.h. */
#include <string.h>

#include "auth/surge.h"

typedef unsigned __int128 u128;

int
surge_check(const struct surge_rule *r, const uint64_t *hist, size_t nhist,
    struct surge_result *out)
{
	struct surge_result	 s;
	u128			 sum = 0, avg;
	size_t			 i;
	int			 surge;

	memset(&s, 0, sizeof(s));
	if (nhist == 0) {
		if (out != NULL)
			*out = s;
		return 0;
	}
	s.current = hist[0];
	for (i = nhist - 1; i >= 1; i--)
		if (hist[i] != 0) {
			s.windows = i;		/* the oldest that counted */
			break;
		}
	for (i = 1; i <= s.windows; i++)
		sum += hist[i];
	s.sum = sum > UINT64_MAX ? UINT64_MAX : (uint64_t)sum;
	if (s.windows != 0) {
		avg = sum * 100 / s.windows;
		s.average_x100 = avg > UINT64_MAX ? UINT64_MAX : (uint64_t)avg;
	}
	/* current > factor * sum / windows, exactly, in integers */
	surge = s.current >= r->min && s.current > 0 && (s.windows == 0 ||
	    (u128)s.current * s.windows > (u128)r->factor * sum);
	if (out != NULL)
		*out = s;
	return surge;
}
