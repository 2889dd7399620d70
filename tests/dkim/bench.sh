#!/bin/sh
# bench.sh — DKIM throughput for "make bench": builds tests/dkim/dkim_bench.c
# against $BUILD/libsubmitd.a and prints its key=value lines (MB/s of body
# hashed per canonicalization, signatures and verifications per second per
# algorithm).  Not a timed test: numbers only.
#
#   BUILD=/abs/build tests/dkim/bench.sh [seconds-per-measure]
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=${TMPDIR:-/tmp}/dkim_bench.$$
trap 'rm -f "$OUT"' EXIT
${CC:-cc} -O2 -I. -o "$OUT" tests/dkim/dkim_bench.c "$BUILD/libsubmitd.a" \
    $(pkg-config --libs libtls libevent_pthreads libevent libsodium libcrypto) -lpthread
"$OUT" "${1:-1}"
