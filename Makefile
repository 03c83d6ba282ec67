# ringpiped: spiped-compatible secure pipe on io_uring.
#
#   make              build everything into $(BUILD)/
#   make test         install deps if missing, build, run all tests
#   make asan         the same tests under ASan + UBSan (build-asan/)
#   make tsan         the threaded tests under TSan (build-tsan/)
#   make fuzz         run each libFuzzer target for FUZZ_SECONDS
#   make bench-micro  Google benchmark micro-benchmarks
#   make bench        end-to-end comparison against stock spiped
#   make demo         a demo pipe on loopback
#   make install PREFIX=/usr/local [DESTDIR=]
#   make CRYPTO=openssl   build without Intel ipsec-mb (arm64 etc.)

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
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -luring -lcrypto)

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_BASE := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Isrc -Isrc/crypto \
	-Isrc/proto -Isrc/ring $(PKG_CFLAGS) -pthread
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

# The protocol core (no sockets) and the io_uring data plane.
CORE_SRCS := $(wildcard src/crypto/*.c src/proto/*.c)
ifneq ($(CRYPTO),ipsecmb)
  CORE_SRCS := $(filter-out %_ipsecmb.c,$(CORE_SRCS))
endif
RING_SRCS := $(wildcard src/ring/*.c)
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
RING_OBJS := $(RING_SRCS:%.c=$(BUILD)/%.o)
PROGS := $(BUILD)/ringpiped $(BUILD)/ringpipe
TOOLS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))
UNIT := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all test test-build asan tsan fuzz bench bench-quick bench-micro \
	demo install clean deps soak

all: $(BUILD)/libcore.a $(PROGS) $(TOOLS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libcore.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libring.a: $(RING_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ringpiped: $(BUILD)/src/ringpiped.o $(BUILD)/libring.a $(BUILD)/libcore.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/ringpipe: $(BUILD)/src/ringpipe.o $(BUILD)/libring.a $(BUILD)/libcore.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tools/%: tools/%.c $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itools -o $@ $< $(BUILD)/libcore.a $(LDFLAGS_ALL) $(LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcore.a $(BUILD)/libring.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(BUILD)/libring.a \
		$(BUILD)/libcore.a $(LDFLAGS_ALL) $(LIBS) -lcmocka

test-build: all $(UNIT)

deps:
	@bash ci/deps.sh

# Unit tests first, then the integration tests against stock spiped.
test: deps
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) bash tests/run.sh $(UNIT) $(sort $(wildcard tests/integ/t_*.sh))

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=asan CC=clang test-build
	@BUILD=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		bash tests/run.sh $(patsubst $(BUILD)/%,build-asan/%,$(UNIT)) \
		$(sort $(wildcard tests/integ/t_*.sh))

tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan SAN=tsan CC=clang test-build
	@BUILD=build-tsan TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		bash tests/run.sh $(sort $(wildcard tests/integ/t_*.sh))

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-asan build-tsan build-fuzz build-bench

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
