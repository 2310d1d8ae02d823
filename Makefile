# SPDX-License-Identifier: GPL-2.0-only
# netchaos build. `make` builds everything into build/, `make check` runs the
# whole test suite, `make install` honours PREFIX and DESTDIR. V=1 shows commands.

PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
SANITIZE  ?=

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:

PKGS      := libbpf libnl-3.0 libnl-route-3.0 json-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS  := $(shell pkg-config --libs $(PKGS)) -lelf -lz

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -I$(BUILD) -Iagent -Ilib $(PKG_CFLAGS)
ifneq ($(SANITIZE),)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=address,undefined
endif

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Iinclude -I$(BUILD) -Ibpf

LIB_SRC   := $(wildcard lib/*.c)
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
CLI_SRC   := $(wildcard cli/*.c)
BPF_SRC   := $(wildcard bpf/*.bpf.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
BPFT_SRC  := $(wildcard tests/bpf/test_*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
BPF_OBJ   := $(BPF_SRC:bpf/%.bpf.c=$(BUILD)/%.bpf.o)
SKELS     := $(BPF_SRC:bpf/%.bpf.c=$(BUILD)/%.skel.h)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BPFT_BIN  := $(BPFT_SRC:tests/bpf/%.c=$(BUILD)/tests/%)

all: $(BUILD)/netchaosd $(BUILD)/chaosctl
tests: $(UNIT_BIN) $(BPFT_BIN) $(BUILD)/tests/nc_hooks

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) $(wildcard include/netchaos/*.h)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/%.o: %.c $(SKELS) $(wildcard include/netchaos/*.h agent/*.h lib/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libnetchaos.a: $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libagent.a: $(AGENT_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/netchaosd: $(BUILD)/agent/main.o $(BUILD)/libagent.a $(BUILD)/libnetchaos.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/chaosctl: $(CLI_OBJ) $(BUILD)/libnetchaos.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libagent.a $(BUILD)/libnetchaos.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/%: $(BUILD)/tests/bpf/%.o $(BUILD)/libagent.a $(BUILD)/libnetchaos.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

# What tcx links attach in a namespace, for the tests' leftover checks.
$(BUILD)/tests/nc_hooks: $(BUILD)/tests/tools/nc_hooks.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The whole suite: unit, classifier, end-to-end on this kernel, then the VM.
check: all tests
	$(Q)tests/run-all.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/netchaosd $(DESTDIR)$(PREFIX)/sbin/netchaosd
	install -m 0755 $(BUILD)/chaosctl $(DESTDIR)$(PREFIX)/bin/chaosctl

clean:
	rm -rf $(BUILD)

.PHONY: all tests check install clean
.SECONDARY:

# ---- fuzzing (tests/fuzz): libFuzzer + ASan + UBSan, no kernel needed ----
# `make fuzz` runs each target for FUZZ_SECONDS; tests/fuzz/run.sh SECONDS is
# the short run of the test suite. Sources are compiled straight in, with
# clang, whatever CC the rest of the build uses.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_CFLAGS  := -g -O1 -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Iagent -Ilib $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_HDRS    := $(wildcard include/netchaos/*.h agent/*.h lib/*.h)
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_request $(FUZZ_DIR)/fuzz_http

$(FUZZ_DIR)/fuzz_request: tests/fuzz/fuzz_request.c agent/handlers.c agent/rule_table.c \
			  agent/log.c $(LIB_SRC) $(FUZZ_HDRS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS)

$(FUZZ_DIR)/fuzz_http: tests/fuzz/fuzz_http.c agent/http.c $(FUZZ_HDRS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(BUILD)

.PHONY: fuzz fuzz-build

# ---- Benchmarks (bench/, docs/benchmarks.md) --------------------------------
# `make bench`: the quick suite (about 3 minutes on 2 cores); `make bench-full`:
# longer runs, more repetitions. Both need root; results go to $(BUILD)/bench/.
# BENCH_ARGS passes options to bench/bench.sh (e.g. BENCH_ARGS=--no-vm).
NCB_TOOLS   := ncb_flood ncb_lat ncb_rtt ncb_client
NCB_BIN     := $(NCB_TOOLS:%=$(BUILD)/bench/%)
BENCH_BIN   := $(NCB_BIN) $(BUILD)/bench/bench_classifier $(BUILD)/bench/ncb_null
BENCH_ARGS  ?=

# the empty TC program (the hook's own cost), with a skeleton of its own
$(BUILD)/bench/ncb_null.bpf.o: bench/ncb_null.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/ncb_null.skel.h: $(BUILD)/bench/ncb_null.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/bench/ncb_null.o: bench/ncb.h $(BUILD)/bench/ncb_null.skel.h

$(BUILD)/bench/ncb_null: $(BUILD)/bench/ncb_null.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(NCB_TOOLS:%=$(BUILD)/bench/%.o) $(BUILD)/bench/bench_classifier.o: bench/ncb.h

$(NCB_BIN): $(BUILD)/bench/%: $(BUILD)/bench/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(BUILD)/bench/bench_classifier: $(BUILD)/bench/bench_classifier.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-tools: all $(BENCH_BIN) $(BUILD)/tests/nc_hooks

bench: bench-tools
	$(Q)bench/bench.sh --quick --build $(BUILD) $(BENCH_ARGS)

bench-full: bench-tools
	$(Q)bench/bench.sh --full --build $(BUILD) $(BENCH_ARGS)

.PHONY: bench bench-full bench-tools
