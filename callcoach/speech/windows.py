"""Which stretches of a call Whisper hears, and where its words go back to.

Only diarized speech is decoded: the regions are padded and joined with short
silences into one compact signal (:func:`compact_speech`). Where a decode of
it left speech without words (:func:`unheard_windows`), windows of at most
``WINDOW_S`` (:func:`speech_windows`) are decoded again one at a time; word
times on the compact signal map back to the call
(:func:`map_word`) and are moved from silence onto the sound
(:func:`tighten_word_times`). Times are seconds, positions samples at
``SAMPLE_RATE_HZ``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from callcoach.records import Word

SAMPLE_RATE_HZ = 16_000
BLOCK_S = 300.0
BLOCK_SEARCH_S = 20.0

# (compact start, original start, length) of each joined stretch, in samples
Chunk = tuple[int, int, int]
JOIN_GAP_S = 0.3
MERGE_GAP_S = 0.6
REGION_PAD_S = 0.2


def compact_speech(samples: np.ndarray, regions: Sequence[tuple[float, float]]) -> tuple[np.ndarray, list[Chunk]]:
    """Join the speech regions (padded, close ones merged) with short silences between them."""
    rate = SAMPLE_RATE_HZ
    spans: list[list[float]] = []
    for a, b in sorted(regions):
        a, b = max(0.0, a - REGION_PAD_S), b + REGION_PAD_S
        if spans and a - spans[-1][1] < MERGE_GAP_S:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    gap = int(JOIN_GAP_S * rate)
    pieces: list[np.ndarray] = []
    chunks: list[Chunk] = []
    cursor = 0
    for a, b in spans:
        lo, hi = int(a * rate), min(len(samples), int(b * rate))
        if hi <= lo:
            continue
        pieces.append(samples[lo:hi])
        chunks.append((cursor, lo, hi - lo))
        cursor += hi - lo
        pieces.append(np.zeros(gap, dtype=np.float32))
        cursor += gap
    compact = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return compact.astype(np.float32, copy=False), chunks


# Whisper hears 30 s at a time: a window of diarized speech is at most WINDOW_S long, and a stretch of
# speech longer than that is cut at its quietest 100 ms in the last WINDOW_SEARCH_S of the window
WINDOW_S = 28.0
WINDOW_SEARCH_S = 6.0


def speech_windows(compact: np.ndarray, chunks: Sequence[Chunk], window_s: float = WINDOW_S,
                   search_s: float = WINDOW_SEARCH_S) -> list[tuple[int, int]]:
    """(start, end) samples of ``compact`` (from :func:`compact_speech`) that Whisper decodes one at a time.

    Consecutive chunks share a window while it stays within ``window_s``; each window ends in a joining
    pause, so no word is cut. Left to itself over a long signal, Whisper moves on to the end of the last
    word it timed: on a real call (a 4-minute caller leg) tiny.en wrote one short sentence for 20 s of
    speech, timed it 20 s late, and went on from there, and 24 s of diarized speech came out without words.
    """
    rate = SAMPLE_RATE_HZ
    gap = int(JOIN_GAP_S * rate)
    longest = int(window_s * rate)
    pieces: list[tuple[int, int]] = []
    for start, _, length in chunks:
        stretch = compact[start : start + length]
        for a, b in block_bounds(stretch, block_s=window_s - search_s / 2, search_s=search_s / 2):
            pieces.append((start + a, start + b))
    windows: list[tuple[int, int]] = []
    for a, b in pieces:
        end = min(b + gap, len(compact))
        if windows and end - windows[-1][0] <= longest:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((a, end))
    # a window that ends inside a stretch of speech ends where the next begins
    return [(a, min(b, windows[i + 1][0]) if i + 1 < len(windows) else b) for i, (a, b) in enumerate(windows)]


# diarized speech this long with no word in it is decoded again (the target is 3 s)
UNHEARD_S = 2.0


def unheard_windows(windows: Sequence[tuple[int, int]], chunks: Sequence[Chunk], words_s: Sequence[tuple[float, float]],
                    min_s: float = UNHEARD_S) -> list[tuple[int, int]]:
    """The ``windows`` (samples of the compact signal) holding ``min_s`` or more of speech that no word
    (start_s, end_s on the compact signal) touches; speech runs on across a joining pause."""
    rate = SAMPLE_RATE_HZ
    spans: list[list[int]] = []
    for start, _, length in chunks:
        if spans and start - spans[-1][1] <= int(JOIN_GAP_S * rate) + 1:
            spans[-1][1] = start + length
        else:
            spans.append([start, start + length])
    heard = sorted((int(a * rate), int(b * rate)) for a, b in words_s)
    lost: list[tuple[int, int]] = []
    for a, b in spans:
        cursor = a
        for ws, we in heard:
            if we <= a or ws >= b:
                continue
            if ws - cursor >= min_s * rate:
                lost.append((cursor, ws))
            cursor = max(cursor, we)
        if b - cursor >= min_s * rate:
            lost.append((cursor, b))
    return [(a, b) for a, b in windows if any(la < b and lb > a for la, lb in lost)]


def map_word(word: Word, chunks: Sequence[Chunk]) -> Word | None:
    """A word timed on the compact signal, timed on the original (None if it fell in a joining pause)."""
    rate = SAMPLE_RATE_HZ
    mid = (word.start_s + word.end_s) / 2 * rate
    starts = [c[0] for c in chunks]
    i = max(0, bisect.bisect_right(starts, mid) - 1)
    if not chunks:
        return None
    c_start, o_start, length = chunks[i]
    if mid > c_start + length + JOIN_GAP_S * rate * 0.5:
        return None

    def to_original(t: float) -> float:
        offset = min(max(t * rate - c_start, 0), length)
        return round((o_start + offset) / rate, 3)

    return Word(word.text, to_original(word.start_s), to_original(word.end_s), word.probability, word.speaker)


def tighten_word_times(words: list[Word], samples: np.ndarray, frame_s: float = 0.01) -> tuple[Word, ...]:
    """Move word edges that Whisper put in silence onto the sound.

    Whisper's word times come from attention and often stretch the first
    word of a segment back over the silence before it (a turn that starts at
    1.0 s is reported from 0.0 s). Edges are moved to the first and last
    frame inside the word that is within 35 dB of the signal's speech level.
    """
    hop = int(frame_s * SAMPLE_RATE_HZ)
    n = len(samples) // hop
    if n == 0 or not words:
        return tuple(words)
    rms = np.sqrt(np.square(samples[: n * hop].reshape(n, hop), dtype=np.float32).mean(axis=1))
    loud = rms[rms > 1e-5]
    if loud.size == 0:
        return tuple(words)
    threshold = max(np.percentile(loud, 95) * 10 ** (-35 / 20), 1e-4)
    sounding = rms > threshold
    out = []
    for w in words:
        a, b = int(w.start_s / frame_s), min(n, int(np.ceil(w.end_s / frame_s)))
        idx = np.flatnonzero(sounding[a:b])
        if idx.size:
            start = round(float(a + idx[0]) * frame_s, 3)  # plain floats: numpy scalars stay out of records
            end = round(float(a + idx[-1] + 1) * frame_s, 3)
            w = Word(w.text, start, max(end, start + frame_s), w.probability, w.speaker)
        out.append(w)
    return tuple(out)


def block_bounds(samples: np.ndarray, block_s: float | None = None, search_s: float | None = None) -> list[tuple[int, int]]:
    """Cut a long signal into blocks of about ``block_s`` (default ``BLOCK_S``), each cut at the quietest 100 ms
    within ``search_s`` (default ``BLOCK_SEARCH_S``) of the mark; (start, end) samples."""
    block_s = BLOCK_S if block_s is None else block_s
    search_s = BLOCK_SEARCH_S if search_s is None else search_s
    n = len(samples)
    block = int(block_s * SAMPLE_RATE_HZ)
    if n <= block + int(search_s * SAMPLE_RATE_HZ):
        return [(0, n)]
    hop = SAMPLE_RATE_HZ // 10
    bounds: list[tuple[int, int]] = []
    start = 0
    while n - start > block + int(search_s * SAMPLE_RATE_HZ):
        lo = start + block - int(search_s * SAMPLE_RATE_HZ)
        hi = start + block + int(search_s * SAMPLE_RATE_HZ)
        region = samples[lo:hi]
        frames = len(region) // hop
        energy = np.square(region[: frames * hop].reshape(frames, hop)).mean(axis=1)
        cut = lo + int(np.argmin(energy)) * hop + hop // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds
