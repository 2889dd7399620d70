#!/bin/bash
# relay_send.sh — the relay client's test driver.
#
#   tests/tools/relay_send.sh build   builds $BUILD/tests/relay_send
#                                     (BUILD defaults to build) against
#                                     $BUILD/libsubmitd.a
#   tests/tools/relay_send.sh check   builds it, then relays to stand-in
#                                     smarthosts (tests/integration/
#                                     smarthost.py) on 127.0.0.1 high ports
#                                     and checks what arrives
set -eu
BUILD=${BUILD:-build}
PKGS="libtls libevent libevent_pthreads libsodium libcrypto"
HERE=$(cd "$(dirname "$0")/../.." && pwd)

build() {
	make -C "$HERE" BUILD="$BUILD" "$BUILD/libsubmitd.a" >/dev/null
	mkdir -p "$HERE/$BUILD/tests"
	# shellcheck disable=SC2046,SC2086
	${CC:-cc} ${OPTFLAGS:--O2 -g} -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	    -Werror -Wshadow -Wformat=2 -I"$HERE" $(pkg-config --cflags $PKGS) \
	    -o "$HERE/$BUILD/tests/relay_send" "$HERE/tests/tools/relay_send.c" \
	    "$HERE/$BUILD/libsubmitd.a" $(pkg-config --libs $PKGS) -lpthread
}

# ---- check -------------------------------------------------------------

T='' PIDS='' FAILS=0 N=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	[ -n "$T" ] && rm -rf "$T"
}

certs() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" \
	    -out "$T/ca.crt" -days 2 -subj "/CN=relay_send test CA" 2>/dev/null
	for n in localhost wrong.example; do
		openssl req -newkey rsa:2048 -nodes -keyout "$T/$n.key" \
		    -out "$T/$n.csr" -subj "/CN=$n" 2>/dev/null
		printf 'subjectAltName=DNS:%s\n' "$n" >"$T/$n.ext"
		openssl x509 -req -in "$T/$n.csr" -CA "$T/ca.crt" \
		    -CAkey "$T/ca.key" -CAcreateserial -out "$T/$n.crt" \
		    -days 2 -extfile "$T/$n.ext" 2>/dev/null
	done
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The team's smarthost, with VARIANT=pipelining|loginonly|notls|shortidle
# changes (shortidle: the server drops a connection idle for 1 s).
smarthost() {	# name mode variant -> port in $PORT
	local name=$1 mode=$2 variant=$3
	PORT=$(free_port)
	: >"$T/ctl-$name.json"
	VARIANT=$variant /usr/bin/python3 - --port "$PORT" --mode "$mode" \
	    --cert "$T/localhost.crt" --key "$T/localhost.key" \
	    --wrong-cert "$T/wrong.example.crt" \
	    --wrong-key "$T/wrong.example.key" \
	    --login relay@example.net --password "upstream secret" \
	    --outdir "$T/out-$name" --control "$T/ctl-$name.json" \
	    >"$T/sh-$name.log" 2>&1 <<EOF &
import os, sys
sys.argv[0] = "smarthost"
sys.path.insert(0, "$HERE/tests/integration")
import smarthost
V = os.environ.get("VARIANT", "")
if V == "pipelining":
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:1] + ["250-PIPELINING"] + responses[1:]
    smarthost.Handler.handle_EHLO = handle_EHLO
orig = smarthost.Server.__init__
def init(self, handler, control, rec, mode, **kw):
    if V == "loginonly":
        kw["auth_exclude_mechanism"] = ["PLAIN"]
    if V == "shortidle":
        kw["timeout"] = 1
    if V == "notls":
        kw.pop("tls_context", None)
        kw.update(require_starttls=False, auth_require_tls=False)
    orig(self, handler, control, rec, mode, **kw)
smarthost.Server.__init__ = init
sys.exit(smarthost.main())
EOF
	PIDS="$PIDS $!"
	for _ in $(seq 50); do
		grep -q READY "$T/sh-$name.log" 2>/dev/null && break
		sleep 0.1
	done
	scheme=smtps
	[ "$mode" = starttls ] && scheme=smtp+tls
	cat >"$T/$name.conf" <<EOF
hostname relay.test
pki localhost cert "$T/localhost.crt" key "$T/localhost.key"
listen on 127.0.0.1 port 1 tls pki localhost
allow from 127.0.0.1
users "$T/users"
relay $scheme://localhost:$PORT secrets "$T/secrets"
relay ca "$T/ca.crt"
timeout command 5s
EOF
}

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $1"; sed 's/^/#   /' "$T/out.txt"; }

