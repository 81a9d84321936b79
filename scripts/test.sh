#!/usr/bin/env bash
# Installs callcoach (scripts/setup.sh) and what the tests need (scripts/setup_test.sh), then runs the
# linter (ruff, configured in pyproject.toml) and the test suite of the default install (slow tests
# excluded; add -m slow for them). The optional pyannote backend has its own command,
# scripts/test_pyannote.sh, since its torch install is several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_test.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
