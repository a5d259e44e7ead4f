#!/usr/bin/env bash
# Runs the layer contract (lint-imports, .importlinter) and then the test suite with the project's
# virtual environment ($VENV, default .venv), and exits with pytest's own status (make would turn any
# failure into 2), naming it when it is not 0. A broken contract stops it before pytest with exit 4.
# Arguments go to pytest: bash scripts/run-tests.sh -k mqtt --durations=20
set -uo pipefail
cd "$(dirname "$0")/.."
python="${VENV:-.venv}/bin/python"
if [ ! -x "$python" ]; then
  echo "run-tests: $python not found; run 'make install-dev' first" >&2
  exit 3
fi
# The import contract: hub/ imports nothing above it, no circles between the core's packages.
lint_imports="${VENV:-.venv}/bin/lint-imports"
if [ ! -x "$lint_imports" ]; then
  echo "run-tests: $lint_imports not found; run 'make install-dev' first" >&2
  exit 3
fi
if ! "$lint_imports" --no-cache --no-logo; then
  echo "run-tests: the import contract (.importlinter) is broken; see above (exit 4)" >&2
  exit 4
fi
"$python" -m pytest "$@"
rc=$?
case $rc in
  0) ;;
  1) echo "run-tests: some tests failed (pytest exit 1)" >&2 ;;
  2) echo "run-tests: pytest was interrupted or a test module did not import (pytest exit 2)" >&2 ;;
  5) echo "run-tests: pytest collected no tests (exit 5): check the arguments: $*" >&2 ;;
  *) echo "run-tests: pytest exited with $rc" >&2 ;;
esac
exit $rc
