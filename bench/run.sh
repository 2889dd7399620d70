#!/bin/bash
# run.sh — `make bench`: start the sink smarthost and submitd with a
# throwaway CA, users, secrets and config on loopback, run a fixed set of
# scenarios with loadgen, print one table and write
# bench/results/RESULT-<date>.json.  See bench/README.md.
#
# Environment:
#   BUILD               where submitd and submitctl are (../build)
#   BENCH_DURATION      seconds per timed scenario (8)
#   BENCH_SPOOL         disk (bench/build/run/spool, the default) or tmpfs
#                       (a directory under /dev/shm)
#   BENCH_PORT_BASE     ports used: BASE+87 starttls, BASE+65 tls, BASE+66
#                       sink (24500)
#   BENCH_ONLY          space-separated scenario names to run (all)
#   BENCH_BUDGET        seconds the run may take (540): a scenario that
#                       might not end in time is skipped, and says so
#   BENCH_SCRAPE        1: submitd serves metrics on 127.0.0.1:BASE+90 and
#                       each scenario scrapes it once a second while
#                       loadgen runs (curl), as Prometheus would; the
#                       scrapes made and failed go in the result
#
# The *-redis scenarios run with "state redis" against a redis-server of
# their own on 127.0.0.1:BASE+35 (no persistence): the quota and rate
# counters each message charges go to Redis instead of LMDB; redis-server's
# CPU is reported beside submitd's (redis_cpu_ms), not in cpu_ms.
set -u

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$BENCH/build
RUN=$OUT/run
DUR=${BENCH_DURATION:-8}
SPOOL_KIND=${BENCH_SPOOL:-disk}
PB=${BENCH_PORT_BASE:-24500}
P587=$((PB + 87)); P465=$((PB + 65)); PS=$((PB + 66))
DRAIN_MAX=15		# seconds to wait for the relay to empty the queue
CLK_TCK=$(getconf CLK_TCK)
PR=$((PB + 33))		# rspamd's normal worker (the filter scenarios)
PRD=$((PB + 35))	# redis-server (the *-redis scenarios; BASE+36: with TLS)
PM=$((PB + 90))		# the metrics listener (BENCH_SCRAPE=1)
SCRAPE=${BENCH_SCRAPE:-0}
SETTLE_MAX=10		# seconds to wait for a fresh submitd to go idle
IDLE_LOGIN_MAX=150	# seconds for 1000 logins (Argon2id each)
BUDGET=${BENCH_BUDGET:-540}
PASS=benchpass
LG="$OUT/loadgen -H 127.0.0.1 -u bench@bench.test --ca $RUN/ca.pem
    --servername localhost -f bench@bench.test -t rcpt@sink.test
    --grace 10 --timeout 60"
export LOADGEN_PASSWORD=$PASS

SCRAPED= SCRAPE_PID= SINK_PID= SUBMITD_PID= RSPAMD_PID= RSPAMD_DIR= REDIS_PID= REDIS_DIR=
T0=$(date +%s)

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

cleanup() {
	[ -n "$SCRAPE_PID" ] && kill "$SCRAPE_PID" 2>/dev/null
	[ -n "$SUBMITD_PID" ] && kill "$SUBMITD_PID" 2>/dev/null
	stop_rspamd
	stop_redis
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	wait 2>/dev/null
	[ "$SPOOL_KIND" = tmpfs ] && [ -n "${SPOOL:-}" ] && rm -rf "$SPOOL"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$BUILD/submitd" ] && [ -x "$BUILD/submitctl" ] ||
	die "$BUILD/submitd and submitctl are needed: run make first"
[ -x "$OUT/loadgen" ] && [ -x "$OUT/sink" ] || die "run make -C bench first"

for p in $P587 $P465 $PS; do
	(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null &&
	    die "port $p is in use; set BENCH_PORT_BASE"
done

rm -rf "$RUN"
mkdir -p "$RUN" "$BENCH/results" || die "cannot create $RUN"
case $SPOOL_KIND in
disk)	SPOOL=$RUN/spool ;;
tmpfs)	SPOOL=$(mktemp -d /dev/shm/submitd-bench.XXXXXX) ||
	    die "no tmpfs at /dev/shm" ;;
*)	die "BENCH_SPOOL is disk or tmpfs" ;;
esac
mkdir -p "$SPOOL"
SPOOL_FS=$(findmnt -n -o FSTYPE -T "$SPOOL" 2>/dev/null || stat -f -c %T "$SPOOL")

# --- throwaway CA and certificates (ECDSA P-256), SAN localhost ---------
gen_certs() {
	cd "$RUN" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout ca.key -out ca.pem -days 2 \
	    -subj "/CN=submitd bench CA" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
	printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
	    'basicConstraints=CA:FALSE' 'extendedKeyUsage=serverAuth' >ext.cnf &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -out server.pem -days 2 -extfile ext.cnf
}
gen_certs >"$RUN/openssl.log" 2>&1 || die "openssl failed: $RUN/openssl.log"
chmod 600 "$RUN/server.key" "$RUN/ca.key"

