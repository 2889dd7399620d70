#!/usr/bin/env bash
# peers-start.sh — CUSTOM_START for the side-by-side peers harness (its
# bench.sh, kept outside this repository): starts submitd from this checkout
# as the same kind of relay as OpenSMTPD and Postfix there, relaying to the
# harness's sink, and prints submitd's PID last.
# From the harness: BENCH_DIR SINK_PORT CAFILE CERT KEY.  Optional:
# SUBMITD_REPO (default: this checkout), SUBMITD_PORT_TLS (10466),
# SUBMITD_PORT_STARTTLS (10587).
set -euo pipefail
REPO=${SUBMITD_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TP=${SUBMITD_PORT_TLS:-10466}
SP=${SUBMITD_PORT_STARTTLS:-10587}
D="$BENCH_DIR/submitd"
mkdir -p "$D/spool"
chmod 755 "$BENCH_DIR" "$D"
make -s -C "$REPO" >/dev/null
hash=$(printf 'alice-pass' | "$REPO/build/submitctl" passwd | tail -1)
printf 'alice@example.org:%s:alice@example.org,*@example.net\n' "$hash" >"$D/users"
printf '*  relay@example.org  upstream-secret\n' >"$D/secrets"
chmod 600 "$D/secrets"
cat >"$D/submitd.conf" <<CONF
hostname relay.test
queue "$D/spool" lifetime 1d
pki localhost cert "$CERT" key "$KEY"
listen on 127.0.0.1 port $SP starttls pki localhost
listen on 127.0.0.1 port $TP tls pki localhost
users "$D/users"
state "$D/state"
limit message-size 50M
limit sessions 5000
limit sessions 5000 per ip
limit connections 10000000 per minute per ip
limit messages 100000000 per hour per user
limit recipients 100000000 per hour per user
relay smtps://localhost:$SINK_PORT secrets "$D/secrets"
relay ca "$CAFILE"
CONF
"$REPO/build/submitd" -d -f "$D/submitd.conf" >"$D/submitd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$TP) 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || {
		echo "submitd exited: $(tail -2 "$D/submitd.log")" >&2
		exit 1
	}
	sleep 0.1
done
echo "$pid"
