#!/usr/bin/env bash
# make e2e: build picbed, start the real local server on a free port with a
# temporary data directory, and drive its upload page in headless Chromium
# (Debian's chromium through playwright-core), then PicGo from npm with the
# web-uploader plugin (clients/picgo). Installs what is missing: chromium
# via apt-get (as root), playwright-core and PicGo via npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update && apt-get install -y --no-install-recommends chromium
	else
		echo "e2e: $CHROMIUM is missing: run 'apt-get install chromium' as root (or set CHROMIUM)" >&2
		exit 1
	fi
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update && apt-get install -y --no-install-recommends nodejs npm
	else
		echo "e2e: node and npm are needed: apt-get install nodejs npm" >&2
		exit 1
	fi
fi
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)
(cd clients/picgo && npm ci --no-audit --no-fund --loglevel=error)

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -tags nodynamic -o "$tmp/picbed" ./function
token="e2e-$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')"

# A free port is only free until someone binds it: another process may take
# it before picbed does. So wait for picbed's own "listening on" line (or its
# exit), and try another port when the bind found it taken. The minute is a
# hang guard for a loaded machine, not a timing.
for attempt in 1 2 3 4 5; do
	port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	env -u FC_RUNTIME_API PICBED_STORAGE=local PICBED_LISTEN="127.0.0.1:$port" PICBED_DATA_DIR="$tmp/data" \
		PICBED_TOKENS="$token" PICBED_PUBLIC_URL= "$tmp/picbed" >"$tmp/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q "listening on http://127.0.0.1:$port" "$tmp/server.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "listening on http://127.0.0.1:$port" "$tmp/server.log" && break
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
	if ! grep -q 'address already in use' "$tmp/server.log" || [ "$attempt" = 5 ]; then
		echo "e2e: picbed did not start:" >&2
		grep -v "$token" "$tmp/server.log" >&2
		exit 1
	fi
done

status=0
PICBED_URL="http://127.0.0.1:$port" PICBED_TOKEN="$token" CHROMIUM="$CHROMIUM" node e2e/page.test.mjs || status=1
# PicGo logs every step to stdout; keep only the checks.
PICBED_URL="http://127.0.0.1:$port" PICBED_TOKEN="$token" node clients/picgo/web-uploader.test.mjs >"$tmp/picgo.log" 2>&1 || status=1
grep -v "$token" "$tmp/picgo.log" | grep -E '^(ok|FAIL) |^picgo:' || { echo "e2e: the PicGo test printed no result:"; tail -20 "$tmp/picgo.log"; status=1; }
if [ "$status" != 0 ]; then
	echo "e2e: FAILED; server log:" >&2
	grep -v "$token" "$tmp/server.log" | tail -40 >&2
	exit 1
fi
