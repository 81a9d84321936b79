"""The per-leg energy VAD that makes the AWS calls' reference (scripts/make_leg_rttm.py), on synthetic legs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from make_leg_rttm import leg_rttm, leg_speech

SR = 8000


def _leg(bursts: list[tuple[float, float]], duration_s: float = 10.0, seed: int = 0) -> np.ndarray:
    """Noise at -70 dBFS with a 300 Hz tone at -12 dBFS over each (start_s, end_s) burst."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 10 ** (-70 / 20), int(duration_s * SR))
    t = np.arange(len(x)) / SR
    for a, b in bursts:
        on = (t >= a) & (t < b)
        x[on] += np.sqrt(2) * 10 ** (-12 / 20) * np.sin(2 * np.pi * 300 * t[on])
    return x.astype(np.float32)


def test_bursts_found_at_their_times() -> None:
    runs = leg_speech(_leg([(1.0, 2.5), (5.0, 6.0)]), SR)
    assert runs == [(1.0, 2.5), (5.0, 6.0)]


def test_short_gap_filled_and_click_dropped() -> None:
    # a 0.2 s pause inside a phrase is filled (under 0.3 s); a 0.1 s click is dropped (under 0.15 s)
    runs = leg_speech(_leg([(1.0, 2.0), (2.2, 3.0), (7.0, 7.1)]), SR)
    assert runs == [(1.0, 3.0)]


def test_rttm_names_agent_left_customer_right(tmp_path: Path) -> None:
    path = tmp_path / "call.flac"
    sf.write(path, np.stack([_leg([(1.0, 2.0)]), _leg([(3.0, 4.5)], seed=1)], axis=1), SR)
    lines = [line.split() for line in leg_rttm(path).splitlines()]
    assert [(p[1], float(p[3]), float(p[4]), p[7]) for p in lines] == [
        ("call", 1.0, 1.0, "agent"),
        ("call", 3.0, 1.5, "customer"),
    ]


def test_mono_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "mono.flac"
    sf.write(path, _leg([(1.0, 2.0)]), SR)
    with pytest.raises(SystemExit, match="1 channel"):
        leg_rttm(path)
