"""Each speaker's baselines (level, pitch, pace) robust to a speaker raised for part of the call, and the
smoothed per-second tracks the report draws; see :mod:`callcoach.analysis.prosody`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from callcoach.analysis.pace import pace_spread, pace_wpm, rate_baseline, rate_wpm, speaking_time_s, split_words
from callcoach.analysis.prosody import (
    BASELINE_PERCENTILE,
    HOP_S,
    MIN_PIECE_FRAMES,
    PACE_MAX_PAUSE_S,
    PIECE_S,
    SPREAD_HALF_WIDTH_DB,
    SPREAD_HALF_WIDTH_ST,
    SPREAD_MIN_PIECES,
    SPREAD_PIECE_S,
    Baseline,
    SpeakerFrames,
    frame_index,
)
from callcoach.records import ProsodyTrack, SpeechSegment, Turn, Word
from callcoach.settings import EventThresholds

# --------------------------------------------------------------------------- baselines


def pieces(segments: Sequence[SpeechSegment], piece_s: float = PIECE_S) -> list[tuple[float, float]]:
    """Segments split into equal pieces of at most ``piece_s`` seconds."""
    out = []
    for seg in segments:
        k = max(1, int(math.ceil(seg.duration_s / piece_s)))
        step = seg.duration_s / k
        out += [(seg.start_s + j * step, seg.start_s + (j + 1) * step) for j in range(k)]
    return out


def nan_median(values: np.ndarray, min_count: int = 1) -> float | None:
    v = values[~np.isnan(values)]
    return float(np.median(v)) if v.size >= min_count else None


def level_baseline(frames: SpeakerFrames, segments: Sequence[SpeechSegment]) -> tuple[float | None, float | None]:
    """(loudness dBFS, pitch Hz): the ``BASELINE_PERCENTILE``-th percentile of piece medians,
    each piece weighted by its measured frames (see :func:`weighted_percentile`)."""
    loud: list[tuple[float, int]] = []
    pitch: list[tuple[float, int]] = []
    for a, b in pieces(segments):
        i, j = frame_index(a), frame_index(b)
        for values, out in ((frames.loudness_db[i:j], loud), (frames.pitch_hz[i:j], pitch)):
            m = nan_median(values, MIN_PIECE_FRAMES)
            if m is not None:
                out.append((m, int(np.count_nonzero(~np.isnan(values)))))
    lb = weighted_percentile(loud, BASELINE_PERCENTILE) if loud else nan_median(frames.loudness_db)
    pb = weighted_percentile(pitch, BASELINE_PERCENTILE) if pitch else nan_median(frames.pitch_hz)
    return lb, pb


def weighted_percentile(values_weights: Sequence[tuple[float, float]], q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q`` percent of the total.

    Pieces are weighted by how much speech they hold, so a fraction of a
    second that the diarizer gave this speaker at a turn change (often the
    other party's first words, at the other party's level) cannot set the
    baseline, and the result is one real piece's level, never a blend.
    """
    ordered = sorted(values_weights)
    weights = np.cumsum([w for _, w in ordered], dtype=np.float64)
    k = int(np.searchsorted(weights, weights[-1] * q / 100.0))
    return float(ordered[min(k, len(ordered) - 1)][0])


def pace_baseline(frames: SpeakerFrames | None, turns: Sequence[Turn], min_words: int = 4) -> float | None:
    """Median pace (words/min) over the speaker's turn pieces of >= ``min_words`` words and >= 1 s."""
    paces = []
    for turn in turns:
        for piece in split_words(turn.words):
            if len(piece) >= min_words and speaking_time_s(piece, PACE_MAX_PAUSE_S) >= 1.0:
                p = pace_wpm(piece, frames)
                if p is not None:
                    paces.append(p)
    return float(np.median(paces)) if paces else None


def spread(values: Sequence[float], centre: float, half_width: float, min_count: int = SPREAD_MIN_PIECES) -> float | None:
    """A robust standard deviation of a speaker's ordinary speech: 1.4826 x the median absolute deviation of
    the ``values`` within ``half_width`` of ``centre`` (their baseline). Values further out are left out
    because a speaker can be raised for most of a call (the angry demo customers: two thirds of their
    speech), which would widen any spread of all their speech. None for fewer than ``min_count`` values
    (too little speech to tell); 0 when fewer than 3 of them are near the centre."""
    if len(values) < min_count:
        return None
    near = np.array([v for v in values if abs(v - centre) <= half_width])
    if near.size < 3:
        return 0.0
    return float(1.4826 * np.median(np.abs(near - np.median(near))))


def level_spread(frames: SpeakerFrames, segments: Sequence[SpeechSegment], base: tuple[float | None, float | None],
                 half_width: tuple[float, float] = (SPREAD_HALF_WIDTH_DB, SPREAD_HALF_WIDTH_ST)) -> tuple[float | None, float | None]:
    """(loudness dB, pitch semitones): :func:`spread` of the medians of ``SPREAD_PIECE_S`` pieces of speech
    around the baseline ``base`` (dBFS, Hz), the scale of a sustained stretch (an event needs that much)."""
    loud: list[float] = []
    pitch: list[float] = []
    for a, b in pieces(segments, SPREAD_PIECE_S):
        i, j = frame_index(a), frame_index(b)
        m = nan_median(frames.loudness_db[i:j], MIN_PIECE_FRAMES)
        if m is not None:
            loud.append(m)
        p = nan_median(frames.pitch_hz[i:j], MIN_PIECE_FRAMES)
        if p is not None:
            pitch.append(12.0 * math.log2(p))
    lb, pb = base
    ls = spread(loud, lb, half_width[0]) if lb is not None else None
    ps = spread(pitch, 12.0 * math.log2(pb), half_width[1]) if pb else None
    return ls, ps


