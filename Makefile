# Gantry — one binary, `gantry`.  See README.md.
#
#   make              build build/gantry, and the web portal (web/dist) when Node.js is here
#   make test         build and run every test, then the unit tests again under
#                     AddressSanitizer + UBSan; ends with "N passed, N failed"
#   make run          start the platform (installs what it needs first)
#   make bench        run the benchmarks under bench/
#   make fuzz         libFuzzer targets under fuzz/ (clang), FUZZ_RUNS executions each
#   make SANITIZER=address,undefined <target>   same targets, sanitized, in build/san
#
# Every target first runs scripts/deps.sh, which installs the Debian packages on a
# fresh machine and returns at once when they are present.

CC        ?= cc
SRCS      := $(sort $(wildcard src/*/*.c src/*/*/*.c))
LIB_SRCS  := $(SRCS)
TESTS     := $(basename $(notdir $(wildcard tests/unit/test_*.c)))
BENCHES   := $(basename $(notdir $(wildcard bench/*.c)))

VERSION   := 0.1.0
COMMIT    := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# BUILD and SANBUILD may be set on the command line (e.g. make BUILD=build/me
# SANBUILD=build/me-san test) so that several trees build side by side.
SANBUILD  ?= build/san
ifneq ($(SANITIZER),)
BUILD     ?= $(SANBUILD)
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZER) -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=$(SANITIZER)
else
BUILD     ?= build
OPT       := -O2 -g
endif

CFLAGS    += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla -Isrc $(OPT) -MMD -MP
LDLIBS    += -lmicrohttpd -lsqlite3 -lsodium -lcurl -lcrypto -lyaml -ljansson -lpcre2-8 -lpthread -ldl -lm

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libgantry.a

.PHONY: all deps test run bench fuzz clean web

all: $(BUILD)/gantry web

deps:
	@scripts/deps.sh

# The web portal, web/ → web/dist (served by gantry server at /), when Node.js
# is here; npm ci only when the lockfile changes, vite only when a source does.
web: deps
	@scripts/web.sh

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The version stamp is its own file, rewritten only when HEAD moves.
$(BUILD)/version.c: FORCE
	@mkdir -p $(dir $@)
	@printf 'const char gantry_version[] = "%s";\nconst char gantry_commit[] = "%s";\n' \
	    '$(VERSION)' '$(COMMIT)' > $@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(BUILD)/version.o: $(BUILD)/version.c | deps
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(filter-out $(BUILD)/src/main.o,$(LIB_OBJS)) $(BUILD)/version.o
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/gantry: $(BUILD)/src/main.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

test: $(BUILD)/gantry web $(TESTS:%=$(BUILD)/tests/%)
	@$(MAKE) --no-print-directory SANITIZER=address,undefined BUILD=$(SANBUILD) $(SANBUILD)/gantry \
	    $(TESTS:%=$(SANBUILD)/tests/%)
	@tests/run.sh $(BUILD) $(SANBUILD)

run: $(BUILD)/gantry web
	@scripts/run.sh $(BUILD)/gantry

bench: $(BUILD)/gantry $(BENCHES:%=$(BUILD)/bench/%)
	@for b in $(BENCHES); do echo "== bench/$$b"; $(BUILD)/bench/$$b || exit 1; done

FUZZ_RUNS ?= 1000000
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_RUNS)

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d)