HASH=$(printf '%s\n' "$PASS" | "$BUILD/submitctl" passwd) ||
	die "submitctl passwd failed"
printf 'bench@bench.test:%s:*@bench.test\n' "$HASH" >"$RUN/users"
printf '*  sink@bench.test  sinkpass\n' >"$RUN/secrets"
chmod 600 "$RUN/users" "$RUN/secrets"
cat >"$RUN/submitd.conf" <<EOF
hostname bench.test
queue "$SPOOL"
pki localhost cert "$RUN/server.pem" key "$RUN/server.key"
listen on 127.0.0.1 port $P587 starttls pki localhost
listen on 127.0.0.1 port $P465 tls pki localhost
users "$RUN/users"
limit message-size 20M
relay smtps://localhost:$PS secrets "$RUN/secrets"
relay ca "$RUN/ca.pem"
EOF

"$BUILD/submitd" -n -f "$RUN/submitd.conf" >"$RUN/check.log" 2>&1 ||
	die "submitd -n refused the config: $(cat "$RUN/check.log")"

# All the load comes from 127.0.0.1 and one user: lift the per-IP and
# per-user limits, each line only if this submitd's parser knows it.
LIFTED=
for line in 'limit sessions 5000' 'limit sessions 5000 per ip' \
    'limit connections 10000000 per minute per ip' \
    'limit messages 100000000 per hour per user' \
    'limit recipients 100000000 per hour per user'; do
	{ cat "$RUN/submitd.conf"; echo "$line"; } >"$RUN/probe.conf"
	if "$BUILD/submitd" -n -f "$RUN/probe.conf" >/dev/null 2>&1; then
		echo "$line" >>"$RUN/submitd.conf"
		LIFTED="$LIFTED; $line"
	fi
done
rm -f "$RUN/probe.conf"
if [ "$SCRAPE" = 1 ]; then
	command -v curl >/dev/null || die "BENCH_SCRAPE=1 needs curl"
	echo "metrics listen on 127.0.0.1 port $PM" >>"$RUN/submitd.conf"
	"$BUILD/submitd" -n -f "$RUN/submitd.conf" >/dev/null 2>&1 ||
	    die "BENCH_SCRAPE=1: this submitd has no metrics listener"
fi
SUBMITD_CONF=$RUN/submitd.conf

# The same config with one DKIM key for bench.test, rsa or ed25519, for
# the scenarios that sign (empty when submitctl cannot make keys).
dkim_conf() {	# ALG -> prints the config file name
	local alg=$1 key=$RUN/dkim-$1.key conf=$RUN/submitd-$1.conf
	"$BUILD/submitctl" dkim keygen -a "$alg" -d bench.test -s "b$alg" \
	    -o "$key" >"$RUN/dkim-$alg.txt" 2>&1 || return 0
	{ cat "$RUN/submitd.conf"
	  printf 'dkim domain bench.test selector b%s %s key "%s"\n' \
	    "$alg" "$alg" "$key"; } >"$conf"
	"$BUILD/submitd" -n -f "$conf" >>"$RUN/check.log" 2>&1 && echo "$conf"
}
CONF_RSA=$(dkim_conf rsa)
CONF_ED25519=$(dkim_conf ed25519)

