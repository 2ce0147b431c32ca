#!/bin/sh
# Build the libFuzzer targets in fuzz/ with clang (ASan + UBSan) and run each
# for RUNS executions from a seed corpus of the test data.
#   scripts/fuzz.sh [RUNS]
set -eu
RUNS=${1:-1000000}
OUT=build/fuzz
mkdir -p "$OUT"
CC=clang
CFLAGS="-std=c17 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
SRCS=$(ls src/base/*.c src/spec/*.c)

for target in fuzz/*.c; do
	name=$(basename "$target" .c)
	echo "fuzz: building $name"
	# shellcheck disable=SC2086
	$CC $CFLAGS $SRCS "$target" -lyaml -ljansson -lm -o "$OUT/$name"
	corpus="$OUT/corpus-$name"
	mkdir -p "$corpus"
	cp tests/data/spec/valid/*.yaml tests/data/spec/invalid/*.yaml tests/data/spec/render/*.yaml "$corpus"/ 2>/dev/null || true
	echo "fuzz: running $name for $RUNS executions"
	"$OUT/$name" -runs="$RUNS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-dict=fuzz/spec.dict -artifact_prefix="$OUT/$name-" -print_final_stats=1 "$corpus" \
		2>&1 | tee "$OUT/$name.log" | grep -E '^(#[0-9]+[[:space:]]*(DONE|INITED)|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' || true
	if grep -q 'ERROR:' "$OUT/$name.log"; then
		echo "fuzz: $name found a crash; see $OUT/$name.log and $OUT/$name-crash-*"
		exit 1
	fi
done
