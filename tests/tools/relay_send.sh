#!/bin/sh
# relay_send.sh build — builds tests/tools/relay_send.c into
# $BUILD/tests/relay_send (BUILD defaults to build), against the library
# that `make` left in $BUILD/libsubmitd.a.
set -eu
BUILD=${BUILD:-build}
PKGS="libtls libevent libevent_pthreads libsodium libcrypto"
case "${1:-build}" in
build)
	make BUILD="$BUILD" "$BUILD/libsubmitd.a" >/dev/null
	mkdir -p "$BUILD/tests"
	# shellcheck disable=SC2046
	${CC:-cc} ${OPTFLAGS:--O2 -g} -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	    -Werror -Wshadow -Wformat=2 -I. $(pkg-config --cflags $PKGS) \
	    -o "$BUILD/tests/relay_send" tests/tools/relay_send.c \
	    "$BUILD/libsubmitd.a" $(pkg-config --libs $PKGS) -lpthread
	echo "$BUILD/tests/relay_send"
	;;
*)
	echo "usage: tests/tools/relay_send.sh build" >&2
	exit 2
	;;
esac