def baseline(frames: SpeakerFrames | None, segments: Sequence[SpeechSegment], turns: Sequence[Turn]) -> Baseline:
    lb, pb = level_baseline(frames, segments) if frames is not None else (None, None)
    ls, ps = level_spread(frames, segments, (lb, pb)) if frames is not None else (None, None)
    wpm, sps = rate_baseline(turns)
    words = [w for t in sorted(turns, key=lambda t: t.start_s) for w in t.words]
    return Baseline(lb, pb, wpm, sps, pace_baseline(frames, turns), ls, ps, pace_spread(frames, words))


def raised_margins(base: Baseline, th: EventThresholds) -> tuple[float, float]:
    """(dB, pitch factor) added to every raised-voice threshold for a speaker whose ordinary speech varies
    more than a synthetic voice's: the level thresholds move up by ``raised_spread_k`` x the speaker's
    loudness spread (``raised_unknown_spread_db`` for a speaker with too little ordinary speech to measure
    it) beyond ``raised_loudness_db``, the strong-pitch ratio by ``raised_spread_k`` x their
    pitch spread beyond ``raised_strong_pitch_ratio`` (both 0 / 1 where the spread is small or unknown)."""
    level_spread = base.loudness_spread_db if base.loudness_spread_db is not None else th.raised_unknown_spread_db
    db = max(0.0, th.raised_spread_k * level_spread - th.raised_loudness_db)
    st = max(0.0, th.raised_spread_k * (base.pitch_spread_st or 0.0) - 12.0 * float(np.log2(th.raised_strong_pitch_ratio)))
    return db, float(2.0 ** (st / 12.0))


# --------------------------------------------------------------------------- smoothing and tracks


def moving_mean(values: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """Centred moving mean over ``width`` frames ignoring NaN; NaN where fewer than ``min_count`` values."""
    valid = ~np.isnan(values)
    s = np.concatenate([[0.0], np.cumsum(np.where(valid, values, 0.0), dtype=np.float64)])
    c = np.concatenate([[0], np.cumsum(valid)])
    n = len(values)
    lo = np.clip(np.arange(n) - width // 2, 0, n)
    hi = np.clip(np.arange(n) + (width - width // 2), 0, n)
    count = c[hi] - c[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (s[hi] - s[lo]) / count
    return np.where(count >= min_count, mean, np.nan)


def _step_medians(values: np.ndarray, per_step: int, steps: int, min_count: int) -> tuple[float | None, ...]:
    padded = np.full(steps * per_step, np.nan, dtype=np.float32)
    k = min(len(values), len(padded))
    padded[:k] = values[:k]
    grid = np.sort(padded.reshape(steps, per_step), axis=1)  # NaN sort last
    count = (~np.isnan(grid)).sum(axis=1)
    lo = np.clip((count - 1) // 2, 0, per_step - 1)
    hi = np.clip(count // 2, 0, per_step - 1)
    rows = np.arange(steps)
    med = 0.5 * (grid[rows, lo] + grid[rows, hi])
    return tuple(round(float(m), 1) if c >= min_count else None for m, c in zip(med, count))


def window_rate_at(words: Sequence[Word], times_s: np.ndarray, window_s: float = 6.0) -> list[float | None]:
    """Rate (wpm) of the words within ``window_s`` centred on each time, None when the speaker is not talking."""
    out: list[float | None] = []
    starts = np.array([w.start_s for w in words])
    ends = np.array([w.end_s for w in words])
    for t in times_s:
        if not words or not np.any((starts < t + 0.5) & (ends > t - 0.5)):
            out.append(None)
            continue
        i = int(np.searchsorted(starts, t - window_s / 2))
        j = int(np.searchsorted(starts, t + window_s / 2))
        r = rate_wpm(words[i:j]) if j - i >= 3 else None
        out.append(round(r, 1) if r is not None else None)
    return out


def track(speaker: str, frames: SpeakerFrames | None, words: Sequence[Word], duration_s: float, step_s: float = 1.0) -> ProsodyTrack:
    """Per-``step_s`` medians of loudness and pitch, and the 6 s speech rate (None where silent)."""
    steps = max(1, int(math.ceil(duration_s / step_s)))
    per_step = int(round(step_s / HOP_S))
    times = (np.arange(steps) + 0.5) * step_s
    if frames is None:
        empty = (None,) * steps
        loud, pitch = empty, empty
    else:
        # frame i is centred at (i + 1) * HOP_S: shift by one so each step holds its own frames
        loud = _step_medians(np.concatenate([[np.nan], frames.loudness_db]), per_step, steps, 4)
        pitch = _step_medians(np.concatenate([[np.nan], frames.pitch_hz]), per_step, steps, 4)
    return ProsodyTrack(speaker, step_s, loud, pitch, tuple(window_rate_at(words, times)))
