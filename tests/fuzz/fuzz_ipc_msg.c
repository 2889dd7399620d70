/*
 * fuzz_ipc_msg.c — the IPC decoders (smtpd/ipc_msg.c): what a role takes
 * from another role it must not trust (a compromised smtp role, above
 * all).  The first octet picks the decoder, the rest is the payload.  A
 * commit, delivery or result that decodes encodes and decodes again.
 */
#include <stdlib.h>
#include <string.h>

#include "smtpd/ipc_msg.h"
#include "smtpd/smtp_metrics.h"
#include "fuzz.h"

static void
commit(const uint8_t *p, size_t n)
{
	struct envelope		 env, env2;
	struct queue_sign_input	 sign, sign2;
	uint64_t		 grant, grant2;
	void			*out;
	size_t			 outlen;

	if (ipc_commit_decode(p, n, &grant, &env, &sign) != 0)
		return;
	if (ipc_commit_encode(grant, &env, &sign, &out, &outlen) != 0)
		abort();
	if (ipc_commit_decode(out, outlen, &grant2, &env2, &sign2) != 0 ||
	    grant2 != grant || env2.nrcpt != env.nrcpt)
		abort();
	free(out);
	envelope_free(&env);
	envelope_free(&env2);
}

static void
deliver(const uint8_t *p, size_t n)
{
	struct envelope	 env, env2;
	const char	*prefix, *prefix2;
	size_t		 prefixlen, prefixlen2, outlen;
	void		*out;

	if (ipc_deliver_decode(p, n, &env, &prefix, &prefixlen) != 0)
		return;
	if (prefixlen > 0 && (prefix < (const char *)p ||
	    prefix + prefixlen > (const char *)p + n))
		abort();
	if (ipc_deliver_encode(&env, prefix, prefixlen, &out, &outlen) != 0)
		abort();
	if (ipc_deliver_decode(out, outlen, &env2, &prefix2, &prefixlen2) != 0 ||
	    prefixlen2 != prefixlen || env2.nrcpt != env.nrcpt)
		abort();
	free(out);
	envelope_free(&env);
	envelope_free(&env2);
}

static void
result(const uint8_t *p, size_t n)
{
	struct relay_result	 r, r2;
	void			*out;
	size_t			 outlen;

	if (ipc_result_decode(p, n, &r) != 0)
		return;
	if (ipc_result_encode(&r, &out, &outlen) != 0)
		abort();
	if (ipc_result_decode(out, outlen, &r2) != 0 || r2.nrcpt != r.nrcpt)
		abort();
	free(out);
	free(r.rcpt);
	free(r2.rcpt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct ipc_auth_login	 login;
		struct auth_reply	 reply;
		struct ipc_queue_status	 status;
		struct ipc_filter_result filter;
		struct ipc_policy	 policy;
		struct policy_result	 presult;
		struct ipc_relay_paced	 paced;
		struct ipc_grant	 grant;
		struct ipc_pace		 pace;
		struct ipc_quota	 quota;
		struct ipc_user		 user;
		struct ipc_refused	 refused;
		struct ipc_upstream	 upstream;
		struct smtp_metrics	 smtpm;
		uint64_t		 u64;
	} u;
	const uint8_t	*p = data + 1;
	size_t		 n;

	if (size == 0)
		return 0;
	n = size - 1;
	/* Decoders take the payload where it lies: an unaligned copy. */
	switch (data[0] % 19) {
	case 0: (void)ipc_auth_login_decode(p, n, &u.login); break;
	case 1: (void)ipc_auth_result_decode(p, n, &u.reply); break;
	case 2: (void)ipc_queue_status_decode(p, n, &u.status); break;
	case 3: (void)ipc_filter_result_decode(p, n, &u.filter); break;
	case 4: commit(p, n); break;
	case 5: deliver(p, n); break;
	case 6: result(p, n); break;
	case 7: (void)ipc_policy_decode(p, n, &u.policy); break;
	case 8: (void)ipc_policy_result_decode(p, n, &u.presult); break;
	case 9: (void)ipc_upstream_decode(p, n, &u.upstream); break;
	case 10: (void)ipc_relay_paced_decode(p, n, &u.paced); break;
	case 11: (void)ipc_grant_decode(p, n, &u.grant); break;
	case 12: (void)ipc_grant_id_decode(p, n, &u.u64); break;
	case 13: (void)ipc_pace_decode(p, n, &u.pace); break;
	case 14: (void)ipc_quota_decode(p, n, &u.quota); break;
	case 15: (void)ipc_user_decode(p, n, &u.user); break;
	case 16: (void)ipc_smtp_metrics_decode(p, n, &u.smtpm); break;
	case 17: (void)ipc_refused_decode(p, n, &u.refused); break;
	default: (void)ipc_type_name(n > 0 ? p[0] : 0); break;
	}
	return 0;
}
