#!/bin/sh
# The server's black-box suites (tests/e2e/api/*.test.mjs, node:test): each
# starts real `gantry server` processes on free loopback ports with fresh
# data directories. OpenPAI's SDK comes from npm (npm ci, lockfile committed).
# Prints node's TAP, then "N passed, N failed".
set -u
cd "$(dirname "$0")"
if [ ! -d node_modules/@microsoft/openpai-js-sdk ]; then
	if ! npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1; then
		cat npm.log
		echo "0 passed, 1 failed"
		exit 1
	fi
	rm -f npm.log
fi
out=$(node --test --test-reporter=tap --test-concurrency=2 api/ 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(not )?ok |^# (pass|fail)|^  (error|expected|actual|location):' | grep -v '^ok .*# SKIP' || true
pass=$(printf '%s\n' "$out" | sed -n 's/^# pass \([0-9]*\)$/\1/p' | tail -n1)
fail=$(printf '%s\n' "$out" | sed -n 's/^# fail \([0-9]*\)$/\1/p' | tail -n1)
[ -z "$pass" ] && { printf '%s\n' "$out" | tail -n 40; pass=0; fail=1; }
echo "${pass:-0} passed, ${fail:-0} failed"
[ "$rc" -eq 0 ] && [ "${fail:-0}" -eq 0 ]
