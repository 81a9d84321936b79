#!/usr/bin/env python3
"""Speed and memory of transcription alone against the whole callcoach pipeline.

Each measurement runs in a fresh process (so peak memory is that job's own)
and prints one table row:

- ``asr only``: faster-whisper as a user would call it on the same audio
  (each channel of a stereo call, word timestamps, its Silero VAD on), with
  the model already loaded, so only transcription is timed;
- ``pipeline``: callcoach.analyse_call (decode, diarize, transcribe, turns,
  roles, re-hear the agent's fast turns, prosody, events, scorecard), models
  loaded before the clock starts.

    python scripts/bench.py audio_samples/calm_billing.wav audio_samples/angry_refund.flac
    python scripts/bench.py --long-minutes 60     # a 60-minute stereo call tiled from the demo calls
    python scripts/bench.py --long-minutes 60 --long-mono   # the same call mixed to one track
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ASR_ONLY = r"""
import json, resource, sys, time, os
from callcoach.speech.audio import load_audio
from callcoach.speech.transcribe import resolve_model
from faster_whisper import WhisperModel
model = WhisperModel(str(resolve_model(sys.argv[2])), device="cpu", compute_type="int8", cpu_threads=min(4, os.cpu_count() or 1))
audio = load_audio(sys.argv[1])
t0 = time.perf_counter()
words = 0
for c in range(audio.channels):
    segments, _ = model.transcribe(audio.channel(c), language="en", beam_size=1, word_timestamps=True, vad_filter=True, condition_on_previous_text=False)
    words += sum(len(s.words or ()) for s in segments)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "audio_s": audio.duration_s, "channels": audio.channels, "words": words,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PIPELINE = r"""
import json, resource, sys, time
from callcoach.pipeline import Models, analyse_call
from callcoach.settings import Settings
settings = Settings(asr_model=sys.argv[2])
models = Models(settings)
models.transcriber()
models.diarizer("channels")  # builds the embedded diarizer too: its model gates stereo channels
if models.rehears():
    models.larger()  # the larger model for the agent's fast turns and noisy lines, loaded once per run like the others
t0 = time.perf_counter()
result = analyse_call(sys.argv[1], settings, models=models)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "audio_s": result.call.duration_s, "channels": result.call.channels,
                  "words": sum(len(t.words) for t in result.turns), "stages": dict(result.meta.timings_s or {}),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, path: Path, model: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(path), model], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{path}: benchmark job failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def long_call(minutes: float, folder: Path, mono: bool = False) -> Path:
    """A call of ``minutes`` made by repeating the stereo demo calls; ``mono`` mixes the two legs into one track."""
    import numpy as np
    from callsynth.speech import write_wav

    from callcoach.speech.audio import load_audio

    parts = [load_audio(ROOT / "audio_samples" / name).samples for name in ("calm_billing.wav", "agent_loses_temper.ogg")]
    target = int(minutes * 60 * 16_000)
    gap = np.zeros((2, 16_000 * 2), dtype=np.float32)
    pieces, n = [], 0
    while n < target:
        for p in parts:
            pieces += [p, gap]
            n += p.shape[1] + gap.shape[1]
    signal = np.concatenate(pieces, axis=1)[:, :target]
    if mono:
        mix = signal.sum(axis=0, keepdims=True)
        signal = mix / max(1.0, float(np.abs(mix).max()) / 0.99)
    return write_wav(folder / f"long_{int(minutes)}min{'_mono' if mono else ''}.wav", signal)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--asr-model", default="tiny.en")
    parser.add_argument("--long-minutes", type=float, help="also benchmark a stereo call of this many minutes")
    parser.add_argument("--long-mono", action="store_true", help="make the long call one mixed track instead of two legs")
    parser.add_argument("--skip-asr-only", action="store_true", help="time the pipeline alone (long calls)")
    args = parser.parse_args()
    paths = list(args.paths)
    tmp = tempfile.TemporaryDirectory()
    if args.long_minutes:
        paths.append(long_call(args.long_minutes, Path(tmp.name), mono=args.long_mono))
    if not paths:
        paths = sorted(p for p in (ROOT / "audio_samples").iterdir() if p.suffix in {".wav", ".flac", ".mp3", ".ogg"})
    print("| call | audio s | ch | ASR-only s | ASR RTF | ASR peak MB | pipeline s | pipeline RTF | pipeline peak MB | overhead vs ASR | stage seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        asr = None if args.skip_asr_only else run(ASR_ONLY, path, args.asr_model)
        pipe = run(PIPELINE, path, args.asr_model)
        audio_s = pipe["audio_s"]
        stages = ", ".join(f"{k[:-2]} {v:.1f}" for k, v in pipe["stages"].items() if k != "total_s")
        if asr:
            asr_cells = f"{asr['seconds']:.1f} | {asr['seconds'] / audio_s:.3f} | {asr['peak_mb']:.0f}"
            overhead = f"{(pipe['seconds'] / asr['seconds'] - 1) * 100:+.0f}%"
        else:
            asr_cells, overhead = "- | - | -", "-"
        print(
            f"| {path.name} | {audio_s:.0f} | {pipe['channels']} | {asr_cells} | {pipe['seconds']:.1f} | "
            f"{pipe['seconds'] / audio_s:.3f} | {pipe['peak_mb']:.0f} | {overhead} | {stages} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
