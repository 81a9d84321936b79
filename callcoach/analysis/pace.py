"""Speech rate and pace: words and syllables per minute of speaking time, acoustic syllable nuclei, and the
pace (their geometric mean) that the rapid-speech events judge; see :mod:`callcoach.analysis.prosody`."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
from scipy.signal import find_peaks

from callcoach.analysis.prosody import (
    _VOWELS,
    HOP_S,
    MAX_PAUSE_S,
    NUCLEUS_MIN_GAP_S,
    NUCLEUS_PROMINENCE_DB,
    PACE_MAX_PAUSE_S,
    PACE_SPREAD_MIN_WINDOWS,
    PACE_WINDOW_S,
    PACE_WINDOW_WORDS,
    RATE_PIECE_S,
    SYLLABLES_PER_WORD,
    SpeakerFrames,
    frame_index,
)
from callcoach.records import Turn, Word

# --------------------------------------------------------------------------- speech rate


def speaking_time_s(words: Sequence[Word], max_pause_s: float = MAX_PAUSE_S) -> float:
    """Time from the first word's start to the last word's end, less every pause > ``max_pause_s``."""
    if not words:
        return 0.0
    span = words[-1].end_s - words[0].start_s
    for prev, nxt in zip(words, words[1:]):
        gap = nxt.start_s - prev.end_s
        if gap > max_pause_s:
            span -= gap
    return max(span, 0.0)


def spoken_words(words: Sequence[Word]) -> int:
    """How many words were said: the recogniser writes a number read out digit by digit
    ("five five three nine two") as one token ("55390"), which counts one word per digit;
    an amount with separators ("3,000", "4.50") counts two."""
    total = 0
    for w in words:
        m = _NUMBER.fullmatch(w.text)
        total += (2 if m.group(2) else len(m.group(1))) if m else 1
    return total


_NUMBER = re.compile(r"([0-9]+)([,.][0-9,.]+)?[.,!?]?")
# syllables of each digit as said: "zero" and "seven" have two
_DIGIT_SYLLABLES = {"0": 2, "7": 2}


def rate_wpm(words: Sequence[Word], max_pause_s: float = MAX_PAUSE_S) -> float | None:
    """Words per minute of speaking time (:func:`spoken_words`); None for fewer than 2 words or no time."""
    t = speaking_time_s(words, max_pause_s)
    if len(words) < 2 or t <= 0:
        return None
    return 60.0 * spoken_words(words) / t


def syllable_count(text: str) -> int:
    """Vowel groups in each word (a final silent 'e' dropped), at least one per word, and the
    syllables of each digit said on its own (a number the recogniser wrote in digits)."""
    total = sum(_DIGIT_SYLLABLES.get(d, 1) for d in re.findall(r"[0-9]", text))
    for word in re.findall(r"[a-z']+", text.lower()):
        n = len(_VOWELS.findall(word))
        if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and n > 1:
            n -= 1
        total += max(n, 1)
    return total


def syllables_per_s(words: Sequence[Word], max_pause_s: float = MAX_PAUSE_S) -> float | None:
    t = speaking_time_s(words, max_pause_s)
    if len(words) < 2 or t <= 0:
        return None
    return sum(syllable_count(w.text) for w in words) / t


def nuclei_count(frames: SpeakerFrames | None, start_s: float, end_s: float) -> int | None:
    """Syllable nuclei: loudness peaks of the speaker's own frames in [start_s, end_s); None without 10 frames."""
    if frames is None:
        return None
    i, j = frame_index(start_s), frame_index(end_s)
    level = frames.loudness_db[i:j].astype(np.float64)
    valid = ~np.isnan(level)
    if valid.sum() < 10:
        return None
    level = np.where(valid, level, np.nanmin(level) - 2 * NUCLEUS_PROMINENCE_DB)
    peaks, _ = find_peaks(level, prominence=NUCLEUS_PROMINENCE_DB, distance=max(1, int(round(NUCLEUS_MIN_GAP_S / HOP_S))))
    return int(len(peaks))


