#!/bin/sh
# Run every test and print one summary line: "N passed, N failed".
#
#   tests/run.sh BUILD [SANBUILD]
#
# BUILD/tests/test_*   cmocka unit tests (one binary per module)
# tests/e2e/*.sh       black-box tests against BUILD/gantry; each prints its
#                      own "N passed, N failed" as its last line
# SANBUILD/tests/*     the unit tests again under AddressSanitizer + UBSan
# Each binary runs with a timeout; a crash or timeout counts as a failure.
set -u
BUILD=${1:-build}
SAN=${2:-}
TIMEOUT=${TEST_TIMEOUT:-300}
passed=0
failed=0
failures=""

count() {   # count NAME LOGFILE RC
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -n1)
	if [ -z "$p$f" ]; then
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n1)
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	fi
	p=${p:-0}
	f=${f:-0}
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1   # crashed, timed out or leaked without a count
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures="$failures $1"
		echo "---- $1 (exit $3)"
		tail -n 40 "$2"
	fi
	printf '%-40s %4d passed, %d failed\n' "$1" "$p" "$f"
}

LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT

run_unit() {   # run_unit DIR LABEL
	GANTRY_BIN="$(cd "$1" && pwd)/gantry"   # the shim for test_exec
	export GANTRY_BIN
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		name="$2$(basename "$t")"
		log="$LOGDIR/$(echo "$name" | tr '/' '_').log"
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			timeout "$TIMEOUT" "$t" >"$log" 2>&1
		count "$name" "$log" $?
	done
}

run_unit "$BUILD" ""
for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	name="e2e/$(basename "$t" .sh)"
	log="$LOGDIR/e2e_$(basename "$t").log"
	GANTRY="$PWD/$BUILD/gantry" timeout "$TIMEOUT" sh "$t" >"$log" 2>&1
	count "$name" "$log" $?
done
if [ -n "$SAN" ]; then
	run_unit "$SAN" "asan+ubsan/"
fi

echo
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
