/*
 * conf_util.c — the number words of submitd.conf: counts, sizes ("25M"),
 * durations ("15m") and rate windows ("hour").
 */
#include <stdint.h>
#include <string.h>

#include "conf/conf.h"

int
conf_number_parse(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	 n = 0;
	unsigned	 d;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (n > max)
		return -1;
	*out = n;
	return 0;
}

/*
 * Splits "123X" into the number 123 (at most MAX) and the unit letter X
 * (0 when there is none); -1 on anything else.
 */
static int
number_unit(const char *s, uint64_t max, uint64_t *n, char *unit)
{
	char	 digits[24];
	size_t	 len = strlen(s);

	*unit = 0;
	if (len > 0 && (s[len - 1] < '0' || s[len - 1] > '9')) {
		*unit = s[len - 1];
		len--;
	}
	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, s, len);
	digits[len] = '\0';
	return conf_number_parse(digits, max, n);
}

int
conf_size_parse(const char *s, uint64_t *out)
{
	uint64_t	 n, mult;
	char		 unit;

	if (number_unit(s, UINT64_MAX, &n, &unit) == -1)
		return -1;
	switch (unit) {
	case 0:
		mult = 1;
		break;
	case 'K': case 'k':
		mult = 1024;
		break;
	case 'M': case 'm':
		mult = 1024 * 1024;
		break;
	case 'G': case 'g':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (n > UINT64_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int
conf_duration_parse(const char *s, time_t *out)
{
	uint64_t	 n, mult;
	char		 unit;

	if (number_unit(s, CONF_DURATION_MAX, &n, &unit) == -1)
		return -1;
	switch (unit) {
	case 0:
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (n > CONF_DURATION_MAX / mult)
		return -1;
	*out = (time_t)(n * mult);
	return 0;
}

int
conf_window_parse(const char *s, time_t *out)
{
	static const struct {
		const char	*word;
		time_t		 secs;
	} words[] = {
		{ "second", 1 }, { "minute", 60 }, { "hour", 3600 },
		{ "day", 86400 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i].word) == 0) {
			*out = words[i].secs;
			return 0;
		}
	if (conf_duration_parse(s, out) == -1 || *out == 0)
		return -1;
	return 0;
}
