"""Short two-party calls (3-5 s, flite voices) for batch tests and scripts/bench_batch.py.

Each TTS phrase is rendered once per process; calls differ by script, gain
and a seeded noise floor, so every file has its own content hash.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from callsynth.speech import RATE, place, say, write_wav

SCRIPTS = (
    ("Thanks for calling Brightwater, this is Anna.", "My bill is too high this month."),
    ("Hello, Kestrel Home Store, Tom speaking.", "I want to return a broken kettle."),
    ("Good morning, Halden Broadband, how can I help?", "My internet keeps dropping."),
)


@cache
def _clip(text: str, voice: str) -> np.ndarray:
    return say(text, voice=voice)


def short_call(index: int = 0, *, gain: float = 1.0, seed: int | None = None, agent_only: bool = False) -> np.ndarray:
    """A mono call: the agent greets, the customer answers (about 4-5 s; ~2.5 s with ``agent_only``)."""
    agent_text, customer_text = SCRIPTS[index % len(SCRIPTS)]
    agent = _clip(agent_text, "flite:slt")
    parts = [(0.2, agent)]
    if not agent_only:
        parts.append((0.45 + len(agent) / RATE, _clip(customer_text, "flite:kal")))
    signal = place(parts) * gain
    rng = np.random.default_rng(index if seed is None else seed)
    return (signal + rng.standard_normal(len(signal)).astype(np.float32) * 2e-4).astype(np.float32)


def write_short_call(path: Path, index: int = 0, **kwargs) -> Path:
    """Write :func:`short_call` as a 16 kHz 16-bit WAV (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_wav(path, short_call(index, **kwargs))
