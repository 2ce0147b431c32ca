#!/bin/sh
# The web portal's tests (tests/e2e/portal/*.test.mjs, node:test): the server
# serving it, and a real browser (Debian's chromium, headless, driven by
# playwright-core from npm, lockfile committed) using it against real
# `gantry server`s. Screenshots of every page, and of every failure, go to
# build/portal-shots/ ($PORTAL_SHOTS).
# Prints node's TAP, then "N passed, N failed" (", N skipped" when some
# scenarios cannot run here, e.g. the ones that need a server that runs jobs).
set -u
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
WEB=${GANTRY_WEB:-$ROOT/web/dist}
if ! command -v node >/dev/null 2>&1; then
	echo "portal: no Node.js here, so no portal and no browser tests (scripts/deps.sh installs it)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ ! -f "$WEB/index.html" ]; then
	echo "portal: $WEB/index.html is missing: build the portal first (make, or scripts/web.sh)"
	echo "0 passed, 1 failed"
	exit 1
fi
cd portal
stamp=node_modules/.gantry-npm-ci
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
	if ! npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1; then
		cat npm.log
		echo "0 passed, 1 failed"
		exit 1
	fi
	rm -f npm.log
	touch "$stamp"
fi
export GANTRY_WEB="$WEB"
# one file at a time (each starts its own servers and browser); Node 18 has no
# --test-concurrency
conc=""
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] && conc="--test-concurrency=1"
out=$(node --test --test-reporter=tap $conc ./*.test.mjs 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(not )?ok |^# (pass|fail|skip|info)|^ *# |^  (error|expected|actual|location|stack):' | grep -v '^ *# Subtest' || true
pass=$(printf '%s\n' "$out" | sed -n 's/^# pass \([0-9]*\)$/\1/p' | tail -n1)
fail=$(printf '%s\n' "$out" | sed -n 's/^# fail \([0-9]*\)$/\1/p' | tail -n1)
skip=$(printf '%s\n' "$out" | sed -n 's/^# skipped \([0-9]*\)$/\1/p' | tail -n1)
[ -z "$pass" ] && { printf '%s\n' "$out" | tail -n 60; pass=0; fail=1; }
if [ "${skip:-0}" -gt 0 ]; then
	echo "${pass:-0} passed, ${fail:-0} failed, ${skip} skipped"
else
	echo "${pass:-0} passed, ${fail:-0} failed"
fi
[ "$rc" -eq 0 ] && [ "${fail:-0}" -eq 0 ]
