#!/usr/bin/env bash
# Adds what the test suite needs to the lean install of scripts/setup.sh: system packages (espeak-ng,
# flite and sox render the synthetic test calls; Chromium drives the browser tests), and the `dev`
# (pytest, playwright, ruff) and `ray` (the Ray engine's tests) extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

APT_PACKAGES=(espeak-ng flite sox libsox-fmt-all chromium chromium-driver)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing system packages for the tests: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=".venv/.callcoach-test-installed"
want="$(sha1sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing the test extras (dev, ray) into .venv"
  .venv/bin/python -m pip install -q -e ".[dev,ray]"
  echo "$want" > "$stamp"
fi
