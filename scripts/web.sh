#!/bin/sh
# Build the web portal (web/ → web/dist) when Node.js is here; `make` runs it.
#
# Incremental: `npm ci` runs only when web/package-lock.json is newer than the
# last install, the Vite build only when a source is newer than web/dist.
# Without Node.js (scripts/deps.sh installs Debian's when there is none) or
# with one too old for Vite, it says so and returns 0: the server then runs
# with the API only.
set -eu
cd "$(dirname "$0")/../web"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "web: Node.js/npm not found: the portal is not built (the server serves the API only)" >&2
	exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 18 ]; then
	echo "web: Node.js $(node --version) is too old (the portal needs 18 or later): not built" >&2
	exit 0
fi

stamp=node_modules/.gantry-npm-ci
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
	echo "web: npm ci" >&2
	npm ci --no-audit --no-fund --loglevel=error >&2
	touch "$stamp"
fi

if [ -f dist/index.html ] && [ -z "$(find src public index.html vite.config.ts tsconfig.json \
	package.json "$stamp" -newer dist/index.html -print 2>/dev/null | head -n1)" ]; then
	exit 0   # up to date
fi
echo "web: building the portal" >&2
# build beside dist/, then swap: servers and tests using dist/ never see it half-written
rm -rf .dist-new .dist-old
GANTRY_WEB_OUT=.dist-new npm run --silent build
[ -d dist ] && mv dist .dist-old
mv .dist-new dist
rm -rf .dist-old
