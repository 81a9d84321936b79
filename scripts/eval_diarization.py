#!/usr/bin/env python3
"""Diarization error rate and speed of callcoach's diarizers, with RTTM export.

Recordings scored (each beside its reference ``<id>.rttm``):

- the demo calls in ``audio_samples/`` as recorded: stereo ones through
  ``channels``, mono ones through ``embedded``;
- the stereo demo calls mixed down to mono, through ``embedded``;
- the real recordings in ``audio_samples/real/`` (AMI meeting excerpts,
  CC BY 4.0, see its README), through ``embedded``;
- the real two-speaker telephone sample that the pyannote.audio wheel ships
  (fetched with pip into ``.cache/``, see scripts/real_samples.py), unless
  ``--no-download``;
- the real service calls in ``audio_samples/real/calls/`` that have a
  reference (the two AWS calls, recorded as separate legs: their reference
  comes from an energy VAD per leg, scripts/make_leg_rttm.py), as recorded
  through ``channels`` and mixed down to mono through ``embedded``. They are
  the **held-out** set: no setting may be tuned on them.

``--backends`` adds backends for every mono signal (the mono files and the
mono mixes): ``pyannote`` needs the optional extra (docs/MODELS.md). DER is
computed by :func:`callcoach.evaluation.metrics.diarization_error_rate` with no collar
and with a 0.25 s collar; RTF is the diarizer's own time over the audio
duration (model loading excluded, once per run). The machine's load average
is printed with the table because RTF on a shared machine depends on it.

    python scripts/eval_diarization.py
    python scripts/eval_diarization.py --backends embedded pyannote --rttm-out hyp/
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from callcoach.evaluation.metrics import diarization_error_rate
from callcoach.records import Audio
from callcoach.report.export import read_rttm, to_rttm
from callcoach.speech.audio import is_audio_path, load_audio
from callcoach.speech.diarize import ChannelDiarizer, EmbeddedDiarizer, choose_backend

ROOT = Path(__file__).resolve().parents[1]
MONO_BACKENDS = ("embedded", "pyannote")


@dataclass(frozen=True)
class Item:
    name: str
    group: str  # "demo stereo", "demo mono", "demo mono mix", "real", "real held out stereo", "real held out"
    audio: Path
    rttm: Path
    mix: bool


def find_items(download: bool) -> list[Item]:
    items = []
    real = ROOT / "audio_samples" / "real"
    for folder, group in ((ROOT / "audio_samples", "demo"), (real, "real"), (real / "calls", "real held out")):
        for path in sorted(folder.iterdir()):
            rttm = path.with_suffix(".rttm")
            if not (path.is_file() and is_audio_path(path) and rttm.is_file()):
                continue
            if group == "real":
                items.append(Item(path.stem, "real", path, rttm, False))
            elif load_audio(path).channels == 2:
                items.append(Item(path.stem, f"{group} stereo", path, rttm, False))
                mix_group = "demo mono mix" if group == "demo" else group
                items.append(Item(path.stem + " (mono mix)", mix_group, path, rttm, True))
            else:
                items.append(Item(path.stem, f"{group} mono", path, rttm, False))
    if download:
        from real_samples import pyannote_sample

        folder = pyannote_sample()
        items.append(Item("pyannote sample (phone call)", "real", folder / "sample.wav", folder / "sample.rttm", False))
    items.sort(key=lambda it: it.group.startswith("real held out"))  # held out last, the rest in the order found
    return items


def make_diarizer(name: str, max_speakers: int):
    if name == "channels":  # as the pipeline builds it: the segmentation model drops hold music
        return ChannelDiarizer(speech=EmbeddedDiarizer().speech_probability)
    if name == "embedded":
        return EmbeddedDiarizer(max_speakers=max_speakers)
    if name == "pyannote":
        from callcoach.speech.diarize import PyannoteDiarizer

        return PyannoteDiarizer(None, max_speakers=max_speakers)
    raise SystemExit(f"unknown backend {name!r}: use channels, embedded or pyannote")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["embedded"], choices=MONO_BACKENDS, help="backends for mono signals (default: embedded)")
    parser.add_argument("--rttm-out", type=Path, metavar="DIR", help="also write each hypothesis as <recording>.<backend>.rttm")
    parser.add_argument("--no-download", action="store_true", help="skip the pyannote wheel's phone-call sample (fetched with pip once)")
    parser.add_argument("--max-speakers", type=int, default=4)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only recordings whose name contains one of these")
    args = parser.parse_args()
    items = find_items(download=not args.no_download)
    if args.only:
        items = [it for it in items if any(key in it.name for key in args.only)]
    diarizers = {}
    for name in ["channels", *args.backends]:
        t0 = time.perf_counter()
        diarizers[name] = make_diarizer(name, args.max_speakers)
        print(f"<!-- {name}: loaded in {time.perf_counter() - t0:.1f} s -->", flush=True)
    if args.rttm_out:
        args.rttm_out.mkdir(parents=True, exist_ok=True)
    print(f"\nload average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores\n")
    print("| recording | group | backend | speakers (ref/found) | DER | DER (0.25 s collar) | RTF |")
    print("|---|---|---|---|---|---|---|")
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for item in items:
        audio = load_audio(item.audio)
        if item.mix:
            audio = Audio(audio.info, audio.mono()[None, :], audio.sample_rate_hz)
        stereo = choose_backend(audio, "auto") == "channels"
        ref = [(s.speaker, s.start_s, s.end_s) for s in read_rttm(item.rttm)]
        for backend in ["channels"] if stereo else args.backends:
            t0 = time.perf_counter()
            result = diarizers[backend].diarize(audio)
            rtf = (time.perf_counter() - t0) / audio.duration_s
            hyp = [(s.speaker, s.start_s, s.end_s) for s in result.segments]
            der = diarization_error_rate(ref, hyp)
            der_c = diarization_error_rate(ref, hyp, collar_s=0.25)
            results.setdefault((item.group, backend), []).append((der, der_c, rtf))
            n_ref = len({r[0] for r in ref})
            print(f"| {item.name} | {item.group} | {backend} | {n_ref}/{len(result.speakers)} | {der:.1%} | {der_c:.1%} | {rtf:.3f} |", flush=True)
            if args.rttm_out:
                stem = item.name.replace(" ", "_").replace("(", "").replace(")", "")
                (args.rttm_out / f"{stem}.{backend}.rttm").write_text(to_rttm(item.audio.stem, result.segments), encoding="utf-8")
    print("\n| group | backend | recordings | mean DER | mean DER (0.25 s collar) | mean RTF |")
    print("|---|---|---|---|---|---|")
    for (group, backend), rows in results.items():
        n = len(rows)
        mean = [sum(r[i] for r in rows) / n for i in range(3)]
        print(f"| {group} | {backend} | {n} | {mean[0]:.1%} | {mean[1]:.1%} | {mean[2]:.3f} |")
    print(f"\nload average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