# run NAME EXPECTED-STATUS [timeout N PROGRAM] ARGS...: relay_send's output
# in $T/out.txt
run() {
	local name=$1 want=$2 rc=0
	shift 2
	if [ "$1" = timeout ]; then
		"$@" >"$T/out.txt" 2>&1 || rc=$?
	else
		"$HERE/$BUILD/tests/relay_send" "$@" >"$T/out.txt" 2>&1 || rc=$?
	fi
	if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name (exit $rc)"; fi
}

expect() {	# name grep-pattern
	if grep -qE -- "$2" "$T/out.txt"; then ok "$1"; else not_ok "$1"; fi
}

# exact NAME OUTDIR FILE...: the last message in OUTDIR is the FILEs' bytes
exact() {
	local name=$1 dir=$2
	shift 2
	if /usr/bin/python3 - "$dir" "$@" <<'EOF'
import glob, sys
eml = sorted(glob.glob(sys.argv[1] + "/*.eml"))[-1]
want = b"".join(open(f, "rb").read() for f in sys.argv[2:])
if not want.endswith(b"\r\n"):
    want += b"\r\n"
sys.exit(open(eml, "rb").read() != want)
EOF
	then ok "$name"; else not_ok "$name"; fi
}

count() { grep -c "\"event\": \"$2\"" "$T/out-$1/events.log" || true; }

