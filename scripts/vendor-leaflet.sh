#!/usr/bin/env bash
# Installs the browser libraries from the npm registry (package-lock.json) and copies them to where the
# frontend serves them (frontend/static/vendor, git-ignored): Leaflet's dist/ to vendor/leaflet, and hls.js's
# light ES module to vendor/hls (live video's HLS fallback). Without npm the map is drawn as SVG over the
# offline base map of Ceuta (frontend/static/basemap) and live video has no HLS fallback (the websocket path still plays), so this
# never fails the install.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found; the map is drawn without Leaflet, live video has no HLS fallback" >&2
  exit 0
fi
if ! npm ci --omit=dev --no-audit --no-fund --loglevel=error; then
  echo "warning: npm ci failed; the map is drawn without Leaflet, live video has no HLS fallback" >&2
  exit 0
fi
rm -rf frontend/static/vendor/leaflet frontend/static/vendor/hls
mkdir -p frontend/static/vendor/hls
cp -r node_modules/leaflet/dist frontend/static/vendor/leaflet
cp node_modules/hls.js/dist/hls.light.min.mjs node_modules/hls.js/LICENSE frontend/static/vendor/hls/
