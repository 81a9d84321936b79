"""Per-speaker prosody on a 25 ms frame grid (loudness, pitch, speech frames); speech rate and pace in
:mod:`callcoach.analysis.pace`, baselines and tracks in :mod:`callcoach.analysis.baselines`.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, resample_poly, sosfilt

from callcoach.records import Audio, SpeechSegment

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
SPREAD_PIECE_S = 2.0  # level spread: medians of pieces this long, about the shortest raised stretch
SPREAD_MIN_PIECES = 10  # 20 s of speech: a spread from fewer pieces swings with one of them
SPREAD_HALF_WIDTH_DB = 5.0  # ordinary speech for the spread: within this of the baseline level ...
SPREAD_HALF_WIDTH_ST = 3.0  # ... and pitch (semitones)
PACE_WINDOW_WORDS = 10  # pace windows: this many words and PACE_WINDOW_S of speaking time at least
PACE_WINDOW_S = 4.0
PACE_SPREAD_MIN_WINDOWS = 30  # about 40 words of speech: a call's worth, not a sentence
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
    """A speaker's usual level: ``loudness_db`` (dBFS), ``pitch_hz``, ``rate_wpm``, ``syllables_per_s``, ``pace_wpm``,
    and how much it varies in ordinary speech: ``loudness_spread_db`` (dB), ``pitch_spread_st`` (semitones) and
    ``pace_spread_wpm`` (None where there is too little speech to tell; see :func:`callcoach.analysis.baselines.spread`)."""

    loudness_db: float | None
    pitch_hz: float | None
    rate_wpm: float | None
    syllables_per_s: float | None
    pace_wpm: float | None = None
    loudness_spread_db: float | None = None
    pitch_spread_st: float | None = None
    pace_spread_wpm: float | None = None


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
