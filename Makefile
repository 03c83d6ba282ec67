# ringpiped: spiped-compatible secure pipe on io_uring.
#
#   make              build everything into $(BUILD)/
#   make test         install deps if missing, build, run all tests
#   make asan         the same tests under ASan + UBSan (build-asan/);
#                     ASAN_TESTS="t_interop t_hostile" picks some
#   make tsan         the integration tests against a TSan build (build-tsan/);
#                     TSAN_TESTS="t_interop t_concurrent" picks some
#   make soak         mixed load, faults and resource checks (SOAK_SECONDS=60)
#   make fuzz         run each libFuzzer target for FUZZ_SECONDS
#   make bench-micro  Google benchmark micro-benchmarks
#   make bench        end-to-end comparison against stock spiped
#   make demo         a demo pipe on loopback
#   make install PREFIX=/usr/local [DESTDIR=]   (programs, man pages, units,
#                     examples)
#   make CRYPTO=openssl   build without Intel ipsec-mb (arm64 etc.)
#   make deb          build-deb/ringpiped_<version>_<arch>.deb (dpkg-deb)
#   make arm64        cross build for aarch64 into build-arm64/ (CRYPTO=openssl)
#   make deb-arm64    build-arm64/ringpiped_<version>_arm64.deb

CC ?= cc
CXX ?= c++
BUILD ?= build
CRYPTO ?= auto
SAN ?=
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60

ifeq ($(CRYPTO),auto)
  ifeq ($(shell uname -m),x86_64)
    CRYPTO := ipsecmb
  else
    CRYPTO := openssl
  endif
endif

PKGS := liburing libcrypto

# --metrics needs libmicrohttpd: found by pkg-config, or METRICS=off to
# build without it (the flag then fails, saying so).
ifndef METRICS
  METRICS := $(shell pkg-config --exists libmicrohttpd 2>/dev/null && echo on)
endif
ifeq ($(METRICS),on)
  # Loaded with dlopen when --metrics is given (rp_mhd.c), not linked:
  # only its headers, and its soname.
  MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
  MHD_SONAME := $(shell objdump -p $$(pkg-config --variable=libdir \
	libmicrohttpd 2>/dev/null)/libmicrohttpd.so 2>/dev/null | \
	awk '/SONAME/{print $$2}')
  MHD_CFLAGS += $(if $(MHD_SONAME),-DRP_MHD_SONAME='"$(MHD_SONAME)"')
else
  $(info ringpiped: building without libmicrohttpd: --metrics is off)
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -luring -lcrypto)

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
# The layers, each a folder of src/ and a static library, from the top
# down: a layer calls only the layers below it (make layers checks).
LAYERS := process control ring proto crypto base
CFLAGS_BASE := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Isrc \
	$(LAYERS:%=-Isrc/%) $(PKG_CFLAGS) $(MHD_CFLAGS) -pthread
LIBS := $(PKG_LIBS) -pthread

ifeq ($(CRYPTO),ipsecmb)
  CFLAGS_BASE += -DRP_HAVE_IPSECMB -DNO_COMPAT_IMB_API_053
  LIBS += -lIPSec_MB
endif

ifeq ($(SAN),asan)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
else ifeq ($(SAN),tsan)
  SANFLAGS := -fsanitize=thread
else
  SANFLAGS :=
endif

