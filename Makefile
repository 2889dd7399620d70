# submitd — build, test, install.  See README.md.
#
#   make            build/submitd, build/submitctl
#   make deps       install the Debian packages debian/control names (as
#                   root; else name the missing ones and fail)
#   make check      unit tests (Check), the layering check, integration tests
#   make layers     the layering check alone (tests/tools/check_layers.py)
#   make asan       the same programs with ASan/UBSan, in build-asan/
#   make check-asan make check against the ASan build
#   make fuzz       libFuzzer harnesses (clang) in build-fuzz/, each run
#                   FUZZ_SECONDS (60); make check replays their corpora
#   make demo       one real submission, relayed, signed and delivered
#   make bench      the benchmark (bench/README.md)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
BUILD    ?= build

PKGS     := libtls libevent libevent_pthreads libevent_openssl libssl libsodium libcrypto libseccomp lmdb jansson hiredis
# libcurl: its headers only; the filter role loads it (smtpd/role_filter.c)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

CC       ?= cc
OPTFLAGS ?= -O2 -g
CFLAGS   += $(OPTFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
            -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -fno-strict-aliasing -I. $(PKG_CFLAGS) \
            -DSYSCONFDIR='"$(SYSCONFDIR)"' $(EXTRA_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lpthread

# The floors of the tree, bottom to top (README.md, "Layout").
DIRS      := lib conf proto dkim auth relay queue ctl smtpd
MAIN_SRCS := smtpd/submitd.c ctl/submitctl.c
LIB_SRCS  := $(filter-out $(MAIN_SRCS), $(sort $(foreach d,$(DIRS),$(wildcard $(d)/*.c))))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
HDRS      := $(foreach d,$(DIRS),$(wildcard $(d)/*.h))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
CHECK_LIBS := $(shell pkg-config --libs check)

PROGS := $(BUILD)/submitd $(BUILD)/submitctl

all: $(PROGS)

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsubmitd.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/submitd: $(BUILD)/obj/smtpd/submitd.o $(BUILD)/libsubmitd.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/submitctl: $(BUILD)/obj/ctl/submitctl.o $(BUILD)/libsubmitd.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsubmitd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(shell pkg-config --cflags check) \
	    -DTESTDATA_DIR='"$(abspath tests/testdata)"' \
	    -o $@ $< $(BUILD)/libsubmitd.a $(LDLIBS) $(CHECK_LIBS)

unit: $(UNIT_BINS)

# Fuzzing (tests/fuzz/, issue 13): one harness per parser of outside input.
# make fuzz builds them with clang and libFuzzer (ASan, UBSan) and runs each
# for FUZZ_SECONDS, new inputs in build-fuzz/fuzz/corpus-NAME, findings as
# build-fuzz/fuzz/NAME-crash-*; make fuzz-replay (and so make check) runs
# the committed corpora tests/fuzz/corpus/NAME through the same harnesses
# built with a plain main() by $(CC), so that a regression shows anywhere.
FUZZ_NAMES   := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out \
		tests/fuzz/fuzz_util.c,$(wildcard tests/fuzz/fuzz_*.c))))
FUZZ_REPLAY  := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SRCS    := tests/fuzz/fuzz_util.c tests/fuzz/fuzz.h

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(FUZZ_SRCS) $(BUILD)/libsubmitd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/fuzz_util.c \
	    tests/fuzz/replay_main.c $(BUILD)/libsubmitd.a $(LDLIBS)

fuzz-replay: $(FUZZ_REPLAY)
	@for n in $(FUZZ_NAMES); do \
	    if [ ! -d tests/fuzz/corpus/$$n ]; then \
	        echo "fuzz-replay: $$n has no corpus yet (tests/fuzz/corpus/$$n)"; \
	        continue; fi; \
	    $(BUILD)/fuzz/replay_$$n tests/fuzz/corpus/$$n || exit 1; done

fuzz:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) EXTRA_CFLAGS=-Wno-error \
	    OPTFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined" \
	    build-fuzz/libsubmitd.a
	@mkdir -p build-fuzz/fuzz
	@for n in $(FUZZ_NAMES); do \
	    $(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined \
	        -std=c11 -D_GNU_SOURCE -I. -Itests/fuzz $(PKG_CFLAGS) \
	        -o build-fuzz/fuzz/$$n tests/fuzz/fuzz_$$n.c tests/fuzz/fuzz_util.c \
	        build-fuzz/libsubmitd.a $(LDLIBS) || exit 1; \
	    mkdir -p build-fuzz/fuzz/corpus-$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    build-fuzz/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	        -artifact_prefix=build-fuzz/fuzz/$$n- -print_final_stats=1 \
	        build-fuzz/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# The unprivileged user of the roles, when running as root and missing.
user:
	@if [ "$$(id -u)" = 0 ] && ! id _submitd >/dev/null 2>&1; then \
	    echo "useradd _submitd"; \
	    useradd -r -M -d /var/empty -s /usr/sbin/nologin _submitd; fi

# The Debian packages of debian/control (Build-Depends and Depends), the one
# list: installed when root, else named, and make fails.
deps:
	@tests/tools/deps.sh --install

# Installs what is missing (make deps), then the unit tests, then the
# integration tests against the programs in $(BUILD).  The build runs in a
# second make, which reads the pkg-config flags after the install.
check: deps
	@$(MAKE) --no-print-directory all unit user fuzz-replay
	@BUILD=$(BUILD) tests/run-all

# Every #include and every call runs down the floors (README.md, "Layout");
# make check runs it too, with its own tests (tests/tools/test_check_layers.py).
layers: all
	@/usr/bin/python3 tests/tools/check_layers.py --calls $(BUILD)/obj

asan:
	$(MAKE) BUILD=build-asan OPTFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined"

check-asan:
	$(MAKE) BUILD=build-asan OPTFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" check

# The crash test of the queue at large scale (issue 7): many kill -9
# rounds with clients submitting; prints the tally.
SOAK_ROUNDS ?= 40
SOAK_CLIENTS ?= 8
soak: all user
	@cd tests/integration && QUEUE_CRASH_ROUNDS=$(SOAK_ROUNDS) \
	    QUEUE_CRASH_CLIENTS=$(SOAK_CLIENTS) BUILD=$(abspath $(BUILD)) \
	    /usr/bin/python3 -m unittest -v test_queue_crash

demo: deps user
	@tests/demo.sh

bench: all
	@$(MAKE) -C bench run BUILD=$(abspath $(BUILD))

# Programs, man pages, every example file, and the directories with their
# modes (the spool and the state become the daemon's user's at start).
install: all
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/submitd $(BUILD)/submitctl $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/submitd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/submitd-runbook.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/submitd.8 man/submitctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/submitd
	install -m 0644 conf/submitd.conf.example conf/ovh.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/submitd/
	install -m 0640 conf/users.example conf/upstream.secrets.example \
	    $(DESTDIR)$(SYSCONFDIR)/submitd/
	install -d -m 0700 $(DESTDIR)$(LOCALSTATEDIR)/spool/submitd \
	    $(DESTDIR)$(LOCALSTATEDIR)/lib/submitd
	@if [ -z "$(DESTDIR)" ]; then install -d -m 0755 /var/empty; fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! id _submitd >/dev/null 2>&1; then \
	    echo "useradd _submitd"; \
	    useradd -r -M -d /var/empty -s /usr/sbin/nologin _submitd; fi

# The Debian package (debian/), built in a copy of the tree under
# $(BUILD)/deb: $(BUILD)/deb/submitd_*.deb.  DEB_BUILD_OPTIONS=nocheck by
# default here (make check runs the tests); make check-deb checks the .deb.
DEB_BUILD_OPTIONS ?= nocheck
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	tar -cf - --exclude=./build --exclude=./build-asan --exclude=./.git \
	    --exclude='./build-*' . | tar -C $(BUILD)/deb/src -xf -
	cd $(BUILD)/deb/src && DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS)" \
	    dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

# The .deb's contents, metadata, maintainer scripts, lintian and the unit
# (about a minute: not part of make check).
check-deb:
	@BUILD=$(BUILD) /usr/bin/python3 -m unittest discover -s tests/package -p 'test_*.py' -v

clean:
	rm -rf build build-asan build-fuzz

.PHONY: deb check-deb all deps unit user check layers asan check-asan demo bench install clean soak \
	fuzz fuzz-replay
