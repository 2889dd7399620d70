#!/bin/bash
# make demo: one real submission through submitd, shown end to end.
#
# Makes a throwaway CA and certificate, a user with a random password and a
# DKIM key in a temp dir; starts the stand-in smarthost (TLS + AUTH, like
# OVH's ssl0.ovh.net) and submitd on high loopback ports; submits one message
# with swaks over STARTTLS; prints the message as the smarthost received it
# (and the DKIM verdict of dkimpy when it is signed); stops everything.
set -eu

cd "$(dirname "$0")/.."
REPO=$PWD
BUILD=${BUILD:-build}
PY=/usr/bin/python3
SUBMITD=$REPO/$BUILD/submitd
SUBMITCTL=$REPO/$BUILD/submitctl

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- what the demo needs (Debian 12): debian/control, the one list ----
if ! tests/tools/deps.sh --missing >/dev/null; then
	say "installing the Debian packages debian/control names"
	tests/tools/deps.sh --install
fi
if [ ! -x "$SUBMITD" ] || [ ! -x "$SUBMITCTL" ]; then
	say "building submitd"
	make BUILD="$BUILD" >/dev/null
fi

T=$(mktemp -d /tmp/submitd-demo.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP_DEMO:-0}" = 1 ]; then
		echo "demo: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

h() { # run a harness helper
	"$PY" -c "import sys; sys.path.insert(0, '$REPO/tests/integration'); import harness; $1"
}
port() { h "print(harness.free_port('127.0.0.1'))"; }

# --- throwaway certificate, user, DKIM key ------------------------------
say "throwaway CA and certificate for localhost"
h "harness.make_certs('$T/pki')"
echo "   $T/pki/localhost.crt (signed by $T/pki/ca.crt)"

USER=demo@example.org
PASS=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
HASH=$(printf '%s\n' "$PASS" | "$SUBMITCTL" passwd)
install -m 0600 /dev/null "$T/users"
printf '%s:%s:%s\n' "$USER" "$HASH" "$USER,*@example.org" >"$T/users"
install -m 0600 /dev/null "$T/upstream.secrets"
printf '*   relay@example.net   upstream-secret\n' >"$T/upstream.secrets"
echo "   user $USER, password $PASS (Argon2id hash in $T/users)"

DKIM_LINE=""
if "$SUBMITCTL" dkim keygen -a ed25519 -d example.org -s demo -o "$T/dkim.key" \
    >"$T/dkim.txt" 2>"$T/dkim.err"; then
	DKIM_LINE="dkim domain example.org selector demo ed25519 key \"$T/dkim.key\""
	say "DKIM key (ed25519, selector demo); its DNS record:"
	sed 's/^/   /' "$T/dkim.txt"
else
	say "DKIM: submitctl dkim keygen is not ready; the demo goes on unsigned"
fi

# --- config --------------------------------------------------------------
P1=$(port); P2=$(port); P4=$(port)
mkdir -m 0700 "$T/spool"
write_conf() {
	cat >"$T/submitd.conf" <<EOF
# make demo
hostname relay.test
queue "$T/spool" retry-min 1s retry-max 2s
pki localhost cert "$T/pki/localhost.crt" key "$T/pki/localhost.key"
listen on 127.0.0.1 port $P1 starttls pki localhost
listen on 127.0.0.1 port $P2 tls pki localhost
users "$T/users"
limit message-size 10M
$1
relay smtps://localhost:$P4 secrets "$T/upstream.secrets"
relay ca "$T/pki/ca.crt"
EOF
}
write_conf "$DKIM_LINE"
if [ -n "$DKIM_LINE" ] && ! "$SUBMITD" -n -f "$T/submitd.conf" >"$T/n.out" 2>&1; then
	echo "   (the config parser does not take the dkim line yet; going on unsigned)"
	sed 's/^/   /' "$T/n.out"
	DKIM_LINE=""
	write_conf ""
fi
say "submitd.conf"
grep -v '^#' "$T/submitd.conf" | sed '/^$/d; s/^/   /'

