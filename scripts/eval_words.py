#!/usr/bin/env python3
"""Words lost on real calls: callcoach's turns against bare faster-whisper on the same audio.

For each real call with a reference (``audio_samples/real/calls/ref/``, see its README) and each
configuration (``tiny.en``: tiny.en alone; ``tiny.en+rehear``: the default, the agent's fast turns
and noisy lines re-heard by base; ``base``: base for everything):

- WER of callcoach's words (the words of its turns) and of bare faster-whisper, with substitutions,
  deletions and insertions apart. A two-leg call is compared per leg (agent, caller) and also as
  the mono mix of its legs; a mono call as one text in time order.
- "lost stretches": diarized speech of 3 s or more (``--lost-s``) in which callcoach has no word
  (per leg on a two-leg call, any word on a mono one), with the number of words bare
  faster-whisper found there on the same audio.
- the time each costs: wall-clock and CPU seconds of the whole ``analyse_call`` (diarization
  included, the same for every configuration), and of bare faster-whisper.

Bare faster-whisper: ``WhisperModel(model).transcribe(leg or mix, language="en",
word_timestamps=True, vad_filter=True)`` with faster-whisper's other defaults (beam 5, its
temperature fallback, conditioning on previous text, Silero VAD with default settings). For
``tiny.en+rehear`` it is bare tiny.en. Its results are cached per model and audio (``--cache``).

    python scripts/eval_words.py --markdown words.md --json words.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from callcoach.evaluation.metrics import WordErrors, word_errors
from callcoach.pipeline import Models, analyse_call
from callcoach.records import SpeechSegment, Word
from callcoach.settings import Settings
from callcoach.speech.attribute import merge_intervals
from callcoach.speech.audio import load_audio
from callcoach.speech.transcribe import resolve_model

ROOT = Path(__file__).resolve().parents[1]
CALLS = ROOT / "audio_samples" / "real" / "calls"
REF_DIR = CALLS / "ref"
LEGS = ("agent", "caller")  # a two-leg call's channels: agent left (0), caller right (1)
CONFIGS = {
    "tiny.en": Settings(asr_model="tiny.en", rehear_model="off"),
    "tiny.en+rehear": Settings(asr_model="tiny.en", rehear_model="base"),
    "base": Settings(asr_model="base", rehear_model="base"),
}
BARE_MODEL = {"tiny.en": "tiny.en", "tiny.en+rehear": "tiny.en", "base": "base"}


@dataclass(frozen=True)
class Line:
    start_s: float
    end_s: float
    text: str


def read_reference(path: Path) -> list[Line]:
    """``start_s end_s text`` lines; ``#`` starts a comment; ``(?)`` marks and brackets are dropped."""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        a, b, text = line.split(maxsplit=2)
        text = text.replace("(?)", " ").replace("[", " ").replace("]", " ")
        out.append(Line(float(a), float(b), text))
    return out


def calls(ref_dir: Path, audio_dir: Path) -> list[dict]:
    """Each call with a reference: {"id", "audio", "legs": {leg: [Line]}} or {"id", "audio", "mono": [Line]}."""
    found = []
    ids = sorted({p.name.split(".")[0] for p in ref_dir.glob("*.txt") if p.name != "README.txt"})
    for call_id in ids:
        audio = next((p for p in sorted(audio_dir.glob(call_id + ".*")) if p.suffix in (".flac", ".wav")), None)
        if audio is None:
            print(f"{call_id}: no audio in {audio_dir}, skipped", file=sys.stderr)
            continue
        legs = {leg: read_reference(ref_dir / f"{call_id}.{leg}.txt") for leg in LEGS if (ref_dir / f"{call_id}.{leg}.txt").is_file()}
        if legs:
            found.append({"id": call_id, "audio": audio, "legs": legs})
        elif (ref_dir / f"{call_id}.txt").is_file():
            found.append({"id": call_id, "audio": audio, "mono": read_reference(ref_dir / f"{call_id}.txt")})
    return found


def in_order(lines: list[Line]) -> str:
    return " ".join(x.text for x in sorted(lines, key=lambda x: x.start_s))