CFLAGS_ALL := $(CFLAGS_BASE) $(SANFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

# One static library per layer (build/librp_LAYER.a).  libcore.a, the
# protocol core without I/O (proto + crypto, and the monotonic clock of
# base they read), is what the tools, the micro-benchmarks and the fuzzers
# link.
LAYER_SRCS = $(wildcard src/$(1)/*.c)
CORE_SRCS := $(wildcard src/crypto/*.c src/proto/*.c) src/base/rp_clock.c
ifneq ($(CRYPTO),ipsecmb)
  CORE_SRCS := $(filter-out %_ipsecmb.c,$(CORE_SRCS))
endif
# Build-time choices of the process layer: one of each pair.
PROCESS_OUT := $(if $(filter on,$(METRICS)),%/rp_metrics_nohttp.c,%/rp_metrics_http.c %/rp_mhd.c)
LAYER_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(PROCESS_OUT) \
	$(if $(filter ipsecmb,$(CRYPTO)),,%_ipsecmb.c),$(call LAYER_SRCS,$(1))))
# The fixed-base Diffie-Hellman tables, computed at build time by a program
# built for this machine (HOSTCC: cross builds too), are read-only data of
# the crypto layer.
HOSTCC ?= cc
DH_TAB_C := $(BUILD)/gen/crypto_dh_tab.c
DH_TAB_O := $(BUILD)/gen/crypto_dh_tab.o
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(DH_TAB_O)
LAYER_LIBS := $(LAYERS:%=$(BUILD)/librp_%.a)
PROGS := $(BUILD)/ringpiped $(BUILD)/ringpipe
TOOLS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))
UNIT := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all layers test test-build asan tsan fuzz bench bench-quick bench-micro \
	demo install clean deps soak deb arm64 deb-arm64

all: $(BUILD)/libcore.a $(PROGS) $(TOOLS)

# What each layer's library takes from the others; fails on a call that
# runs upward or sideways (scripts/layers.sh).
layers: $(LAYER_LIBS)
	@bash scripts/layers.sh $(LAYER_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/gen/gen_dh_table: scripts/gen_dh_table.c src/crypto/crypto_dh_table.c \
		src/crypto/crypto_dh_table.h
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -Wall -Wextra -Werror -Isrc/crypto -o $@ \
		scripts/gen_dh_table.c src/crypto/crypto_dh_table.c -lcrypto

$(DH_TAB_C): $(BUILD)/gen/gen_dh_table
	$< >$@.tmp && mv $@.tmp $@

$(DH_TAB_O): $(DH_TAB_C)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/librp_crypto.a: $(DH_TAB_O)

$(BUILD)/libcore.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(foreach l,$(LAYERS),$(eval $(BUILD)/librp_$(l).a: $(call LAYER_OBJS,$(l))))
$(LAYER_LIBS):
	@rm -f $@
	ar rcs $@ $^

# The programs link the layers top down; make layers (part of test-build)
# refuses a call that runs against that order.
$(BUILD)/ringpiped $(BUILD)/ringpipe: $(BUILD)/%: $(BUILD)/src/%.o $(LAYER_LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

TOOLLIB_SRCS := $(wildcard tools/lib/*.c)
TOOLLIB_OBJS := $(TOOLLIB_SRCS:%.c=$(BUILD)/%.o)
# The load generator and targets are built for the machine they run on: its
# checksum stream (tl_prng) is 3x cheaper with the host's SIMD, which keeps
# the measuring tools' share of the cores small.  TOOL_ARCH= to disable.
TOOL_ARCH ?= -march=native
$(TOOLLIB_OBJS): CFLAGS_ALL += $(TOOL_ARCH)

$(BUILD)/tools/%: tools/%.c $(TOOLLIB_OBJS) $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itools -Itools/lib -o $@ $< $(TOOLLIB_OBJS) \
		$(BUILD)/libcore.a $(LDFLAGS_ALL) $(LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(LAYER_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(LAYER_LIBS) \
		$(LDFLAGS_ALL) $(LIBS) -lcmocka

# Helper programs for the tests (tests/helpers/): rp-nouring runs a program
# under a seccomp filter that blocks io_uring (the epoll run of make test);
# rp-fault.so is an LD_PRELOAD shim that fails one chosen call once
# (t_fault_fatal.sh).  Built without the sanitizers: they only set up the
# filter and exec, or pass calls on.
HELPERS := $(BUILD)/tests/rp-nouring $(BUILD)/tests/rp-fault.so
$(BUILD)/tests/rp-nouring: tests/helpers/rp_nouring.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -o $@ $< $(LDFLAGS)
$(BUILD)/tests/rp-fault.so: tests/helpers/rp_fault.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -fPIC -shared -o $@ $< $(LDFLAGS) -ldl

test-build: all layers $(UNIT) $(HELPERS)

deps:
	@bash ci/deps.sh

# Unit tests first, then the integration tests against stock spiped, once
# per engine run: TEST_ENGINES="auto epoll" (auto: as the programs are;
# epoll: every ringpiped/ringpipe under rp-nouring, io_uring blocked).
# make test TEST_ENGINES=epoll runs only the epoll suite.
TEST_ENGINES ?= auto epoll
test: deps
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) RUN_ENGINES="$(TEST_ENGINES)" bash tests/run.sh $(UNIT) $(sort $(wildcard tests/integ/t_*.sh))

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=asan CC=clang test-build
	@BUILD=build-asan SAN=asan CC=clang RUN_ENGINES="$(TEST_ENGINES)" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		bash tests/run.sh $(patsubst $(BUILD)/%,build-asan/%,$(UNIT)) \
		$(if $(ASAN_TESTS),$(ASAN_TESTS:%=tests/integ/%.sh),\
		$(sort $(wildcard tests/integ/t_*.sh)))

tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan SAN=tsan CC=clang test-build
	@BUILD=build-tsan SAN=tsan CC=clang RUN_ENGINES="$(TEST_ENGINES)" \
		TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		bash tests/run.sh $(if $(TSAN_TESTS),$(TSAN_TESTS:%=tests/integ/%.sh),\
		$(sort $(wildcard tests/integ/t_*.sh)))

# Mixed load with tampering and resets for SOAK_SECONDS (tests/soak.sh).
SOAK_SECONDS ?= 60
soak: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) SOAK_SECONDS=$(SOAK_SECONDS) bash tests/soak.sh

# Google benchmark micro-benchmarks: every bench/micro_*.cc in one binary.
MICRO_SRCS := $(wildcard bench/micro_*.cc)
$(BUILD)/bench_micro: $(MICRO_SRCS) $(BUILD)/libcore.a
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -Isrc -Isrc/crypto \
		-Isrc/proto $(filter -DRP_% -DNO_%,$(CFLAGS_BASE)) -o $@ \
		$(MICRO_SRCS) $(BUILD)/libcore.a -lbenchmark -lbenchmark_main $(LIBS)

bench-micro: deps
	@$(MAKE) --no-print-directory $(BUILD)/bench_micro
	$(BUILD)/bench_micro $(BENCH_ARGS)

# libFuzzer targets: tests/fuzz/fuzz_*.c, each with its seed corpus in
# tests/fuzz/corpus/<name>/.  FUZZ_SECONDS bounds each run.
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# The configuration-file reader (process layer, no I/O but its one read)
# is fuzzed too.
FUZZ_CORE_SRCS := $(CORE_SRCS) src/process/rp_conf.c
build-fuzz/%: tests/fuzz/%.c $(FUZZ_CORE_SRCS) $(DH_TAB_C)
	@mkdir -p build-fuzz
	clang -std=gnu11 -O1 -g -D_GNU_SOURCE -Isrc -Isrc/crypto -Isrc/proto -Isrc/process -Isrc/base \
		$(filter -DRP_% -DNO_%,$(CFLAGS_BASE)) \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_CORE_SRCS) \
		$(DH_TAB_C) $(LIBS)

fuzz: deps $(FUZZ_NAMES:%=build-fuzz/%)
	@set -e; for f in $(FUZZ_NAMES); do \
		mkdir -p tests/fuzz/corpus-work/$$f; \
		echo "fuzz: $$f for $(FUZZ_SECONDS)s"; \
		build-fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			tests/fuzz/corpus-work/$$f tests/fuzz/corpus/$$f; \
	done

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash scripts/demo.sh

MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/ringpiped
install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 0644 man/ringpiped.1 man/ringpipe.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/ringpiped.conf.5 $(DESTDIR)$(MANDIR)/man5/
	for u in 'ringpiped@.service' ringpiped-config.service; do \
		sed 's|/usr/bin/ringpiped|$(PREFIX)/bin/ringpiped|' "systemd/$$u" \
			>"$(DESTDIR)$(UNITDIR)/$$u" && chmod 0644 "$(DESTDIR)$(UNITDIR)/$$u" || exit 1; \
	done
	install -m 0644 'systemd/ringpiped@.socket' '$(DESTDIR)$(UNITDIR)/'
	install -m 0644 systemd/example.conf systemd/ringpiped.conf $(DESTDIR)$(DOCDIR)/examples/

# make deb: ringpiped_<version>_<arch>.deb in $(DEB_BUILD)/, from programs
# built there with Debian's hardening flags (dpkg-buildflags), packaged by
# scripts/mkdeb.sh with dpkg-deb (tests/integ/t_ship.sh lints, installs and
# removes it).
DEB_BUILD ?= build-deb
DEB_FLAGS = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
deb:
	@$(MAKE) --no-print-directory BUILD=$(DEB_BUILD) \
		CFLAGS="$$($(DEB_FLAGS) CFLAGS) $$($(DEB_FLAGS) CPPFLAGS)" \
		LDFLAGS="$$($(DEB_FLAGS) LDFLAGS)" $(DEB_BUILD)/ringpiped $(DEB_BUILD)/ringpipe
	@bash scripts/mkdeb.sh $(DEB_BUILD) $(DEB_BUILD)

# make arm64: everything (programs, unit tests, tools) cross-built for
# aarch64 with Debian's gcc-aarch64-linux-gnu and the arm64 -dev packages
# from multiarch (ci/deps.sh installs them), the OpenSSL backend and no
# -march=native.  tests/integ/t_arm64.sh runs it under qemu-aarch64-static.
ARM64_BUILD ?= build-arm64
ARM64_CC ?= aarch64-linux-gnu-gcc
arm64:
	@PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
		$(MAKE) --no-print-directory BUILD=$(ARM64_BUILD) CC=$(ARM64_CC) \
		CRYPTO=openssl TOOL_ARCH= CFLAGS="$$($(DEB_FLAGS) CFLAGS) $$($(DEB_FLAGS) CPPFLAGS)" \
		LDFLAGS="$$($(DEB_FLAGS) LDFLAGS)" test-build
deb-arm64: arm64
	@STRIP=aarch64-linux-gnu-strip bash scripts/mkdeb.sh $(ARM64_BUILD) $(ARM64_BUILD) arm64

clean:
	rm -rf build build-asan build-tsan build-fuzz build-bench build-deb build-arm64

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# End-to-end comparison against stock spiped (bench/compare.py): tables on
# the terminal, JSON and a PNG chart in bench/out/.  RINGPIPED=path and
# SPIPED=path choose the daemons; without $(BUILD)/ringpiped it runs stock vs
# stock and says so.  bench: about 6 min, bench-quick: under 2 min.
bench bench-quick:
	@$(MAKE) --no-print-directory $(TOOLS)
	@$(MAKE) --no-print-directory all || \
		echo "bench: 'make all' failed; benchmarking the binaries that exist"
	@ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
		BUILD=$(BUILD) python3 bench/compare.py --build $(BUILD) \
		$(if $(filter bench-quick,$@),--quick)
