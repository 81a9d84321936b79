#!/usr/bin/env python3
"""Reference RTTM of a two-leg stereo call from an energy VAD on each channel.

When the agent and the caller were recorded as separate legs (one party per
channel, as in ``audio_samples/real/calls/aws_auto_repairs_{40,49}.flac``),
a channel's speech is that party's speech, so their mono mix can be scored
against it. The VAD is deliberately independent of callcoach's own
``ChannelDiarizer``: 10 ms frames at the file's own sample rate; a frame is
speech when its level is 15 dB over the channel's noise floor (10th
percentile of frame levels) and no more than 40 dB under its speech level
(98th percentile); gaps under 0.3 s are filled (pauses inside a phrase),
runs under 0.15 s dropped (clicks). Channel 0 is ``agent``, channel 1
``customer``. Writes ``<file>.rttm`` beside each file.

    python scripts/make_leg_rttm.py                 # the two AWS calls
    python scripts/make_leg_rttm.py call.flac ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from callcoach.speech.frames import frame_db, mask_runs

ROOT = Path(__file__).resolve().parents[1]
CALLS = ROOT / "audio_samples" / "real" / "calls"
DEFAULT = [CALLS / "aws_auto_repairs_40.flac", CALLS / "aws_auto_repairs_49.flac"]
ROLES = ("agent", "customer")  # channel 0, channel 1


def leg_speech(
    x: np.ndarray,
    sample_rate_hz: int,
    *,
    frame_s: float = 0.01,
    over_floor_db: float = 15.0,
    under_top_db: float = 40.0,
    fill_s: float = 0.3,
    min_s: float = 0.15,
) -> list[tuple[float, float]]:
    """Speech of one channel ``x`` (n,) as (start_s, end_s) runs."""
    level_db = frame_db(x, int(sample_rate_hz * frame_s))
    floor_db, top_db = np.percentile(level_db, 10), np.percentile(level_db, 98)
    runs: list[list[int]] = []
    for a, b in mask_runs(level_db > max(floor_db + over_floor_db, top_db - under_top_db)):
        if runs and (a - runs[-1][1]) * frame_s < fill_s:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    return [(a * frame_s, b * frame_s) for a, b in runs if (b - a) * frame_s >= min_s]


def leg_rttm(path: Path) -> str:
    """RTTM text (uri = file stem) of a stereo two-leg recording."""
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    if x.shape[1] != 2:
        raise SystemExit(f"{path}: {x.shape[1]} channel(s); a two-leg call needs 2 (agent left, caller right)")
    turns = [(a, b, role) for channel, role in enumerate(ROLES) for a, b in leg_speech(x[:, channel], sr)]
    turns.sort(key=lambda t: t[0])
    return "".join(f"SPEAKER {path.stem} 1 {a:.3f} {b - a:.3f} <NA> <NA> {role} <NA> <NA>\n" for a, b, role in turns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT, help="stereo two-leg recordings (default: the two AWS calls)")
    args = parser.parse_args()
    for path in args.files:
        out = path.with_suffix(".rttm")
        out.write_text(leg_rttm(path), encoding="utf-8")
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
