#!/usr/bin/env bash
# Installs Leaflet from the npm registry (package-lock.json) and copies its dist/ to where the
# frontend serves it (frontend/static/vendor/leaflet). Without npm the map is drawn as SVG over
# the offline base map of Ceuta (frontend/static/basemap), so this never fails the install.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found; the map is drawn without Leaflet" >&2
  exit 0
fi
if ! npm ci --omit=dev --no-audit --no-fund --loglevel=error; then
  echo "warning: npm ci failed; the map is drawn without Leaflet" >&2
  exit 0
fi
rm -rf frontend/static/vendor/leaflet
mkdir -p frontend/static/vendor
cp -r node_modules/leaflet/dist frontend/static/vendor/leaflet
