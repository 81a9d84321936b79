"""Stage 5a: per-speaker prosody on a 25 ms frame grid, speech rate, baselines.

Frame grid: 50 ms frames every 25 ms (``HOP_S``); frame ``i`` covers samples
``[i*hop, i*hop + 2*hop)`` and is centred at ``(i + 1) * HOP_S`` seconds.

- Loudness: ``10*log10(mean(x**2))`` per frame, i.e. ``20*log10(RMS)`` in dBFS.
- Pitch: YIN (de Cheveigné and Kawahara, 2002) on the signal resampled to
  8 kHz, 64 ms windows centred on the loudness frames, F0 between 65 and
  400 Hz; the dip of the cumulative-mean-normalised difference is the frame's
  aperiodicity (0 = perfectly periodic, about 1 = noise), the voicing gate.
- Speech frames: inside the speaker's diarized segments (mono: and no other
  speaker active), 6 dB above the source's noise floor (10th percentile of
  the frames outside the speech, when there is 1 s of them) and within
  35 dB of the speaker's loud frames (95th percentile). Loudness and pitch are kept on voiced speech frames only.
- Speech rate: words / speaking time, where speaking time excludes every
  pause longer than ``MAX_PAUSE_S`` between consecutive words.
- Pace (``pace_wpm``): one rate for event decisions, the geometric mean of
  three estimates of the same stretch in words/min: the ASR word count, the
  syllable count of the ASR text and the acoustic syllable nuclei (loudness
  peaks of the speaker's own frames, ``NUCLEUS_PROMINENCE_DB`` prominent,
  ``NUCLEUS_MIN_GAP_S`` apart), syllables turned into words at
  ``SYLLABLES_PER_WORD``. Each estimate alone is noisy (dropped or merged
  words, ASR text, weak peaks); their errors are largely independent, so the
  mean of their logs is steadier than any one of them. Speaking time for pace
  excludes pauses over ``PACE_MAX_PAUSE_S`` (tiny.en word ends are early, so
  shorter gaps are mostly still speech).

Everything is computed block by block (60 s of frames at a time), so memory
beyond the signal is a few 1-D arrays of one value per 25 ms frame.

Baselines are robust to a speaker who is raised for part of the call: the
speaker's speech is cut into pieces of at most ``PIECE_S`` seconds, each
piece gets its median, and the baseline is the ``BASELINE_PERCENTILE``-th
percentile of the piece medians weighted by their speech frames (loudness,
pitch; :func:`weighted_percentile`), or the median of per-turn
rates (turns split into pieces of at most ``RATE_PIECE_S``). The low
percentile keeps the level baseline at the calm level even when a speaker is
raised for most of their speech (an angry customer often is: two thirds of
the customer's speech in the demo calls angry_refund and abusive_customer).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, find_peaks, resample_poly, sosfilt

from .records import Audio, ProsodyTrack, SpeechSegment, Turn, Word

HOP_S = 0.025
BLOCK_FRAMES = 2400  # 60 s of frames per block
PITCH_RATE_HZ = 8000
PITCH_HOP = 200  # 25 ms at 8 kHz
PITCH_FRAME = 512  # 64 ms at 8 kHz: integration window plus the longest lag
PITCH_WINDOW = 256  # YIN integration window, 32 ms
PITCH_BAND_HZ = 1000.0  # low-pass before YIN: strong high harmonics dephase at integer lags
FMIN_HZ = 65.0
FMAX_HZ = 400.0
YIN_THRESHOLD = 0.15
VOICING_MAX_APERIODICITY = 0.35
NOISE_FLOOR_PERCENTILE = 10.0
SPEECH_ABOVE_FLOOR_DB = 6.0
SPEECH_RANGE_DB = 35.0
MIN_FLOOR_S = 1.0
MAX_PAUSE_S = 0.5
PIECE_S = 4.0
RATE_PIECE_S = 8.0
BASELINE_PERCENTILE = 15.0  # of speech time: the quieter speech, never a fraction of a second
PACE_MAX_PAUSE_S = 1.0
SYLLABLES_PER_WORD = 1.35  # conversational English: 4.5 syllables/s ~ 200 words/min
NUCLEUS_PROMINENCE_DB = 3.0
NUCLEUS_MIN_GAP_S = 0.1
MIN_PIECE_FRAMES = 8
SILENT_DB = -120.0

_N_FFT = PITCH_FRAME  # lags <= _TAU_MAX + 1 never wrap: window + lag < frame
_TAU_MIN = int(PITCH_RATE_HZ // FMAX_HZ)  # 20
_TAU_MAX = int(math.ceil(PITCH_RATE_HZ / FMIN_HZ))  # 124
_VOWELS = re.compile(r"[aeiouy]+")


@dataclass(frozen=True, eq=False)
class SpeakerFrames:
    """One speaker's frame features on the 25 ms grid (internal, not a result record).

    ``loudness_db`` and ``pitch_hz`` have shape ``(n_frames,)``, NaN where the
    frame is not this speaker's voiced speech; ``active`` is True inside the
    speaker's diarized segments (pauses included).
    """

    speaker: str
    loudness_db: np.ndarray
    pitch_hz: np.ndarray
    active: np.ndarray


@dataclass(frozen=True)
class Baseline:
    """A speaker's usual level: ``loudness_db`` (dBFS), ``pitch_hz``, ``rate_wpm``, ``syllables_per_s``, ``pace_wpm``."""

    loudness_db: float | None
    pitch_hz: float | None
    rate_wpm: float | None
    syllables_per_s: float | None
    pace_wpm: float | None = None


