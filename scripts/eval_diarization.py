#!/usr/bin/env python3
"""Diarization error rate and speed of callcoach's diarizers, with RTTM export.

For every recording with a reference RTTM beside it (``<id>.rttm``): the
demo calls as recorded (stereo ones through the ``channels`` backend), the
stereo demo calls mixed down to mono (through ``embedded``), and the real
two-speaker telephone sample that pyannote.audio ships (see
scripts/real_samples.py). DER is printed with no collar and with the usual
0.25 s collar, plus the real-time factor of the diarizer alone.

    python scripts/eval_diarization.py
    python scripts/eval_diarization.py --rttm-out hyp/     # also write each hypothesis as RTTM
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from callcoach.audio import is_audio_path, load_audio
from callcoach.diarize import ChannelDiarizer, EmbeddedDiarizer, choose_backend
from callcoach.metrics import diarization_error_rate
from callcoach.records import Audio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def read_rttm(path: Path) -> list[tuple[str, float, float]]:
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            out.append((parts[7], start, start + dur))
    return out


def write_rttm(path: Path, uri: str, segments) -> None:
    path.write_text(
        "".join(f"SPEAKER {uri} 1 {s.start_s:.3f} {s.end_s - s.start_s:.3f} <NA> <NA> {s.speaker} <NA> <NA>\n" for s in segments)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rttm-out", type=Path)
    parser.add_argument("--no-real", action="store_true", help="skip the real sample (needs the package index once)")
    args = parser.parse_args()
    items: list[tuple[str, Path, Path, bool]] = []  # (name, audio, rttm, mix to mono)
    for path in sorted((ROOT / "audio_samples").iterdir()):
        rttm = path.with_suffix(".rttm")
        if path.is_file() and is_audio_path(path) and rttm.is_file():
            items.append((path.stem, path, rttm, False))
            if load_audio(path).channels == 2:
                items.append((path.stem + " (mono mix)", path, rttm, True))
    if not args.no_real:
        from real_samples import pyannote_sample

        folder = pyannote_sample()
        items.append(("pyannote sample (real phone call)", folder / "sample.wav", folder / "sample.rttm", False))
    diarizers = {"channels": ChannelDiarizer(), "embedded": EmbeddedDiarizer()}
    if args.rttm_out:
        args.rttm_out.mkdir(parents=True, exist_ok=True)
    print("| recording | backend | speakers (ref/found) | DER | DER (0.25 s collar) | RTF |")
    print("|---|---|---|---|---|---|")
    totals: dict[str, list[float]] = {}
    for name, path, rttm, mix in items:
        audio = load_audio(path)
        if mix:
            audio = Audio(audio.info, audio.mono()[None, :], audio.sample_rate_hz)
        backend = choose_backend(audio, "auto")
        t0 = time.perf_counter()
        result = diarizers[backend].diarize(audio)
        seconds = time.perf_counter() - t0
        ref = read_rttm(rttm)
        hyp = [(s.speaker, s.start_s, s.end_s) for s in result.segments]
        der = diarization_error_rate(ref, hyp)
        der_c = diarization_error_rate(ref, hyp, collar_s=0.25)
        totals.setdefault(backend, []).append(der_c)
        n_ref = len({r[0] for r in ref})
        print(f"| {name} | {backend} | {n_ref}/{len(result.speakers)} | {der:.3f} | {der_c:.3f} | {seconds / audio.duration_s:.4f} |", flush=True)
        if args.rttm_out:
            write_rttm(args.rttm_out / (name.replace(" ", "_").replace("(", "").replace(")", "") + ".rttm"), path.stem, result.segments)
    for backend, values in totals.items():
        print(f"\nmean DER with collar, {backend}: {sum(values) / len(values):.3f} over {len(values)} recordings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