# --- start the sink and submitd -----------------------------------------
wait_port() {	# PORT SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

"$OUT/sink" --cert "$RUN/server.pem" --key "$RUN/server.key" \
    --tls-port "$PS" --login sink@bench.test --password sinkpass \
    --stats "$RUN/sink.stats" 2>"$RUN/sink.log" &
SINK_PID=$!
wait_port "$PS" 5 || die "the sink did not start: $(cat "$RUN/sink.log")"

start_submitd_conf() {	# CONF: 1 when it does not listen within 15 s
	"$BUILD/submitd" -d -f "$1" 2>>"$RUN/submitd.log" &
	SUBMITD_PID=$!
	wait_port "$P465" 10 && wait_port "$P587" 5 && return 0
	say "bench: submitd did not listen: $(tail -3 "$RUN/submitd.log")"
	return 1
}

start_submitd() {	# 1 when it does not listen within 15 s
	start_submitd_conf "$SUBMITD_CONF"
}

stop_submitd() {	# SIGTERM, then SIGKILL after 10 s
	local i
	[ -n "$SUBMITD_PID" ] || return 0
	kill "$SUBMITD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SUBMITD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SUBMITD_PID" 2>/dev/null; then
		say "   (submitd did not stop on SIGTERM in 10 s: SIGKILL)"
		kill -KILL "$SUBMITD_PID" 2>/dev/null
	fi
	wait "$SUBMITD_PID" 2>/dev/null
	SUBMITD_PID=
}

# Each scenario starts on a fresh daemon, so that work left over from the
# one before (logins still being verified, a queue still draining) does not
# count against it.  The spool is kept: what is queued is relayed later.
fresh_submitd() {
	stop_submitd
	start_submitd || return 1
	settle
}

start_submitd || exit 1

# --- helpers --------------------------------------------------------------
submitd_pids() {	# the daemon and its descendants
	local table p c queue=("$SUBMITD_PID")
	table=$(ps -e -o pid=,ppid=)
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		[ -d "/proc/$p" ] || continue
		echo "$p"
		for c in $(echo "$table" | awk -v pp="$p" '$2 == pp { print $1 }'); do
			queue+=("$c")
		done
	done
}

cpu_ticks() {	# utime + stime of all submitd processes (or of PIDs), ticks
	local p t=0 f
	for p in ${1:-$(submitd_pids)}; do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		f=${f##*) }	# fields after "(comm) "
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo $t
}

cpu_roles() {	# "COMM TICKS" per submitd process (COMM without spaces)
	local p f c
	for p in $(submitd_pids); do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		c=$(tr -d ' "\\' <"/proc/$p/comm" 2>/dev/null)
		f=${f##*) }
		set -- $f
		echo "$c $((${12} + ${13}))"
	done
}

cpu_roles_json() {	# BEFORE AFTER (cpu_roles outputs) -> {"COMM":ms,...}
	awk -v hz="$CLK_TCK" 'NR == FNR { b[$1] += $2; next } { a[$1] += $2 }
	    END { printf "{"; s = ""; for (k in a) { printf "%s\"%s\":%d", s, k,
	    (a[k] - b[k]) * 1000 / hz; s = "," } printf "}" }' "$1" "$2"
}

redis_commands() {	# commands submitd sent (EVALSHA, EVAL, DEL: round trips)
	redis-cli -p "$PRD" info commandstats 2>/dev/null | awk -F'[:=,]' '
	    /^cmdstat_(evalsha|eval|del):/ { n += $3 } END { print n + 0 }'
}

settle() {	# wait (at most SETTLE_MAX s) until submitd uses no CPU for 0.5 s
	local i a b
	a=$(cpu_ticks)
	for ((i = 0; i < SETTLE_MAX * 2; i++)); do
		sleep 0.5
		b=$(cpu_ticks)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	say "   (submitd still busy after ${SETTLE_MAX} s)"
}

kb_field() {	# PID FIELD -> kB value
	local k v rest
	while read -r k v rest; do
		[ "$k" = "$2:" ] && { echo "$v"; return; }
	done <"/proc/$1/status" 2>/dev/null
	echo 0
}

mem_reset() {	# start a new peak (VmHWM) for every submitd process
	local p
	for p in $(submitd_pids); do
		echo 5 >"/proc/$p/clear_refs" 2>/dev/null
	done
}

mem_json() {	# {"PID":{"comm":..,"hwm_kb":..,"rss_kb":..},...}
	local p sep=
	printf '{'
	for p in $(submitd_pids); do
		printf '%s"%s":{"comm":"%s","hwm_kb":%s,"rss_kb":%s}' "$sep" \
		    "$p" "$(tr -d '"\\' </proc/$p/comm)" \
		    "$(kb_field "$p" VmHWM)" "$(kb_field "$p" VmRSS)"
		sep=,
	done
	printf '}'
}

roles_rss() {	# "COMM RSS_KB" per submitd process (COMM without spaces)
	local p
	for p in $(submitd_pids); do
		echo "$(tr -d ' "\\' <"/proc/$p/comm" 2>/dev/null) $(kb_field "$p" VmRSS)"
	done
}

rss_total() {
	local p t=0
	for p in $(submitd_pids); do t=$((t + $(kb_field "$p" VmRSS))); done
	echo $t
}

sink_count() {
	local k v
	while read -r k v; do
		[ "$k" = messages ] && { echo "$v"; return; }
	done <"$RUN/sink.stats" 2>/dev/null
	echo 0
}

now_ms() { date +%s%3N; }

json_get() {	# FILE KEY (top-level number)
	/usr/bin/python3 -c 'import json,sys
print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$1" "$2" 2>/dev/null ||
	    echo 0
}

want() {	# NAME SECONDS: selected, and SECONDS (its worst case) left?
	if [ -n "${BENCH_ONLY:-}" ]; then
		case " $BENCH_ONLY " in *" $1 "*) ;; *) return 1 ;; esac
	fi
	if [ $(( $(date +%s) - T0 + $2 )) -gt "$BUDGET" ]; then
		say "== $1: skipped, it might not end within the ${BUDGET} s budget"
		printf '{"scenario":"%s","error":"skipped: might not end within the %s s budget"}\n' \
		    "$1" "$BUDGET" >"$RUN/e2e-$1.json"
		return 1
	fi
	return 0
}

# BENCH_SCRAPE=1: a GET of the metrics once a second until killed; FILE
# gets "OK FAILED" after each.
scrape_start() {	# FILE
	[ "$SCRAPE" = 1 ] || return 0
	(ok=0 failed=0
	 while :; do
		if curl -sf -o /dev/null --max-time 5 \
		    "http://127.0.0.1:$PM/metrics"; then ok=$((ok + 1))
		else failed=$((failed + 1)); fi
		echo "$ok $failed" >"$1"
		sleep 1
	 done) &
	SCRAPE_PID=$!
}
scrape_stop() {	# FILE -> SCRAPED='"scrapes":N,"scrapes_failed":N,' or ''
	SCRAPED=
	[ -n "$SCRAPE_PID" ] || return 0
	kill "$SCRAPE_PID" 2>/dev/null
	wait "$SCRAPE_PID" 2>/dev/null
	SCRAPE_PID=
	set -- $(cat "$1" 2>/dev/null || echo 0 0)
	SCRAPED=$(printf '"scrapes":%s,"scrapes_failed":%s,' "$1" "$2")
}

# scenario NAME PORT MODE CONC SIZE PER_CONN [extra loadgen args]
scenario() {
	local name=$1 port=$2 mode=$3 conc=$4 size=$5 per=$6 ok before t0 t1 \
	    got delivered backlog alive unsigned0 cpu0 rcpu0=0 rcmd0=0
	shift 6
	want "$name" $((DUR + 40)) || return 0
	if ! fresh_submitd; then
		printf '{"scenario":"%s","error":"submitd did not start"}\n' \
		    "$name" >"$RUN/e2e-$name.json"
		return 0
	fi
	say "== $name: c=$conc size=$size per-conn=$per $*"
	mem_reset
	before=$(sink_count)
	unsigned0=$(grep -c 'event=dkim-unsigned' "$RUN/submitd.log")
	cpu0=$(cpu_ticks)
	[ -n "$REDIS_PID" ] && rcpu0=$(cpu_ticks "$REDIS_PID") &&
	    rcmd0=$(redis_commands)
	cpu_roles >"$RUN/cpu0-$name.txt"
	t0=$(now_ms)
	rm -f "$RUN/scrape-$name.txt"
	scrape_start "$RUN/scrape-$name.txt"
	$LG -p "$port" -m "$mode" -c "$conc" -s "$size" -M "$per" \
	    --label "$name" --json "$RUN/lg-$name.json" "$@" \
	    >"$RUN/lg-$name.txt" 2>&1
	scrape_stop "$RUN/scrape-$name.txt"
	[ -n "$SCRAPED" ] && say "   metrics: $SCRAPED"
	sed 's/^/   /' "$RUN/lg-$name.txt" >&2
	alive=1
	kill -0 "$SUBMITD_PID" 2>/dev/null || { alive=0; say "   submitd DIED"; }
	ok=$(json_get "$RUN/lg-$name.json" messages_ok)
	# end to end: wait until the sink has every accepted message
	t1=$(now_ms)
	got=$(( $(sink_count) - before ))
	while [ "$alive" = 1 ] && [ "$got" -lt "$ok" ] && [ $(( $(now_ms) - t1 )) -lt $((DRAIN_MAX * 1000)) ]; do
		sleep 0.05
		got=$(( $(sink_count) - before ))
	done
	delivered=$(now_ms)
	backlog=$((ok - got)); [ $backlog -lt 0 ] && backlog=0
	printf '{"scenario":"%s","accepted":%s,"delivered":%s,"backlog":%s,' \
	    "$name" "$ok" "$got" "$backlog" >"$RUN/e2e-$name.json"
	printf '"submitd_alive":%s,"config":"%s","dkim_unsigned":%s,' "$alive" \
	    "$(basename "$SUBMITD_CONF")" $(( $(grep -c 'event=dkim-unsigned' \
	    "$RUN/submitd.log") - unsigned0 )) >>"$RUN/e2e-$name.json"
	# CPU of every submitd process (the filter role too, not rspamd)
	printf '"cpu_ms":%s,' $(( ($(cpu_ticks) - cpu0) * 1000 / CLK_TCK )) \
	    >>"$RUN/e2e-$name.json"
	cpu_roles >"$RUN/cpu1-$name.txt"
	printf '"cpu_ms_by_process":%s,' "$(cpu_roles_json "$RUN/cpu0-$name.txt" \
	    "$RUN/cpu1-$name.txt")" >>"$RUN/e2e-$name.json"
	[ -n "$REDIS_PID" ] && printf '"redis_cpu_ms":%s,"redis_commands":%s,' \
	    $(( ($(cpu_ticks "$REDIS_PID") - rcpu0) * 1000 / CLK_TCK )) \
	    $(( $(redis_commands) - rcmd0 )) >>"$RUN/e2e-$name.json"
	printf '%s"e2e_seconds":%s,"loadgen_seconds":%s,"memory":%s}\n' \
	    "$SCRAPED" \
	    "$(awk "BEGIN { printf \"%.3f\", ($delivered - $t0) / 1000 }")" \
	    "$(awk "BEGIN { printf \"%.3f\", ($t1 - $t0) / 1000 }")" \
	    "$(mem_json)" >>"$RUN/e2e-$name.json"
	say "   sink received $got of $ok in $(( (delivered - t0) )) ms" \
	    "(backlog $backlog); submitd RSS now $(rss_total) kB"
}

# idle NAME CONC: bytes of submitd memory per idle logged-in TLS session
idle() {
	local name=$1 conc=$2 before after ready lgpid i roles
	want "$name" $((IDLE_LOGIN_MAX + 30)) || return 0
	fresh_submitd || return 0
	say "== $name: $conc idle TLS sessions, logged in"
	# One login first, so that the login cache is warm: the sessions are
	# measured, not $conc Argon2id verifications at once.
	rm -f "$RUN/idle.ready"
	$LG -p "$P465" -m tls -c 1 -I 1 --timeout "$IDLE_LOGIN_MAX" \
	    --ready-file "$RUN/idle.ready" >"$RUN/lg-$name-warm.txt" 2>&1
	settle
	roles_rss >"$RUN/rss0-$name.txt"
	before=$(rss_total)
	rm -f "$RUN/idle.ready"
	# hold up to 300 s; it is told to QUIT (SIGTERM) once measured
	$LG -p "$P465" -m tls -c "$conc" -I 300 --timeout "$IDLE_LOGIN_MAX" \
	    --ready-file "$RUN/idle.ready" --label "$name" \
	    --json "$RUN/lg-$name.json" >"$RUN/lg-$name.txt" 2>&1 &
	lgpid=$!
	for ((i = 0; i < (IDLE_LOGIN_MAX + 10) * 10; i++)); do
		[ -s "$RUN/idle.ready" ] && break
		kill -0 $lgpid 2>/dev/null || break
		sleep 0.1
	done
	settle		# logins verified, nothing left to do but hold
	after=$(rss_total)
	roles_rss >"$RUN/rss1-$name.txt"
	ready=$(cat "$RUN/idle.ready" 2>/dev/null || echo 0)
	[ -n "$ready" ] || ready=0
	printf '{"scenario":"%s","sessions":%s,"requested":%s,' \
	    "$name" "$ready" "$conc" >"$RUN/idle-$name.json"
	printf '"rss_before_kb":%s,"rss_idle_kb":%s,"bytes_per_session":%s,' \
	    "$before" "$after" \
	    "$([ "$ready" -gt 0 ] && echo $(( (after - before) * 1024 / ready )) || echo null)" \
	    >>"$RUN/idle-$name.json"
	# the same per process, by its role (the comm "submitd:smtp" etc.)
	roles=$(awk -v n="$ready" '
	    NR == FNR { b[$1] += $2; next } { a[$1] += $2 } END { printf "{";
	    s = ""; for (k in a) { v = (n > 0) ? int((a[k] - b[k]) * 1024 / n) : "null"
	    printf "%s\"%s\":%s", s, k, v; s = "," } printf "}" }' \
	    "$RUN/rss0-$name.txt" "$RUN/rss1-$name.txt")
	printf '"bytes_per_session_by_role":%s,' "$roles" >>"$RUN/idle-$name.json"
	printf '"memory":%s}\n' "$(mem_json)" >>"$RUN/idle-$name.json"
	kill -TERM $lgpid 2>/dev/null
	wait $lgpid
	sed 's/^/   /' "$RUN/lg-$name.txt" >&2
	say "   RSS $before kB -> $after kB with $ready idle sessions;" \
	    "B/session by role $roles"
}

auth_role_pid() {	# the auth role's pid
	local p
	for p in $(submitd_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "submitd: auth" ] &&
			{ echo "$p"; return; }
	done
}

# logins NAME CONC: CONC TLS sessions of one login log in at once on a fresh
# submitd (login cache cold): the seconds until all are in, the auth role's
# CPU and its peak RSS (each Argon2id holds 64 MiB while it runs), and with
# BENCH_SCRAPE=1 the verifications it ran (submitd_auth_verifications_total)
logins() {
	local name=$1 conc=$2 lgpid i t0 t1 c0 c1 ready auth ver=null
	want "$name" $((IDLE_LOGIN_MAX + 30)) || return 0
	fresh_submitd || return 0
	say "== $name: $conc TLS sessions log in at once, login cache cold"
	auth=$(auth_role_pid)
	[ -n "$auth" ] || { say "   no auth role"; return 0; }
	mem_reset
	c0=$(cpu_ticks "$auth")
	rm -f "$RUN/idle.ready"
	t0=$(date +%s%N)
	$LG -p "$P465" -m tls -c "$conc" -I 300 --timeout "$IDLE_LOGIN_MAX" \
	    --ready-file "$RUN/idle.ready" --label "$name" \
	    --json "$RUN/lg-$name.json" >"$RUN/lg-$name.txt" 2>&1 &
	lgpid=$!
	for ((i = 0; i < (IDLE_LOGIN_MAX + 10) * 20; i++)); do
		[ -s "$RUN/idle.ready" ] && break
		kill -0 $lgpid 2>/dev/null || break
		sleep 0.05
	done
	t1=$(date +%s%N)
	settle
	c1=$(cpu_ticks "$auth")
	ready=$(cat "$RUN/idle.ready" 2>/dev/null || echo 0)
	[ -n "$ready" ] || ready=0
	[ "$SCRAPE" = 1 ] && ver=$(curl -s -m 5 "http://127.0.0.1:$PM/metrics" |
	    awk '$1 == "submitd_auth_verifications_total" { print $2 }')
	printf '{"scenario":"%s","sessions":%s,"requested":%s,' \
	    "$name" "$ready" "$conc" >"$RUN/logins-$name.json"
	printf '"login_s":%s,"auth_cpu_ms":%s,"auth_hwm_kb":%s,' \
	    "$(awk "BEGIN { printf \"%.2f\", ($t1 - $t0) / 1e9 }")" \
	    $(( (c1 - c0) * 1000 / CLK_TCK )) "$(kb_field "$auth" VmHWM)" \
	    >>"$RUN/logins-$name.json"
	printf '"verifications":%s}\n' "${ver:-null}" >>"$RUN/logins-$name.json"
	kill -TERM $lgpid 2>/dev/null
	wait $lgpid
	sed 's/^/   /' "$RUN/lg-$name.txt" >&2
	say "   $(cat "$RUN/logins-$name.json")"
}

dkim_rates() {
	want dkim 15 || return 0
	say "== dkim signing rates"
	local src=$ROOT/tests/dkim/dkim_bench.c
	if [ -f "$src" ] && [ -f "$BUILD/libsubmitd.a" ] &&
	    cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT" -o "$OUT/dkim_bench" "$src" \
	    "$BUILD/libsubmitd.a" $(pkg-config --libs libtls libevent_pthreads \
	    libevent libsodium libcrypto) -lpthread 2>"$RUN/dkim_bench.log"; then
		"$OUT/dkim_bench" 1 >"$RUN/dkim.txt" 2>>"$RUN/dkim_bench.log" ||
			echo "skipped: dkim_bench failed" >"$RUN/dkim.txt"
	else
		echo "skipped: tests/dkim/dkim_bench.c did not build against" \
		    "$BUILD/libsubmitd.a (see $RUN/dkim_bench.log)" >"$RUN/dkim.txt"
	fi
	sed 's/^/   /' "$RUN/dkim.txt" >&2
}

# --- the scenarios --------------------------------------------------------
say "bench: config limits lifted: ${LIFTED#; }"
say "bench: spool on $SPOOL_KIND ($SPOOL, $SPOOL_FS); $DUR s per scenario;" \
    "submitd pids: $(submitd_pids | tr '\n' ' ')"

scenario new-c1-2k       $P465 tls      1    2K   1   -d "$DUR"
scenario new-c10-2k      $P465 tls      10   2K   1   -d "$DUR"
scenario new-c100-2k     $P465 tls      100  2K   1   -d "$DUR"
scenario new-c1000-2k    $P465 tls      1000 2K   1   -d "$DUR"
scenario starttls-c10-2k $P587 starttls 10   2K   1   -d "$DUR"
scenario keep-c1-2k      $P465 tls      1    2K   100 -d "$DUR"
scenario keep-c10-2k     $P465 tls      10   2K   100 -d "$DUR"
scenario keep-c100-2k    $P465 tls      100  2K   100 -d "$DUR"
scenario keep-c1000-2k   $P465 tls      1000 2K   100 -d "$DUR"
scenario new-c10-100k    $P465 tls      10   100K 1   -d "$DUR"
scenario keep-c10-100k   $P465 tls      10   100K 100 -d "$DUR"
scenario keep-c4-10m     $P465 tls      4    10M  100 -n 12 -d 60
signed() {	# CONF NAME ARGS...: a scenario on a config that signs
	local conf=$1 name=$2
	shift 2
	if [ -z "$conf" ]; then
		want "$name" 0 && printf '{"scenario":"%s","error":"%s"}\n' "$name" \
		    "skipped: submitctl dkim keygen or the dkim line failed" \
		    >"$RUN/e2e-$name.json"
		return 0
	fi
	SUBMITD_CONF=$conf
	scenario "$name" "$@"
	SUBMITD_CONF=$RUN/submitd.conf
}
signed "$CONF_RSA"     keep-c10-2k-rsa $P465 tls 10 2K 100 -d "$DUR"
signed "$CONF_ED25519" keep-c10-2k-ed   $P465 tls 10 2K 100 -d "$DUR"
# startup NAME COUNT: a daemon started on a spool of COUNT queued messages
# begins delivering within how long (issue 7: measured here, not in a test)
startup() {
	local name=$1 count=$2 spool conf t0 t_listen t_first before i
	want "$name" 120 || return 0
	stop_submitd
	spool=$RUN/$name
	rm -rf "$spool"
	say "== $name: writing $count committed messages into $spool"
	if ! /usr/bin/python3 "$ROOT/tests/tools/make_spool.py" "$spool" "$count" _submitd \
	    2>"$RUN/$name.log"; then
		say "   skipped: $(tail -1 "$RUN/$name.log")"
		printf '{"scenario":"%s","error":"spool not made"}\n' "$name" \
		    >"$RUN/startup-$name.json"
		start_submitd
		return 0
	fi
	conf=$RUN/submitd-$name.conf
	sed "s|^queue .*|queue \"$spool\"|" "$RUN/submitd.conf" >"$conf"
	sync
	before=$(sink_count)
	t0=$(now_ms)
	start_submitd_conf "$conf" || return 0
	t_listen=$(now_ms)
	t_first=
	for ((i = 0; i < 600; i++)); do
		if [ "$(sink_count)" -gt "$before" ]; then
			t_first=$(now_ms)
			break
		fi
		sleep 0.1
	done
	sleep 2
	printf '{"scenario":"%s","messages":%s,"listen_ms":%s,"first_delivery_ms":%s,"delivered_after_2s":%s}\n' \
	    "$name" "$count" $((t_listen - t0)) \
	    "$([ -n "$t_first" ] && echo $((t_first - t0)) || echo null)" \
	    $(( $(sink_count) - before )) >"$RUN/startup-$name.json"
	say "   listening after $((t_listen - t0)) ms; first message at the sink" \
	    "after $([ -n "$t_first" ] && echo "$((t_first - t0)) ms" || echo never);" \
	    "$(( $(sink_count) - before )) delivered 2 s later"
	stop_submitd
	rm -rf "$spool"
	start_submitd
}

# The filter (issue 16): a real rspamd on loopback (Debian's, no modules,
# DNS pointed at a closed loopback port), the same new-connection
# scenarios with "filter rspamd" on.  rspamd's own CPU is not counted in
# cpu_ms: only submitd's processes are.
start_rspamd() {
	local i user=
	command -v rspamd >/dev/null || return 1
	RSPAMD_DIR=$(mktemp -d /tmp/submitd-bench-rspamd.XXXXXX) || return 1
	chmod 755 "$RSPAMD_DIR"
	mkdir -p "$RSPAMD_DIR/db" "$RSPAMD_DIR/tmp"
	printf 'com\norg\nnet\ntest\n' >"$RSPAMD_DIR/tld.dat"
	cat >"$RSPAMD_DIR/rspamd.conf" <<EOF
options {
  pidfile = "$RSPAMD_DIR/rspamd.pid"; dbdir = "$RSPAMD_DIR/db";
  tempdir = "$RSPAMD_DIR/tmp"; url_tld = "$RSPAMD_DIR/tld.dat";
  dns { nameserver = ["127.0.0.1:$((PB + 9))"]; timeout = 0.1s; retransmits = 0; }
  local_addrs = [];
}
logging { type = "file"; filename = "$RSPAMD_DIR/rspamd.log"; level = "notice"; }
worker "normal" { bind_socket = "127.0.0.1:$PR"; count = 1; }
worker "controller" { bind_socket = "127.0.0.1:$((PR + 1))"; count = 1; }
actions { reject = 15; add_header = 6; greylist = 4; }
EOF
	if [ "$(id -u)" = 0 ] && id _rspamd >/dev/null 2>&1; then
		chown -R _rspamd:_rspamd "$RSPAMD_DIR"
		user="-u _rspamd -g _rspamd"
	fi
	# shellcheck disable=SC2086
	rspamd -c "$RSPAMD_DIR/rspamd.conf" -f $user >"$RUN/rspamd.out" 2>&1 &
	RSPAMD_PID=$!
	for ((i = 0; i < 1200; i++)); do	# it takes seconds to start
		curl -s -m 2 "http://127.0.0.1:$PR/ping" 2>/dev/null | grep -q pong &&
		    return 0
		kill -0 "$RSPAMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	say "bench: rspamd did not start: $(tail -3 "$RUN/rspamd.out")"
	return 1
}

stop_rspamd() {
	if [ -n "$RSPAMD_PID" ]; then
		kill "$RSPAMD_PID" 2>/dev/null
		wait "$RSPAMD_PID" 2>/dev/null
		RSPAMD_PID=
	fi
	[ -n "$RSPAMD_DIR" ] && rm -rf "$RSPAMD_DIR"
	RSPAMD_DIR=
}

filtered() {	# NAME ARGS...: a scenario with "filter rspamd" on
	local name=$1 conf=$RUN/submitd-rspamd.conf
	shift
	want "$name" $((DUR + 160)) || return 0
	if [ -z "$RSPAMD_PID" ] && ! start_rspamd; then
		printf '{"scenario":"%s","error":"skipped: rspamd did not start"}\n' \
		    "$name" >"$RUN/e2e-$name.json"
		return 0
	fi
	{ cat "$RUN/submitd.conf"
	  echo "filter rspamd \"http://127.0.0.1:$PR\" timeout 20s"; } >"$conf"
	SUBMITD_CONF=$conf
	scenario "$name" "$@"
	SUBMITD_CONF=$RUN/submitd.conf
}
filtered new-c1-2k-rspamd  $P465 tls 1  2K 1 -d "$DUR"
filtered new-c10-2k-rspamd $P465 tls 10 2K 1 -d "$DUR"
stop_rspamd

# The state in Redis (issue 17): the same scenarios with "state redis".
start_redis() {
	command -v redis-server >/dev/null || return 1
	REDIS_DIR=$(mktemp -d /tmp/submitd-bench-redis.XXXXXX) || return 1
	redis-server --port "$PRD" --bind 127.0.0.1 --save "" \
	    --appendonly no --daemonize no --dir "$REDIS_DIR" \
	    >"$RUN/redis.out" 2>&1 &
	REDIS_PID=$!
	wait_port "$PRD" 10 && return 0
	say "bench: redis-server did not start: $(tail -3 "$RUN/redis.out")"
	return 1
}

stop_redis() {
	if [ -n "$REDIS_PID" ]; then
		kill "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
		REDIS_PID=
	fi
	[ -n "$REDIS_DIR" ] && rm -rf "$REDIS_DIR"
	REDIS_DIR=
}

redised() {	# NAME ARGS...: a scenario with "state redis" on
	local name=$1 conf=$RUN/submitd-redis.conf
	shift
	want "$name" $((DUR + 40)) || return 0
	if [ -z "$REDIS_PID" ] && ! start_redis; then
		printf '{"scenario":"%s","error":"skipped: redis-server did not start"}\n' \
		    "$name" >"$RUN/e2e-$name.json"
		return 0
	fi
	{ cat "$RUN/submitd.conf"
	  echo "state redis \"redis://127.0.0.1:$PRD/0\""; } >"$conf"
	SUBMITD_CONF=$conf
	scenario "$name" "$@"
	SUBMITD_CONF=$RUN/submitd.conf
}
redised new-c10-2k-redis  $P465 tls 10 2K 1   -d "$DUR"
redised keep-c10-2k-redis $P465 tls 10 2K 100 -d "$DUR"

# state: one counter operation alone (bench/statebench.c against
# build/libsubmitd.a): LMDB, Redis, Redis over TLS (a redis-server with
# only a tls-port, the bench's certificate); CPU of the caller per op and
# the wall time of a round trip, one at a time and 10 at once.
state_rates() {
	local n=20000 tpid= tdir=
	want state 90 || return 0
	say "== state: one counter operation, LMDB vs Redis vs Redis over TLS"
	if ! cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT" \
	    $(pkg-config --cflags hiredis) -o "$OUT/statebench" \
	    "$BENCH/statebench.c" "$BUILD/libsubmitd.a" $(pkg-config --libs \
	    libtls libevent_pthreads libevent libevent_openssl libssl \
	    libsodium libcrypto libseccomp lmdb jansson hiredis) -lpthread \
	    2>"$RUN/statebench.log"; then
		echo "skipped: bench/statebench.c did not build (see" \
		    "$RUN/statebench.log)" >"$RUN/state.txt"
		sed 's/^/   /' "$RUN/state.txt" >&2
		return 0
	fi
	rm -rf "$RUN/statebench-lmdb"
	mkdir -p "$RUN/statebench-lmdb"
	"$OUT/statebench" lmdb "$RUN/statebench-lmdb" $n >"$RUN/state.txt" \
	    2>>"$RUN/statebench.log"
	if [ -n "$REDIS_PID" ] || start_redis; then
		"$OUT/statebench" redis "redis://127.0.0.1:$PRD/0" $n \
		    >>"$RUN/state.txt" 2>>"$RUN/statebench.log"
	fi
	tdir=$(mktemp -d /tmp/submitd-bench-redis-tls.XXXXXX) || return 0
	redis-server --port 0 --tls-port $((PRD + 1)) --bind 127.0.0.1 \
	    --tls-cert-file "$RUN/server.pem" --tls-key-file "$RUN/server.key" \
	    --tls-ca-cert-file "$RUN/ca.pem" --tls-auth-clients no --save "" \
	    --appendonly no --daemonize no --dir "$tdir" \
	    >"$RUN/redis-tls.out" 2>&1 &
	tpid=$!
	if wait_port $((PRD + 1)) 10 && kill -0 "$tpid" 2>/dev/null; then
		"$OUT/statebench" redis "rediss://127.0.0.1:$((PRD + 1))/0" $n \
		    "$RUN/ca.pem" >>"$RUN/state.txt" 2>>"$RUN/statebench.log"
	else
		echo "redis-server with a tls-port did not start" >>"$RUN/state.txt"
	fi
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	rm -rf "$tdir"
	sed 's/^/   /' "$RUN/state.txt" >&2
}
state_rates
stop_redis

idle idle-1000 1000
logins logins-1000 1000
startup spool-100k 100000
dkim_rates

# final peaks since the start of the daemon are per scenario (clear_refs);
# the processes' state at the end:
mem_json >"$RUN/mem-final.json"
kill -0 "$SUBMITD_PID" 2>/dev/null && SUBMITD_ALIVE=1 || SUBMITD_ALIVE=0

DATE=$(date -u +%Y%m%d-%H%M%S)
RESULT=$BENCH/results/RESULT-$DATE.json
/usr/bin/python3 "$BENCH/report.py" --run "$RUN" --out "$RESULT" \
    --spool "$SPOOL_KIND:$SPOOL_FS" --duration "$DUR" \
    --elapsed $(( $(date +%s) - T0 )) --alive "$SUBMITD_ALIVE" \
    --lifted "${LIFTED#; }" --commit "$(git -C "$ROOT" rev-parse --short HEAD \
    2>/dev/null)$(git -C "$ROOT" status --porcelain -uno 2>/dev/null |
    grep -q . && echo ' + uncommitted changes')" ||
	die "report failed"
say "bench: wrote $RESULT; logs in $RUN"
