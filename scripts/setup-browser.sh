#!/usr/bin/env bash
# Installs Debian's chromium for the frontend's browser tests (driven by Playwright through
# executable_path; Playwright's own browser download is never used). Missing chromium only makes
# those tests skip (or fail under HACHO_REQUIRE_SERVICES=1), so this never fails the set-up.
set -uo pipefail
for candidate in chromium chromium-browser; do
  if command -v "$candidate" >/dev/null 2>&1; then
    exit 0
  fi
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
fi
echo "warning: chromium is not installed; the frontend's browser tests will skip" >&2
exit 0