check() {
	build
	T=$(mktemp -d /tmp/relay_send.XXXXXX)
	trap cleanup EXIT
	certs
	printf '* relay@example.net "upstream secret"\n' >"$T/secrets"
	printf '* relay@example.net wrong\n' >"$T/secrets.bad"
	chmod 600 "$T/secrets" "$T/secrets.bad"
	: >"$T/users"
	printf 'Subject: t\r\n\r\n.leading dot\r\n..two\r\n.\r\nmid . dot\r\nno final crlf' >"$T/msg"
	printf 'DKIM-Signature: v=1; d=example.org;\r\n\tb=abc\r\n' >"$T/prefix"
	/usr/bin/python3 -c '
import random, sys
random.seed(7)
out = [b"Subject: big\r\n\r\n"]
n = 0
while n < 12 * 1024 * 1024:
    l = (b"." if random.random() < 0.1 else b"") + b"x." * random.randint(0, 60)
    out.append(l + b"\r\n"); n += len(l) + 2
sys.stdout.buffer.write(b"".join(out))' >"$T/big"

	smarthost smtps smtps ""
	smarthost starttls starttls ""
	smarthost pipe smtps pipelining
	smarthost login smtps loginonly
	smarthost notls starttls notls
	smarthost short smtps shortidle

	for m in smtps starttls; do
		run "$m: delivered" 0 -f "$T/$m.conf" -p "$T/prefix" a@example.org "$T/msg" r1@example.com
		exact "$m: byte-exact, dot-stuffing undone by the server" "$T/out-$m" "$T/prefix" "$T/msg"
		echo '{"tls": "wrongcert"}' >"$T/ctl-$m.json"
		run "$m: wrong certificate name refused" 1 -f "$T/$m.conf" a@example.org "$T/msg" r1@example.com
		expect "$m: wrong name is a session error" 'session_error="handshake: name .localhost. not present'
		echo '{"rcpt": {"bad@example.com": "550 5.1.1 No such user", "busy@example.com": "450 4.2.1 busy"}}' >"$T/ctl-$m.json"
		run "$m: one refused, one deferred" 1 -f "$T/$m.conf" a@example.org "$T/msg" r1@example.com bad@example.com busy@example.com
		expect "$m: 250 for the accepted one" 'rcpt=<r1@example.com> code=250'
		expect "$m: 550 for the refused one" 'rcpt=<bad@example.com> code=550 reply="550 5.1.1 No such user"'
		expect "$m: 450 for the deferred one" 'rcpt=<busy@example.com> code=450'
		echo '{"data": "451 4.3.0 later"}' >"$T/ctl-$m.json"
		run "$m: DATA 451" 1 -f "$T/$m.conf" a@example.org "$T/msg" r1@example.com
		expect "$m: DATA reply given to the recipient" 'rcpt=<r1@example.com> code=451'
		echo '{}' >"$T/ctl-$m.json"
		run "$m: wrong password" 1 -s "$T/secrets.bad" -f "$T/$m.conf" a@example.org "$T/msg" r1@example.com
		expect "$m: 535 is a session error" 'session_error="535 5.7.8'
		expect "$m: auth failure logged" 'event=auth result=fail .*reply="535'
		before=$(count "$m" connect)
		run "$m: two messages" 0 -n 2 -f "$T/$m.conf" a@example.org "$T/msg" r1@example.com
		after=$(count "$m" connect)
		if [ $((after - before)) = 1 ]; then ok "$m: over one connection"; else not_ok "$m: over one connection ($((after - before)))"; fi
	done
	echo '{"starttls": "454 4.7.0 TLS not available"}' >"$T/ctl-starttls.json"
	run "starttls: STARTTLS 454 refused" 1 -f "$T/starttls.conf" a@example.org "$T/msg" r1@example.com
	echo '{}' >"$T/ctl-starttls.json"
	if [ "$(count starttls violation)" = 0 ]; then ok "starttls: nothing sent in plaintext"; else not_ok "starttls: nothing sent in plaintext"; fi
	run "no STARTTLS offered: refused" 1 -f "$T/notls.conf" a@example.org "$T/msg" r1@example.com
	expect "no STARTTLS: says why" 'refusing to go on in plaintext'
	if [ "$(count notls auth)$(count notls mail)" = 00 ]; then ok "no STARTTLS: no AUTH, no MAIL"; else not_ok "no STARTTLS: no AUTH, no MAIL"; fi
	run "AUTH LOGIN" 0 -f "$T/login.conf" a@example.org "$T/msg" r1@example.com
	if grep -q '"mechanism": "LOGIN", "ok": true' "$T/out-login/events.log"
	then ok "AUTH LOGIN used"; else not_ok "AUTH LOGIN used"; fi
	echo '{"rcpt": {"bad@example.com": "550 5.1.1 No such user"}}' >"$T/ctl-pipe.json"
	run "pipelining, reuse" 1 -v -n 2 -f "$T/pipe.conf" a@example.org "$T/msg" r1@example.com bad@example.com r2@example.com
	expect "pipelining used" 'pipelined=4'
	expect "RSET pipelined before MAIL on reuse" 'pipelined=5'
	echo '{"rcpt": "550 5.1.1 nobody"}' >"$T/ctl-pipe.json"
	run "no recipient accepted: RSET, no DATA" 1 -v -f "$T/pipe.conf" a@example.org "$T/msg" r1@example.com
	expect "RSET instead of DATA" 'state=rset reply="250'
	echo '{}' >"$T/ctl-pipe.json"
	run "12 MB message" 0 -f "$T/pipe.conf" -8 a@example.org "$T/big" r1@example.com
	exact "12 MB message byte-exact" "$T/out-pipe" "$T/big"
	run "parallel deliveries over max_sessions" 0 -P -n 7 -f "$T/smtps.conf" a@example.org "$T/msg" r1@example.com
	expect "the 5th waits in the relay's FIFO" 'delivery 5 queued'

	run "idle connection dropped by the server" 0 -v -i 3 -n 2 -f "$T/short.conf" a@example.org "$T/msg" r1@example.com
	if [ "$(count short connect)" = 2 ]; then ok "a new connection after the drop"; else not_ok "a new connection after the drop"; fi
	run "idle connection past 5 s" 0 -v -i 6 -n 2 -f "$T/pipe.conf" a@example.org "$T/msg" r1@example.com
	expect "QUIT after 5 s idle" 'state=quit reply="221'

	sed 's/^timeout command 5s$/relay limit messages 2 per hour/' "$T/pipe.conf" >"$T/paced.conf"
	before=$(find "$T/out-pipe" -name "*.json" | wc -l)
	run "relay limit messages 2 per hour, 3 sent" 124 timeout 3 "$HERE/$BUILD/tests/relay_send" -P -n 3 -f "$T/paced.conf" a@example.org "$T/msg" r1@example.com
	after=$(find "$T/out-pipe" -name "*.json" | wc -l)
	if [ $((after - before)) = 2 ]; then ok "two delivered, the third held back"; else not_ok "two delivered, the third held back ($((after - before)))"; fi
	expect "the wait is logged" 'event=relay result=wait .*wait=36[0-9][0-9]s'

	echo "# $N checks, $FAILS failed"
	[ "$FAILS" = 0 ]
}

case "${1:-build}" in
build)	build; echo "$BUILD/tests/relay_send" ;;
check)	check ;;
*)	echo "usage: tests/tools/relay_send.sh build|check" >&2; exit 2 ;;
esac
