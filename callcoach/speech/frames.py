"""Frame-level helpers that the diarizers, the line levels and the events share: one home for each."""

from __future__ import annotations

import numpy as np


def frame_db(x: np.ndarray, frame: int) -> np.ndarray:
    """Mean power (dB re full scale, +1e-12) of each whole frame of ``frame`` samples of ``x`` (1-D float)."""
    m = len(x) // frame
    frames = x[: m * frame].reshape(m, frame)  # a view: a float64 copy of an hour's channel was 0.46 GB, and its square as much
    return 10 * np.log10(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frame + 1e-12)


def mask_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` index pairs (end exclusive) of each run of true values in a 1-D mask."""
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))
