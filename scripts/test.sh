#!/usr/bin/env bash
# Installs callcoach (scripts/setup.sh) and runs the test suite (slow tests excluded; add -m slow for them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
