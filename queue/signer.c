/* signer.c — DKIM keys of the config and the signing callback; see signer.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf/conf.h"
#include "dkim/dkim.h"
#include "lib/log.h"
#include "queue/signer.h"

struct signer {
	const struct conf	*conf;
	struct dkim_key		**keys;		/* one per conf->dkim */
	size_t			 nkeys;
};

struct signer *
signer_new(const struct conf *conf)
{
	struct signer	*sg;
	char		 err[256];
	size_t		 i;

	if ((sg = calloc(1, sizeof(*sg))) == NULL ||
	    (sg->keys = calloc(conf->ndkim + 1, sizeof(*sg->keys))) == NULL)
		fatal("signer_new");
	sg->conf = conf;
	for (i = 0; i < conf->ndkim; i++) {
		const struct conf_dkim *d = &conf->dkim[i];

		err[0] = '\0';
		if ((sg->keys[i] = dkim_key_load(d->key_file, d->alg, err,
		    sizeof(err))) == NULL) {
			log_warnx("dkim domain %s selector %s: %s: %s", d->domain,
			    d->selector, d->key_file, err);
			signer_free(sg);
			return NULL;
		}
		sg->nkeys++;
		if (err[0] != '\0')
			log_warnx("dkim domain %s selector %s: %s", d->domain,
			    d->selector, err);
	}
	return sg;
}

void
signer_free(struct signer *sg)
{
	size_t	 i;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->nkeys; i++)
		dkim_key_free(sg->keys[i]);
	free(sg->keys);
	free(sg);
}

int
signer_has_key(void *arg, const char *from_domain)
{
	struct signer	*sg = arg;
	size_t		 i;

	for (i = 0; i < sg->nkeys; i++)
		if (strcasecmp(sg->conf->dkim[i].domain, from_domain) == 0)
			return 1;
	return 0;
}

int
signer_sign(void *arg, const char *from_domain, const char *hdr, size_t hdrlen,
    const struct queue_sign_input *in, char **prefix, size_t *prefixlen)
{
	struct signer	*sg = arg;
	char		*out = NULL;
	size_t		 len = 0, i;
	time_t		 now = time(NULL);

	*prefix = NULL;
	*prefixlen = 0;
	for (i = 0; i < sg->nkeys; i++) {
		const struct conf_dkim *d = &sg->conf->dkim[i];
		char	*field, *n;
		size_t	 flen;

		if (strcasecmp(d->domain, from_domain) != 0)
			continue;
		field = dkim_sign(sg->keys[i], d->domain, d->selector,
		    d->canon_simple, hdr, hdrlen,
		    d->canon_simple ? in->bh_simple : in->bh_relaxed, now);
		if (field == NULL) {
			log_warnx("dkim domain %s selector %s: signing failed",
			    d->domain, d->selector);
			free(out);
			return -1;
		}
		flen = strlen(field);
		if ((n = realloc(out, len + flen + 1)) == NULL) {
			free(field);
			free(out);
			return -1;
		}
		out = n;
		memcpy(out + len, field, flen + 1);
		len += flen;
		free(field);
	}
	if (len == 0)
		log_info("event=dkim-unsigned domain=%s reason=no-key",
		    from_domain[0] ? from_domain : "-");
	*prefix = out;
	*prefixlen = len;
	return 0;
}
