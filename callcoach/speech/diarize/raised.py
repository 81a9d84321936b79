"""Raised pieces kept out of the clustering: they join the nearest speaker afterwards.

A raised voice moves a CAM++ print about as far as a change of speaker does:
the same CREMA-D actor's neutral and angry sentence read 0.29 (actor 1002) and
0.63 (1001) in raw cosine, where two of the corpus's different voices read
0.34-0.52. With its raised turns in the clustering, a mono call with a
shouting customer split into {the agent and the calm customer} and {the raised
customer} (corpus mono c03 and c31: DER 0.30 and 0.32, roles wrong in c31).

A piece is raised when its solo speech is ``RAISED_PIECE_DB`` louder than the
median of the pieces on the same local track of the same 10 s window: the
segmentation model's local track is one person, so this compares a speaker
with themself, and a party who is simply louder on the line (their whole
track) is not raised. Raised pieces are left out of the clustering and each
joins the speaker whose centred mean print is nearest to its own.
"""

from __future__ import annotations

import numpy as np

from callcoach.speech.diarize.campp import cosine

RAISED_PIECE_DB = 5.0
# above this share of raised pieces the call is not "a few raised turns" and is clustered as it is
MAX_RAISED_SHARE = 0.25


def piece_levels_db(spans: dict[int, list[tuple[int, int]]], printed: list[int], x: np.ndarray) -> np.ndarray:
    """Level (dB of mean power) of each printed piece's solo stretches (``spans``: samples of ``x``)."""
    out = []
    for i in printed:
        power = [float(np.mean(np.square(x[a:b], dtype=np.float64))) for a, b in spans[i] if b > a]
        out.append(10.0 * np.log10(np.mean(power) + 1e-12) if power else -120.0)
    return np.array(out)


def raised_pieces(tracks: list[tuple[int, int]], levels_db: np.ndarray, raised_db: float = RAISED_PIECE_DB) -> np.ndarray:
    """Which pieces are ``raised_db`` louder than the median piece of their own (window, local track)."""
    by_track: dict[tuple[int, int], list[int]] = {}
    for i, key in enumerate(tracks):
        by_track.setdefault(key, []).append(i)
    raised = np.zeros(len(tracks), dtype=bool)
    for members in by_track.values():
        median = float(np.median(levels_db[members]))
        raised[members] = levels_db[members] > median + raised_db
    return raised


def join_nearest(prints: np.ndarray, labels: np.ndarray, clustered: np.ndarray) -> np.ndarray:
    """``labels`` with every piece not ``clustered`` given the label whose mean print, centred on the clustered
    pieces' mean, is nearest (cosine) to its own centred print."""
    out = labels.copy()
    centre = prints[clustered].mean(axis=0)
    centred = prints - centre
    ids = np.unique(labels[clustered])
    means = np.stack([centred[clustered & (labels == k)].mean(axis=0) for k in ids])
    others = np.flatnonzero(~clustered)
    out[others] = ids[np.argmax(cosine(centred[others][:, None, :], means[None, :, :]), axis=1)]
    return out
