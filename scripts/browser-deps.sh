#!/usr/bin/env bash
# Browser test dependencies: Debian's chromium (if /usr/bin/chromium is missing) and axe-core
# (vendored at test time into .test-assets/, which git ignores). Idempotent and quiet.
set -euo pipefail
AXE_VERSION="${AXE_VERSION:-4.10.3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ASSETS="$ROOT/.test-assets"

if [ ! -x /usr/bin/chromium ]; then
  "$ROOT/scripts/apt-install.sh" chromium  # waits for the dpkg lock if another apt holds it
fi

if [ ! -s "$ASSETS/axe.min.js" ] || ! grep -q "axe v$AXE_VERSION" "$ASSETS/axe.min.js"; then
  mkdir -p "$ASSETS"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null && tar -xzf "axe-core-$AXE_VERSION.tgz" package/axe.min.js)
  cp "$tmp/package/axe.min.js" "$ASSETS/axe.min.js"
fi
