#!/bin/bash
# deps.sh — the Debian packages submitd needs, read from debian/control
# (the one list: Build-Depends to build and test, Depends to run).
#
#   tests/tools/deps.sh            list every package the list names
#   tests/tools/deps.sh --missing  print the missing ones; exit 1 if any
#   tests/tools/deps.sh --install  install the missing ones when root; when
#                                  not root, name them and exit 1
#
# `make deps`, `make check`, `make demo` and .ci/run call --install.  Plain
# bash, awk and dpkg-query: it runs on a Debian 12 with nothing installed.
# $DEPS_CONTROL reads another control file (the tests use it).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
control=${DEPS_CONTROL:-$here/../../debian/control}
mode=${1:---list}

# The package names: Build-Depends(-Indep/-Arch) and the binary packages'
# Depends/Pre-Depends, continuation lines joined, comments dropped; version
# "(...)", architecture "[...]" and build profile "<...>" restrictions and
# ${substvars} removed.  Alternatives "a | b" come out as "a|b".
# debhelper-compat is a virtual package of debhelper.
names() {
	awk '
	/^#/ { next }
	/^[A-Za-z-]+:/ {
		field = tolower($0); sub(/:.*/, "", field)
		keep = (field ~ /^(build-depends(-indep|-arch)?|depends|pre-depends)$/)
		line = $0; sub(/^[^:]*:/, "", line)
		if (keep) buf = buf "," line
		next
	}
	/^[ \t]/ { if (keep) buf = buf " " $0; next }
	/^$/ { keep = 0 }
	END {
		gsub(/\([^)]*\)|\[[^]]*\]|<[^>]*>|\$\{[^}]*\}/, "", buf)
		n = split(buf, dep, ",")
		for (i = 1; i <= n; i++) {
			d = dep[i]; gsub(/[ \t]+/, "", d)
			sub(/:any$/, "", d); gsub(/:any\|/, "|", d)
			if (d == "") continue
			if (d == "debhelper-compat") d = "debhelper"
			if (!(d in seen)) { seen[d] = 1; print d }
		}
	}' "$control"
}

# Installed packages, one a line (one dpkg-query call: fast when all is there).
installed() {
	dpkg-query -W -f='${Package} ${db:Status-Status}\n' 2>/dev/null |
	    awk '$2 == "installed" { print $1 }'
}

missing() {
	local have
	have=$(installed)
	names | while IFS= read -r d; do
		local ok=0 alt
		for alt in ${d//|/ }; do
			if grep -qxF "$alt" <<<"$have"; then ok=1; break; fi
		done
		# an alternative none of which is installed: the first one
		[ "$ok" = 1 ] || echo "${d%%|*}"
	done
}

case $mode in
--list)
	names
	;;
--missing)
	need=$(missing | tr '\n' ' ')
	need=${need% }
	[ -z "$need" ] && exit 0
	echo "$need"
	exit 1
	;;
--install)
	need=$(missing | tr '\n' ' ')
	need=${need% }
	[ -z "$need" ] && exit 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages (debian/control): $need" >&2
		echo "deps: as root: make deps   (or: apt-get install $need)" >&2
		exit 1
	fi
	echo "deps: installing $need"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $need ||
	    { apt-get update && apt-get install -y --no-install-recommends $need; }
	;;
*)
	echo "usage: deps.sh [--list | --missing | --install]" >&2
	exit 2
	;;
esac