# --------------------------------------------------------------------------- frames


def hop_samples(sample_rate_hz: int) -> int:
    return int(round(HOP_S * sample_rate_hz))


def n_frames(n_samples: int, sample_rate_hz: int) -> int:
    return max(0, n_samples // hop_samples(sample_rate_hz) - 1)


def frame_index(t_s: float) -> int:
    """The first frame whose centre is at or after ``t_s``."""
    return max(0, int(math.ceil(t_s / HOP_S - 1.0 - 1e-9)))


def frame_times_s(count: int) -> np.ndarray:
    return (np.arange(count) + 1.0) * HOP_S


def loudness_db(x: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Frame level in dBFS, shape ``(n_frames,)``; ``SILENT_DB`` for digital silence."""
    hop = hop_samples(sample_rate_hz)
    n_hops = len(x) // hop
    energy = np.empty(n_hops, dtype=np.float64)
    for a in range(0, n_hops, BLOCK_FRAMES):
        b = min(n_hops, a + BLOCK_FRAMES)
        block = x[a * hop : b * hop].reshape(b - a, hop).astype(np.float64)
        energy[a:b] = np.einsum("ij,ij->i", block, block)
    power = (energy[:-1] + energy[1:]) / (2 * hop)
    return (10.0 * np.log10(np.maximum(power, 10 ** (SILENT_DB / 10)))).astype(np.float32)


def _padded(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """``x[a:b]`` with zeros where the range falls outside ``x``."""
    out = np.zeros(b - a, dtype=np.float32)
    lo, hi = max(a, 0), min(b, len(x))
    if hi > lo:
        out[lo - a : hi - a] = x[lo:hi]
    return out


def yin(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YIN on ``(n, PITCH_FRAME)`` frames at 8 kHz -> (F0 in Hz, aperiodicity), each ``(n,)``."""
    frames = frames - frames.mean(axis=1, keepdims=True)
    spec_w = scipy.fft.rfft(frames[:, :PITCH_WINDOW], _N_FFT, axis=1)
    spec_f = scipy.fft.rfft(frames, _N_FFT, axis=1)
    corr = scipy.fft.irfft(np.conj(spec_w) * spec_f, _N_FFT, axis=1)[:, : _TAU_MAX + 2]
    cum_sq = np.concatenate([np.zeros((len(frames), 1), np.float32), np.cumsum(frames * frames, axis=1)], axis=1)
    lags = np.arange(_TAU_MAX + 2)
    energy = cum_sq[:, lags + PITCH_WINDOW] - cum_sq[:, lags]
    diff = np.maximum(energy[:, :1] + energy - 2.0 * corr, 0.0)
    running = np.cumsum(diff[:, 1:], axis=1)
    ok = energy[:, :1] > 1e-9
    cmndf = np.ones_like(diff)
    cmndf[:, 1:] = np.where(ok & (running > 0), diff[:, 1:] * lags[1:] / np.maximum(running, 1e-20), 1.0)
    c = cmndf[:, _TAU_MIN - 1 : _TAU_MAX + 2]  # c[:, k] is lag _TAU_MIN - 1 + k
    mid = c[:, 1:-1]
    is_min = (mid <= c[:, :-2]) & (mid < c[:, 2:])
    below = is_min & (mid < YIN_THRESHOLD)
    k = np.where(below.any(axis=1), below.argmax(axis=1), mid.argmin(axis=1)) + 1
    rows = np.arange(len(c))
    left, centre, right = c[rows, k - 1], c[rows, k], c[rows, k + 1]
    denom = left - 2.0 * centre + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1.0, denom), 0.0)
    tau = _TAU_MIN - 1 + k + np.clip(shift, -1.0, 1.0)
    return (PITCH_RATE_HZ / tau).astype(np.float32), np.clip(centre, 0.0, None).astype(np.float32)