def bare_words(model_name: str, signal: np.ndarray, cache: Path, models: dict) -> tuple[list[dict], float, float]:
    """Bare faster-whisper's words of a 16 kHz signal: [{"text", "start_s", "end_s"}], wall s, CPU s (cached)."""
    key = hashlib.sha1(signal.tobytes()).hexdigest()[:16]
    path = cache / f"bare-{model_name}-{key}.json"
    if path.is_file():
        data = json.loads(path.read_text())
        return data["words"], data["wall_s"], data["cpu_s"]
    from faster_whisper import WhisperModel

    if model_name not in models:
        models[model_name] = WhisperModel(str(resolve_model(model_name)), device="cpu", compute_type="int8", cpu_threads=2)
    t0, c0 = time.perf_counter(), time.process_time()
    segments, _ = models[model_name].transcribe(signal, language="en", word_timestamps=True, vad_filter=True)
    words = [{"text": w.word.strip(), "start_s": round(w.start, 3), "end_s": round(w.end, 3)} for s in segments for w in s.words or ()]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"words": words, "wall_s": wall, "cpu_s": cpu}))
    return words, wall, cpu


def lost_stretches(speech: list[tuple[float, float]], words: list[tuple[float, float]], min_s: float) -> list[tuple[float, float]]:
    """Parts of ``speech`` (merged spans, s) of ``min_s`` or more that no word (start, end) touches."""
    out = []
    spans = sorted(words)
    for a, b in merge_intervals(speech, gap_s=0.3):
        cursor = a
        for ws, we in spans:
            if we <= a or ws >= b:
                continue
            if ws - cursor >= min_s:
                out.append((cursor, ws))
            cursor = max(cursor, we)
        if b - cursor >= min_s:
            out.append((cursor, b))
    return out


def text_of(words) -> str:
    return " ".join(w["text"] if isinstance(w, dict) else w.text for w in words)


def evaluate_part(ref: str, ours: str, bare: str) -> dict:
    return {"callcoach": asdict(word_errors(ref, ours)), "bare": asdict(word_errors(ref, bare))}


def run_call(call: dict, config: str, settings: Settings, models: Models, cache: Path, fw: dict, lost_s: float,
             mix_dir: Path, label: str) -> list[dict]:
    """Rows for one call and configuration: per leg and the mix for a two-leg call, else the mono call."""
    audio = load_audio(call["audio"])
    rows = []
    variants = []
    if "legs" in call:
        variants.append(("legs", call["audio"]))
        mix = mix_dir / f"{call['id']}.mix.wav"
        if not mix.is_file():
            sf.write(mix, audio.mono(), audio.sample_rate_hz, subtype="PCM_16")
        variants.append(("mix", mix))
    else:
        variants.append(("mono", call["audio"]))
    bare_model = BARE_MODEL[config]
    for kind, path in variants:
        outcome = pipeline_outcome(path, settings, models, cache / "pipeline" / f"{label}-{config}-{call['id']}-{kind}.json")
        timing = outcome["timing"]
        all_words = [Word(**w) for w in outcome["words"]]
        result_speech = [SpeechSegment(**s) for s in outcome["speech"]]
        if kind == "legs":
            channel_of = outcome["channel_of"]
            for ch, leg in enumerate(LEGS):
                if leg not in call["legs"]:
                    continue
                ours = [w for w in all_words if channel_of.get(w.speaker) == ch]
                speakers = {spk for spk, c in channel_of.items() if c == ch}
                speech = [(s.start_s, s.end_s) for s in result_speech if s.speaker in speakers]
                bare, bwall, bcpu = bare_words(bare_model, audio.channel(ch), cache, fw)
                rows.append(_row(call["id"], leg, config, in_order(call["legs"][leg]), ours, speech, bare, lost_s,
                                 timing if ch == 0 else None, (bwall, bcpu)))
        else:
            ref = in_order(call["mono"]) if kind == "mono" else in_order([x for leg in call["legs"].values() for x in leg])
            speech = [(s.start_s, s.end_s) for s in result_speech]
            bare, bwall, bcpu = bare_words(bare_model, load_audio(path).mono(), cache, fw)
            rows.append(_row(call["id"], kind, config, ref, all_words, speech, bare, lost_s, timing, (bwall, bcpu)))
    return rows


def pipeline_outcome(path: Path, settings: Settings, models: Models, cache_file: Path) -> dict:
    """What the evaluation reads of ``analyse_call``: its words in time order, diarized speech, channel per
    speaker, and the time it took (wall and CPU s); kept in ``cache_file`` so references can change without a rerun."""
    if cache_file.is_file():
        return json.loads(cache_file.read_text())
    t0, c0 = time.perf_counter(), time.process_time()
    result = analyse_call(path, settings, models=models)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    words = sorted((w for t in result.turns for w in t.words), key=lambda w: w.start_s)
    outcome = {
        "words": [asdict(w) for w in words],
        "speech": [asdict(s) for s in result.speech],
        "channel_of": {s.id: s.channel for s in result.speakers},
        "timing": {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "audio_s": round(result.call.duration_s, 1),
                   "stages_s": dict(result.meta.timings_s or {}),
                   "reheard_turns": len(result.meta.rehear.turns) if result.meta.rehear else 0},
    }
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(outcome))
    return outcome


