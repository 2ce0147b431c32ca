#!/bin/sh
# `make run`: start the platform with the embedded default (this machine is
# the only node; data under ./var or $GANTRY_DATA).
set -eu
G=${1:-build/gantry}
if "$G" help server >/dev/null 2>&1; then
	shift; exec "$G" server "$@"
fi
echo "make run: this build has no server yet; here is what gantry can do:" >&2
"$G" help
