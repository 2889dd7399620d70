#!/bin/bash
# drain.sh — how fast the relay empties a queue (issue 18 item 5): N
# messages are queued while the relay is paused (submitctl pause relay),
# then it is resumed and the sink's count is polled until it has them all.
# The rate is the relay's own (forwarded/s), not bounded by how fast
# messages are accepted, so it says whether the relay can keep up.
#
#   bench/drain.sh [N]        N messages (2000), 2 KB each
#
# Needs a `make bench` run first (its certificates, users and secrets in
# bench/build/run/) and build/submitd.  Environment: BUILD (build),
# DRAIN_PORT_BASE (25500), DRAIN_SESSIONS ("relay limit sessions", 4),
# DRAIN_SPOOL=disk|tmpfs (disk: under /tmp; tmpfs: under /dev/shm, which
# takes the file system's unlink and fsync times out of the numbers).
# Prints one line: N, seconds, forwarded/s, CPU ms per message of the
# relay role and of every submitd process, upstream connections opened.
# Only loopback is used.
set -eu
cd "$(dirname "$0")/.."
N=${1:-2000}
BUILD=${BUILD:-build}
RUN=bench/build/run
OUT=bench/build
PB=${DRAIN_PORT_BASE:-25500}
P465=$((PB + 65)); PS=$((PB + 66))
[ -f "$RUN/server.pem" ] || { echo "drain: run make bench first" >&2; exit 1; }
case ${DRAIN_SPOOL:-disk} in
tmpfs)	D=$(mktemp -d /dev/shm/submitd-drain.XXXXXX) ;;
*)	D=$(mktemp -d /tmp/submitd-drain.XXXXXX) ;;
esac
SINK= SUBMITD=
cleanup() {
	[ -n "$SUBMITD" ] && kill "$SUBMITD" 2>/dev/null && wait "$SUBMITD" 2>/dev/null
	[ -n "$SINK" ] && kill "$SINK" 2>/dev/null && wait "$SINK" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
mkdir -m 700 "$D/spool"
cat >"$D/submitd.conf" <<EOF
hostname bench.test
queue "$D/spool"
pki localhost cert "$PWD/$RUN/server.pem" key "$PWD/$RUN/server.key"
listen on 127.0.0.1 port $P465 tls pki localhost
users "$PWD/$RUN/users"
control "$D/ctl.sock"
state "$D/state"
limit message-size 20M
limit sessions 5000
limit sessions 5000 per ip
limit connections 10000000 per minute per ip
limit messages 100000000 per hour per user
limit recipients 100000000 per hour per user
relay smtps://localhost:$PS secrets "$PWD/$RUN/secrets"
relay ca "$PWD/$RUN/ca.pem"
relay limit sessions ${DRAIN_SESSIONS:-4}
EOF
wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
		sleep 0.1
	done
	echo "drain: port $1 not listening" >&2
	exit 1
}
"$OUT/sink" --cert "$RUN/server.pem" --key "$RUN/server.key" \
    --tls-port "$PS" --login sink@bench.test --password sinkpass \
    --stats "$D/sink.stats" 2>"$D/sink.log" &
SINK=$!
wait_port "$PS"
"$BUILD/submitd" -d -f "$D/submitd.conf" 2>"$D/submitd.log" &
SUBMITD=$!
wait_port "$P465"
for ((i = 0; i < 100; i++)); do
	"$BUILD/submitctl" -s "$D/ctl.sock" pause relay >/dev/null 2>&1 && break
	sleep 0.1
done
stat_field() {	# KEY
	local k v
	while read -r k v; do
		[ "$k" = "$1" ] && { echo "$v"; return; }
	done <"$D/sink.stats" 2>/dev/null
	echo 0
}
cpu_ticks() {	# PIDS...: utime+stime
	local p f t=0
	for p in "$@"; do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		f=${f##*) }
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo $t
}
LOADGEN_PASSWORD=benchpass "$OUT/loadgen" -H 127.0.0.1 -p "$P465" -m tls \
    -u bench@bench.test --ca "$RUN/ca.pem" --servername localhost \
    -f bench@bench.test -t rcpt@sink.test -c 10 -s 2K -M 100 -n "$N" \
    --timeout 120 --grace 60 >"$D/loadgen.txt" 2>&1
before=$(stat_field messages)
sess0=$(stat_field sessions)
pids=$(ps -e -o pid=,ppid= | awk -v p="$SUBMITD" '$2 == p {print $1}')
relay=
for p in $pids; do
	grep -q 'relay' "/proc/$p/cmdline" 2>/dev/null && relay=$p
done
cpu0=$(cpu_ticks "$SUBMITD" $pids); rcpu0=$(cpu_ticks $relay)
declare -A role0
for p in $pids; do role0[$p]=$(cpu_ticks "$p"); done
sinkcpu0=$(cpu_ticks "$SINK")
t0=$(date +%s%3N)
"$BUILD/submitctl" -s "$D/ctl.sock" resume relay >/dev/null
deadline=$((t0 + 300000))
while [ $(( $(stat_field messages) - before )) -lt "$N" ] &&
    [ "$(date +%s%3N)" -lt $deadline ]; do
	sleep 0.05
done
t1=$(date +%s%3N)
got=$(( $(stat_field messages) - before ))
cpu1=$(cpu_ticks "$SUBMITD" $pids); rcpu1=$(cpu_ticks $relay)
tck=$(getconf CLK_TCK)
roles=
for p in $pids; do
	name=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | sed 's/^submitd: //; s/ .*//')
	roles="$roles $name=$(( ($(cpu_ticks "$p") - ${role0[$p]}) * 1000 / tck ))"
done
roles="$roles sink=$(( ($(cpu_ticks "$SINK") - sinkcpu0) * 1000 / tck ))"
/usr/bin/python3 - "$N" "$got" "$t0" "$t1" "$cpu0" "$cpu1" "$rcpu0" "$rcpu1" \
    "$tck" "$sess0" "$(stat_field sessions)" <<'EOF'
import sys
n, got, t0, t1, c0, c1, r0, r1, tck, s0, s1 = map(int, sys.argv[1:])
s = (t1 - t0) / 1000
print("drain: %d queued, %d forwarded in %.2f s: %.0f forwarded/s; CPU per "
      "message: relay %.3f ms, all submitd %.3f ms; %d upstream connections"
      % (n, got, s, got / s if s else 0, (r1 - r0) * 1000 / tck / max(got, 1),
         (c1 - c0) * 1000 / tck / max(got, 1), s1 - s0))
EOF
echo "drain: CPU ms while draining, per process:$roles; spool ${DRAIN_SPOOL:-disk} ($(stat -f -c %T "$D"))"
