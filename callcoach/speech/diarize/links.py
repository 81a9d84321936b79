"""Pairs of pieces that the mono diarizer's clustering keeps apart (:mod:`callcoach.speech.diarize.embedded`).

A piece is ``(window, local speaker, first frame, end frame)`` of the segmentation model's output. Two
pieces of one 10 s window on different local tracks were heard by the model as different voices: when
they sound at the same time they must be different people (a cannot-link); when they do not, they are
probably different people, and their distance is raised by a fixed amount rather than forbidden (the
model also splits one person over two tracks now and then). This is pyannote's own constraint (the local
speakers of one chunk go to different clusters) in a soft form.
"""

from __future__ import annotations

import numpy as np


def _condensed(n: int, i: int, j: int) -> int:
    lo, hi = min(i, j), max(i, j)
    return n * lo - lo * (lo + 1) // 2 + (hi - lo - 1)


def piece_links(pieces: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(cannot-links, other-track pairs): condensed-distance indices of the piece pairs of one window on
    different local tracks heard at the same time, and of those heard at different times."""
    n = len(pieces)
    by_window: dict[int, list[int]] = {}
    for i, (w, _k, _a, _b) in enumerate(pieces):
        by_window.setdefault(w, []).append(i)
    cannot, apart = [], []
    for members in by_window.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                (_, ki, ai, bi), (_, kj, aj, bj) = pieces[i], pieces[j]
                if ki == kj:
                    continue
                if ai < bj and aj < bi:
                    cannot.append(_condensed(n, i, j))
                else:
                    apart.append(_condensed(n, i, j))
    return np.array(cannot, dtype=np.int64), np.array(apart, dtype=np.int64)