def pitch_track(x: np.ndarray, sample_rate_hz: int, wanted: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz) and aperiodicity per frame of the 25 ms grid, each ``(n_frames,)``.

    Only frames where ``wanted`` (bool, ``(n_frames,)``) is True are analysed;
    the others get NaN and aperiodicity 1.
    """
    count = n_frames(len(x), sample_rate_hz)
    f0 = np.full(count, np.nan, dtype=np.float32)
    aper = np.ones(count, dtype=np.float32)
    g = math.gcd(PITCH_RATE_HZ, sample_rate_hz)
    up, down = PITCH_RATE_HZ // g, sample_rate_hz // g
    ratio = sample_rate_hz / PITCH_RATE_HZ
    margin = 256  # 8 kHz samples discarded at each block edge (filter transient)
    sos = butter(4, PITCH_BAND_HZ, fs=sample_rate_hz, output="sos")
    offset = PITCH_FRAME // 2 - PITCH_HOP  # frame i starts at 8 kHz sample i*hop - offset
    for i0 in range(0, count, BLOCK_FRAMES):
        i1 = min(count, i0 + BLOCK_FRAMES)
        rows = np.arange(i1 - i0) if wanted is None else np.flatnonzero(wanted[i0:i1])
        if rows.size == 0:
            continue
        s0 = i0 * PITCH_HOP - offset - margin
        s1 = (i1 - 1) * PITCH_HOP - offset + PITCH_FRAME + margin
        raw = sosfilt(sos, _padded(x, int(round(s0 * ratio)), int(round(s1 * ratio)))).astype(np.float32)
        y = raw[::down] if up == 1 else resample_poly(raw, up, down).astype(np.float32)
        y = y[margin : margin + (i1 - i0 - 1) * PITCH_HOP + PITCH_FRAME]
        frames = sliding_window_view(y, PITCH_FRAME)[::PITCH_HOP]
        f0[i0 + rows], aper[i0 + rows] = yin(frames[rows])
    return f0, aper


def segment_mask(segments: Iterable[SpeechSegment], count: int) -> np.ndarray:
    """Boolean ``(count,)``: frames whose centre lies inside any of ``segments``."""
    mask = np.zeros(count, dtype=bool)
    for seg in segments:
        a, b = frame_index(seg.start_s), frame_index(seg.end_s)
        mask[a:min(b, count)] = True
    return mask


def measure_speakers(
    audio: Audio,
    segments: Mapping[str, Sequence[SpeechSegment]],
    channel_of: Mapping[str, int],
) -> dict[str, SpeakerFrames]:
    """Loudness and pitch of every speaker, on the speaker's own channel when it has one.

    A speaker with a channel in ``channel_of`` is measured there during their
    segments; the others are measured on the mono mix during their segments
    and only where no other speaker is active (overlap excluded).
    """
    sr = audio.sample_rate_hz
    count = n_frames(audio.samples.shape[1], sr)
    active = {s: segment_mask(segs, count) for s, segs in segments.items()}
    anyone = np.zeros(count, dtype=bool)
    for mask in active.values():
        anyone |= mask
    source_of = {}
    for speaker in active:
        channel = channel_of.get(speaker)
        ok = channel is not None and 0 <= channel < audio.channels and audio.channels > 1
        source_of[speaker] = channel if ok else -1
    sources: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for channel in sorted(set(source_of.values())):
        x = audio.mono() if channel == -1 else audio.channel(channel)
        wanted = np.zeros(count, dtype=bool)
        for speaker, mask in active.items():
            if source_of[speaker] == channel:
                wanted |= mask
        sources[channel] = (loudness_db(x, sr), *pitch_track(x, sr, wanted))
    out: dict[str, SpeakerFrames] = {}
    for speaker, mask in active.items():
        channel = source_of[speaker]
        db, f0, aper = sources[channel]
        if channel == -1:
            others = np.zeros(count, dtype=bool)
            for other, omask in active.items():
                if other != speaker:
                    others |= omask
            own = mask & ~others
            outside = ~anyone
        else:
            own = mask
            outside = ~mask
        out[speaker] = _speaker_frames(speaker, db, f0, aper, own, outside, mask)
    return out


def _speaker_frames(speaker: str, db: np.ndarray, f0: np.ndarray, aper: np.ndarray, own: np.ndarray, outside: np.ndarray, active: np.ndarray) -> SpeakerFrames:
    nan = np.full(len(db), np.nan, dtype=np.float32)
    if not own.any():
        return SpeakerFrames(speaker, nan, nan.copy(), active)
    # noise floor from frames nobody speaks in; with under MIN_FLOOR_S of them, the range gate alone
    floor = float(np.percentile(db[outside], NOISE_FLOOR_PERCENTILE)) if outside.sum() * HOP_S >= MIN_FLOOR_S else SILENT_DB
    loud = float(np.percentile(db[own], 95))
    speech = own & (db > floor + SPEECH_ABOVE_FLOOR_DB) & (db > loud - SPEECH_RANGE_DB)
    voiced = speech & (aper < VOICING_MAX_APERIODICITY) & (f0 >= FMIN_HZ) & (f0 <= FMAX_HZ)
    # whispered or badly band-limited speech: keep the level even when pitch fails
    level_frames = voiced if voiced.sum() >= 0.2 * speech.sum() else speech
    return SpeakerFrames(
        speaker,
        np.where(level_frames, db, np.nan).astype(np.float32),
        np.where(voiced, f0, np.nan).astype(np.float32),
        active,
    )


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


def baseline(frames: SpeakerFrames | None, segments: Sequence[SpeechSegment], turns: Sequence[Turn]) -> Baseline:
    lb, pb = level_baseline(frames, segments) if frames is not None else (None, None)
    wpm, sps = rate_baseline(turns)
    return Baseline(lb, pb, wpm, sps, pace_baseline(frames, turns))


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
