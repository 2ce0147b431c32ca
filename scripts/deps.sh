#!/bin/sh
# Install the Debian packages Gantry needs to build, test and run.
# Idempotent: returns at once when everything is present (one dpkg-query).
set -eu

PKGS="make gcc clang libc6-dev libyaml-dev libjansson-dev libcmocka-dev pkg-config git
      libmicrohttpd-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev libssl-dev libpcre2-dev curl python3 wrk
      chromium"

# Node.js and npm build the web portal: Debian's only where there is none (a
# newer one installed otherwise is kept; Debian's npm would displace it).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
		|| missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done" >&2
