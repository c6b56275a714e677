#!/usr/bin/env bash
# Server test dependencies: Debian's PostgreSQL (initdb/pg_ctl) when missing. The tests start
# and stop their own cluster on a loopback port in a temp directory (tests/backends/).
set -euo pipefail
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  "$(dirname "$0")/apt-install.sh" postgresql  # waits for the dpkg lock if another apt holds it
fi