def pace_wpm(words: Sequence[Word], frames: SpeakerFrames | None = None) -> float | None:
    """Geometric mean of the word, text-syllable and acoustic-nucleus rates, in words/min (see module doc)."""
    t = speaking_time_s(words, PACE_MAX_PAUSE_S)
    if len(words) < 2 or t <= 0:
        return None
    per_word = 60.0 / SYLLABLES_PER_WORD
    estimates = [60.0 * spoken_words(words) / t, per_word * sum(syllable_count(w.text) for w in words) / t]
    nuclei = nuclei_count(frames, words[0].start_s, words[-1].end_s)
    if nuclei is not None:
        estimates.append(per_word * nuclei / t)
    if min(estimates) <= 0:
        return None
    return float(np.exp(np.mean(np.log(estimates))))


def split_words(words: Sequence[Word], piece_s: float = RATE_PIECE_S) -> list[tuple[Word, ...]]:
    """``words`` cut into ``ceil(span / piece_s)`` pieces of equal time (a long turn -> pieces of at most ``piece_s``)."""
    if not words:
        return []
    span = words[-1].end_s - words[0].start_s
    k = max(1, int(math.ceil(span / piece_s - 1e-9)))
    if k == 1:
        return [tuple(words)]
    edges = [words[0].start_s + span * q / k for q in range(1, k)]
    out: list[list[Word]] = [[] for _ in range(k)]
    for w in words:
        out[sum(w.start_s >= e for e in edges)].append(w)
    return [tuple(p) for p in out if p]


def rate_pieces(turns: Sequence[Turn], piece_s: float = RATE_PIECE_S) -> list[tuple[Word, ...]]:
    """A speaker's words cut at turn boundaries and every ``piece_s`` seconds."""
    pieces: list[tuple[Word, ...]] = []
    for turn in turns:
        current: list[Word] = []
        for w in turn.words:
            if current and w.end_s - current[0].start_s > piece_s:
                pieces.append(tuple(current))
                current = []
            current.append(w)
        if current:
            pieces.append(tuple(current))
    return pieces


def rate_baseline(turns: Sequence[Turn]) -> tuple[float | None, float | None]:
    """Median words/min and syllables/s over the speaker's turns (pieces with >= 4 words and >= 1 s)."""
    wpm, sps = [], []
    for piece in rate_pieces(turns):
        if len(piece) >= 4 and speaking_time_s(piece) >= 1.0:
            wpm.append(rate_wpm(piece))
            sps.append(syllables_per_s(piece))
    if not wpm:
        return None, None
    return float(np.median(wpm)), float(np.median(sps))


def pace_windows(words: Sequence[Word], min_words: int = PACE_WINDOW_WORDS, min_s: float = PACE_WINDOW_S) -> list[tuple[int, int]]:
    """``[i, j)`` word ranges of a speaker's speech (across their turns) holding at least ``min_words``
    words and ``min_s`` of speaking time, one starting at each word: enough speech for a pace to mean
    something (turns of a few words have extreme rates, Yuan, Liberman and Cieri 2006)."""
    out = []
    j = 0
    for i in range(len(words)):
        j = max(j, i + min_words)
        while j <= len(words) and speaking_time_s(words[i:j], PACE_MAX_PAUSE_S) < min_s:
            j += 1
        if j > len(words):
            break
        out.append((i, j))
    return out


def pace_spread(frames: SpeakerFrames | None, words: Sequence[Word]) -> float | None:
    """Spread (words/min) of the speaker's pace over :func:`pace_windows`: their interquartile range over
    1.349 (a normal distribution's), None with fewer than ``PACE_SPREAD_MIN_WINDOWS`` windows. Windows
    overlap, so this is the spread of the speaker's sustained pace, not of single short turns."""
    paces = [p for i, j in pace_windows(words) if (p := pace_wpm(words[i:j], frames)) is not None]
    if len(paces) < PACE_SPREAD_MIN_WINDOWS:
        return None
    q1, q3 = np.percentile(paces, [25, 75])
    return float((q3 - q1) / 1.349)
