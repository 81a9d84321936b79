#!/usr/bin/env bash
# Installs callcoach (scripts/setup.sh) and scores the bundled demo calls into reports_out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/callcoach score audio_samples --out reports_out "$@"
echo "demo: open reports_out/index.html"
