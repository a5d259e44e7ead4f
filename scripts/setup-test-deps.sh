#!/usr/bin/env bash
# Installs the system pieces the test suite talks to, when they are missing.
# Mosquitto and PostgreSQL are started by the machine before a session; this only
# installs what a fresh machine may lack (mosquitto binary for tests that run their own broker).
set -euo pipefail
need=()
# /usr/sbin is not on every user's PATH; tests/integrations/mqtt/conftest.py looks there too.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
# pdftotext and pdfimages: tests read back the incident PDF report (tests/frontend/test_incidents.py).
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "warning: missing ${need[*]}; tests needing them will skip" >&2
  fi
fi
# Chromium for the frontend browser tests (never fails the set-up).
bash "$(dirname "$0")/setup-browser.sh"
# axe-core for the accessibility tests (tests/frontend/test_a11y.py reads node_modules/axe-core/axe.min.js;
# a devDependency: scripts/vendor-leaflet.sh installs without it, and nothing copies it where the hub serves files).
if command -v npm >/dev/null 2>&1; then
  (cd "$(dirname "$0")/.." && npm ci --include=dev --no-audit --no-fund --loglevel=error) \
    || echo "warning: npm ci failed; the accessibility tests will skip" >&2
else
  echo "warning: npm not found; the accessibility tests will skip" >&2
fi