def _row(call_id, part, config, ref, ours, speech, bare, lost_s, timing, bare_time) -> dict:
    lost = lost_stretches(speech, [(w.start_s, w.end_s) for w in ours], lost_s)
    lost_rows = []
    for a, b in lost:
        found = [w for w in bare if w["end_s"] > a and w["start_s"] < b]
        lost_rows.append({"start_s": round(a, 2), "end_s": round(b, 2), "bare_words": len(found), "bare_text": text_of(found)})
    return {
        "call": call_id, "part": part, "config": config,
        **evaluate_part(ref, text_of(ours), text_of(bare)),
        "speech_s": round(sum(b - a for a, b in merge_intervals(speech)), 1),
        "lost": lost_rows, "timing": timing,
        "bare_timing": {"wall_s": round(bare_time[0], 1), "cpu_s": round(bare_time[1], 1)},
        "words": len(ours), "low_confidence_words": sum(w.probability < 0.5 for w in ours),
    }


def _sum(rows, who) -> WordErrors:
    return sum((WordErrors(**r[who]) for r in rows), WordErrors(0, 0, 0, 0))


def markdown(rows: list[dict]) -> str:
    out = ["| call | part | config | ref words | callcoach WER (S/D/I) | bare fw WER (S/D/I) | lost >= 3 s: callcoach (s) | of them, bare fw found words |",
           "|---|---|---|---|---|---|---|---|"]

    def cell(e: dict | WordErrors) -> str:
        e = e if isinstance(e, WordErrors) else WordErrors(**e)
        return f"{e.wer:.3f} ({e.substitutions}/{e.deletions}/{e.insertions})"

    for r in rows:
        lost = r["lost"]
        secs = sum(x["end_s"] - x["start_s"] for x in lost)
        out.append(f"| {r['call']} | {r['part']} | {r['config']} | {r['callcoach']['reference_words']} | {cell(r['callcoach'])} | "
                   f"{cell(r['bare'])} | {len(lost)} ({secs:.1f}) | {sum(x['bare_words'] > 0 for x in lost)} |")
    out += ["", "| config | part kind | ref words | callcoach WER (S/D/I) | bare fw WER (S/D/I) | lost stretches (s) | callcoach wall / CPU s | bare fw wall / CPU s |",
            "|---|---|---|---|---|---|---|---|"]
    for config in dict.fromkeys(r["config"] for r in rows):
        for kind, parts in (("legs", LEGS), ("mono + mix", ("mono", "mix"))):
            sel = [r for r in rows if r["config"] == config and r["part"] in parts]
            if not sel:
                continue
            t = [r["timing"] for r in sel if r["timing"]]
            lost = [x for r in sel for x in r["lost"]]
            out.append(
                f"| {config} | {kind} | {_sum(sel, 'callcoach').reference_words} | {cell(_sum(sel, 'callcoach'))} | {cell(_sum(sel, 'bare'))} | "
                f"{len(lost)} ({sum(x['end_s'] - x['start_s'] for x in lost):.1f}) | "
                f"{sum(x['wall_s'] for x in t):.0f} / {sum(x['cpu_s'] for x in t):.0f} | "
                f"{sum(r['bare_timing']['wall_s'] for r in sel):.0f} / {sum(r['bare_timing']['cpu_s'] for r in sel):.0f} |")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio-dir", type=Path, default=CALLS, help="where <call id>.flac/.wav are")
    parser.add_argument("--ref-dir", type=Path, default=REF_DIR)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--calls", nargs="+", default=None, help="call ids (default: every call with a reference)")
    parser.add_argument("--lost-s", type=float, default=3.0)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "eval_words")
    parser.add_argument("--label", default="now", help="names this code's cached pipeline results (e.g. before, after)")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    todo = [c for c in calls(args.ref_dir, args.audio_dir) if args.calls is None or c["id"] in args.calls]
    rows: list[dict] = []
    fw: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs:
            models = Models(CONFIGS[config])
            for call in todo:
                for row in run_call(call, config, CONFIGS[config], models, args.cache, fw, args.lost_s, Path(tmp), args.label):
                    rows.append(row)
                    print(json.dumps({k: row[k] for k in ("call", "part", "config", "callcoach", "bare", "lost", "timing")}), flush=True)
    text = markdown(rows)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
