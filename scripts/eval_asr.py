#!/usr/bin/env python3
"""Word accuracy of callcoach's transcription against faster-whisper alone.

For each call with a reference (demo calls: their dialogue in
``<id>.truth.json``; real recordings: ``<id>.txt`` beside the audio) and
each model (tiny.en, with the agent's fast turns re-heard by base, and base):

- ``fw alone``: faster-whisper as a user would run it: its Silero VAD on,
  each channel of a stereo call transcribed separately, mono transcribed once;
- ``callcoach``: the words of the turns callcoach builds (diarized speech only).

Stereo calls are compared per channel against that party's lines; mono
calls as one text in time order. The key-word columns count how many of
the reference's scorecard words (sorry/apologise, understand, and the
negations not/n't/never/cannot) each system got, since one lost "can't"
changes a boundary or a solution check.

    python scripts/eval_asr.py                      # demo calls + audio_samples/real
    python scripts/eval_asr.py --markdown asr.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from callcoach.evaluation.metrics import WordErrors, normalise_words, word_errors
from callcoach.pipeline import Models, analyse_call
from callcoach.settings import Settings
from callcoach.speech.audio import is_audio_path, load_audio
from callcoach.speech.transcribe import resolve_model

ROOT = Path(__file__).resolve().parents[1]
KEY = re.compile(r"^(sorry|apologi[sz]e|apologies|understand|not|never|can|cannot)$")


def references(folder: Path) -> list[tuple[Path, dict]]:
    """(audio, {"by_channel": {ch: text} or {}, "text": all text in order})."""
    out = []
    for path in sorted(folder.rglob("*")):
        if not (path.is_file() and is_audio_path(path)):
            continue
        truth = path.with_name(path.stem + ".truth.json")
        txt = path.with_suffix(".txt")
        if truth.is_file():
            t = json.loads(truth.read_text(encoding="utf-8"))
            text = " ".join(turn["text"] for turn in t["turns"])
            by_channel = {}
            if t.get("channels") == 2 and t.get("agent_channel") is not None:
                ac = int(t["agent_channel"])
                by_channel = {
                    ac: " ".join(x["text"] for x in t["turns"] if x["role"] == "agent"),
                    1 - ac: " ".join(x["text"] for x in t["turns"] if x["role"] == "customer"),
                }
            out.append((path, {"text": text, "by_channel": by_channel}))
        elif txt.is_file():
            out.append((path, {"text": txt.read_text(encoding="utf-8"), "by_channel": {}}))
    return out


def key_words(text: str) -> list[str]:
    return [w for w in normalise_words(text) if KEY.match(w)]


def key_recall(ref: str, hyp: str) -> tuple[int, int]:
    want = key_words(ref)
    got = key_words(hyp)
    hits = 0
    for w in want:
        if w in got:
            got.remove(w)
            hits += 1
    return hits, len(want)


def fw_alone(model, audio, channels: list[int]) -> dict[int, str]:
    out = {}
    for c in channels:
        segments, _ = model.transcribe(
            audio.channel(c) if audio.channels > 1 else audio.mono(),
            language="en", beam_size=1, word_timestamps=True, vad_filter=True, condition_on_previous_text=False,
        )
        out[c] = " ".join(s.text for s in segments)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path, default=None, help="default: audio_samples/ and the real samples")
    parser.add_argument("--models", nargs="+", default=None, help="default: tiny.en, plus base when installed")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    models = args.models
    if models is None:
        models = ["tiny.en"]
        try:
            resolve_model("base")
            models.append("base")
        except Exception:
            pass
    from faster_whisper import WhisperModel

    folders = args.folders
    if not folders:
        from real_samples import pyannote_sample

        folders = [ROOT / "audio_samples", pyannote_sample()]
    calls = [c for folder in folders for c in references(folder)]
    lines = [
        "| call | model | WER fw alone | WER callcoach | key words fw alone | key words callcoach |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for model_name in models:
        settings = Settings(asr_model=model_name)
        pipeline_models = Models(settings)
        fw = WhisperModel(str(resolve_model(model_name)), device="cpu", compute_type="int8")
        tot_fw, tot_cc = WordErrors(0, 0, 0, 0), WordErrors(0, 0, 0, 0)
        keys_fw, keys_cc, keys_n = 0, 0, 0
        for path, ref in calls:
            audio = load_audio(path)
            result = analyse_call(path, settings, models=pipeline_models)
            if ref["by_channel"]:
                alone = fw_alone(fw, audio, sorted(ref["by_channel"]))
                channel_of = {s.id: s.channel for s in result.speakers}
                pairs = []
                for ch, ref_text in ref["by_channel"].items():
                    ours = " ".join(t.text for t in result.turns if channel_of.get(t.speaker) == ch)
                    pairs.append((ref_text, alone[ch], ours))
            else:
                alone = fw_alone(fw, audio, [0])
                pairs = [(ref["text"], alone[0], " ".join(t.text for t in result.turns))]
            e_fw = sum((word_errors(r, a) for r, a, _ in pairs), WordErrors(0, 0, 0, 0))
            e_cc = sum((word_errors(r, o) for r, _, o in pairs), WordErrors(0, 0, 0, 0))
            k_fw = [key_recall(r, a) for r, a, _ in pairs]
            k_cc = [key_recall(r, o) for r, _, o in pairs]
            kf, n = sum(h for h, _ in k_fw), sum(m for _, m in k_fw)
            kc = sum(h for h, _ in k_cc)
            tot_fw, tot_cc = tot_fw + e_fw, tot_cc + e_cc
            keys_fw, keys_cc, keys_n = keys_fw + kf, keys_cc + kc, keys_n + n
            line = f"| {path.name} | {model_name} | {e_fw.wer:.3f} | {e_cc.wer:.3f} | {kf}/{n} | {kc}/{n} |"
            lines.append(line)
            print(line, flush=True)
        line = f"| **all** | {model_name} | {tot_fw.wer:.3f} | {tot_cc.wer:.3f} | {keys_fw}/{keys_n} | {keys_cc}/{keys_n} |"
        lines.append(line)
        print(line, flush=True)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