# --- start the smarthost and submitd ----------------------------------------
say "starting the stand-in smarthost (smtps, AUTH relay@example.net) on 127.0.0.1:$P4"
"$PY" tests/integration/smarthost.py --port "$P4" --mode smtps \
    --cert "$T/pki/localhost.crt" --key "$T/pki/localhost.key" \
    --login relay@example.net --password upstream-secret \
    --outdir "$T/delivered" >"$T/smarthost.out" 2>"$T/smarthost.log" &
pids="$pids $!"

say "starting submitd (587-style STARTTLS on $P1, 465-style TLS on $P2)"
"$SUBMITD" -d -f "$T/submitd.conf" >"$T/submitd.log" 2>&1 &
pids="$pids $!"
wait_until() { # seconds command...
	local n=$(($1 * 10)); shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}
listening() { grep -q READY "$T/smarthost.out" && h "import sys; sys.exit(not harness.port_open('127.0.0.1', $P1))"; }
if ! wait_until 15 listening; then
	echo "demo: submitd or the smarthost did not start; logs:" >&2
	tail -n 20 "$T/submitd.log" "$T/smarthost.log" >&2
	exit 1
fi

# --- submit one message ------------------------------------------------------
say "swaks submits one message over STARTTLS with AUTH PLAIN"
cat >"$T/message.eml" <<EOF
From: Demo User <$USER>
To: Carol <carol@example.com>
Subject: Hello from make demo

This message went: swaks -> submitd (STARTTLS, AUTH, disk queue)
-> the stand-in smarthost (smtps, AUTH).
.A line that starts with a dot survives dot-stuffing.
EOF
if ! swaks --server 127.0.0.1 --port "$P1" --tls \
    --auth PLAIN --auth-user "$USER" --auth-password "$PASS" \
    --from "$USER" --to carol@example.com --data "$T/message.eml" \
    >"$T/swaks.out" 2>&1; then
	echo "demo: swaks failed:" >&2
	cat "$T/swaks.out" >&2
	tail -n 20 "$T/submitd.log" >&2
	exit 1
fi
grep -E '^(<~|<-)  (220|235|250 2\.0\.0|5)' "$T/swaks.out" | sed 's/^/   /' || true

delivered() { ls "$T"/delivered/[0-9]*.json; }
if ! wait_until 20 delivered; then
	echo "demo: nothing reached the smarthost in 20 s; submitd log:" >&2
	tail -n 30 "$T/submitd.log" >&2
	exit 1
fi

# --- show it ---------------------------------------------------------------------
J=$(ls "$T"/delivered/[0-9]*.json | head -n 1)
say "the smarthost received (envelope)"
"$PY" - "$J" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
print("   logged in as %s, MAIL FROM:<%s>, RCPT TO:%s, %d octets, over TLS: %s"
      % (m["login"], m["mail_from"], ",".join("<%s>" % r for r in m["rcpt_tos"]),
         m["size"], m["tls"]))
EOF
say "the smarthost received (message, exact bytes, CRLF shown as line ends)"
tr -d '\r' <"${J%.json}.eml" | sed 's/^/   | /'

if grep -q '^DKIM-Signature:' "${J%.json}.eml"; then
	say "DKIM verification by dkimpy (independent of submitd), key from the DNS record above"
	"$PY" - "${J%.json}.eml" "$T/dkim.txt" <<'EOF' || true
import re, sys
import dkim
msg = open(sys.argv[1], "rb").read()
txt = open(sys.argv[2]).read()
p = re.search(r"p=([A-Za-z0-9+/=\s\"]+)", txt)
k = re.search(r"k=(\w+)", txt)
rec = ("v=DKIM1; k=%s; p=%s" % (k.group(1) if k else "ed25519",
       re.sub(r"[\s\"]", "", p.group(1)))).encode() if p else b""
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec)
print("   dkim.verify: %s" % ("pass" if ok else "FAIL"))
EOF
fi

say "submitd's log"
sed 's/^/   /' "$T/submitd.log" | tail -n 15
echo
echo "demo: done; stopping submitd and the smarthost."
