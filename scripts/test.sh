#!/usr/bin/env bash
# Installs callcoach (scripts/setup.sh) and the pyannote extra (scripts/setup_pyannote.sh; CALLCOACH_SKIP_PYANNOTE=1
# skips it), then the linter (ruff, configured in pyproject.toml) and the test suite (slow tests excluded; add -m slow
# for them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_pyannote.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
