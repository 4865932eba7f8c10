#!/usr/bin/env bash
# make e2e-cms: the real picbed binary against real Ghost 5.130, WordPress 6.1
# and Gitea 1.26 on this machine. The CMSes come from ../shared/cms (run-all
# style scripts, idempotent: a first run installs and builds them, ~10 min;
# later runs reuse them); set PICBED_CMS_SHARED to point elsewhere. Not part
# of .ci/run: it needs root, apt, npm and a Gitea build.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${PICBED_CMS_SHARED:-}
if [ -z "$SHARED" ]; then
	for d in ../shared/cms ../../shared/cms; do [ -d "$d" ] && SHARED=$(cd "$d" && pwd) && break; done
fi
[ -n "$SHARED" ] && [ -x "$SHARED/run-all.sh" ] || { echo "e2e-cms: ../shared/cms not found; set PICBED_CMS_SHARED" >&2; exit 1; }
export CMS_DIR=${CMS_DIR:-/tmp/picbed-cms}

# Each is idempotent: a running CMS is reused.
up() { curl -s -o /dev/null -m 3 "$1"; }
up http://127.0.0.1:18081/wp-login.php || bash "$SHARED/wordpress/setup.sh"
{ up http://127.0.0.1:12368/ghost/api/admin/site/ && [ -s "$CMS_DIR/ghost/creds.json" ]; } || { bash "$SHARED/ghost/setup.sh" && python3 "$SHARED/ghost/ghost_api_test.py"; }
{ up http://127.0.0.1:13000/api/v1/version && [ -s "$CMS_DIR/gitea/token" ]; } || bash "$SHARED/gitea/setup.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# e2etest: the one build that lets E2ETEST_ALLOW_ORIGINS name a loopback
# test origin for the fetcher; no release build reads that variable.
go build -tags nodynamic,e2etest -o "$tmp/picbed" ./function
go run ./e2e/cms -bin "$tmp/picbed" -cms-dir "$CMS_DIR" "$@"
