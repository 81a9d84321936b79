#!/usr/bin/env python3
"""How the prosody and turn-taking events hold on real recorded calls.

The synthetic demo and corpus calls (TTS voices) say little about real
speech, whose level and pitch swing 6-10 dB and 20-50 % on ordinary
emphasis. This script scores the real calls of a manifest
(``eval/real_calls.yaml``) and prints, per call and per split (``dev``: the
calls rules may be tuned on; ``heldout``: never tuned on, looked at last):

- raised_voice and rapid_speech events per call (both parties), interruptions;
- the agent's calm_tone and no_mirroring status, the customer trajectory;
- recall of the true raised stretches (``raised``: [start_s, end_s, role]),
  and raised events outside them.

The slow front of the pipeline (diarize, transcribe, roles, re-hearing) runs
once per recording and is cached (``--cache``); only prosody, events and the
scorecard run again on later runs, so rules can be compared in seconds.

    python scripts/eval_real.py eval/real_calls.yaml --split all
    python scripts/eval_real.py eval/real_calls.yaml --split dev --events   # list every event
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from callcoach import pipeline
from callcoach.records import CallResult, Event
from callcoach.settings import Settings
from callcoach.speech.audio import load_audio
from callcoach.speech.frames import frame_db

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE_S = 0.5  # as callcoach.metrics.match_events
COUNTED = ("raised_voice", "rapid_speech")


@dataclass(frozen=True)
class RealCall:
    """One scored version of a recording: ``mix`` is ``stereo`` (legs as channels) or ``mono``."""

    id: str
    recording: str
    split: str
    mix: str
    path: Path
    upset: bool
    trajectory: tuple[str, ...]
    raised: tuple[tuple[float, float, str], ...]
    agent_channel: str | None
    note: str = ""


def split_of(recording: str) -> str:
    """The split a recording belongs to, fixed before any result is seen: the first byte of
    sha1(recording id) even -> dev, odd -> heldout."""
    return "dev" if hashlib.sha1(recording.encode()).digest()[0] % 2 == 0 else "heldout"


def _resolve(name: str, data: Path) -> Path:
    """A manifest path: ``pyannote:<file>`` one of the files scripts/real_samples.py fetches (the pyannote.audio
    wheel's telephone call, not kept in this repository), otherwise relative to ``data`` (the repository)."""
    if name.startswith("pyannote:"):
        from real_samples import pyannote_sample

        return pyannote_sample() / name[len("pyannote:"):]
    return data / name


def _legs(spec: str | dict, data: Path) -> list:
    """The agent's and the customer's leg: a stereo file (agent left) or two files {agent, customer}."""
    if isinstance(spec, str):
        a = load_audio(_resolve(spec, data))
        return [type(a)(a.info, a.samples[k : k + 1], a.sample_rate_hz) for k in range(2)]
    return [load_audio(_resolve(spec[k], data)) for k in ("agent", "customer")]


def _frame_db(x: np.ndarray, sr: int, hop_s: float = 0.025) -> np.ndarray:
    return frame_db(x, int(sr * hop_s))


def _speech_level_db(x: np.ndarray, sr: int) -> float:
    """Median level of the loud frames (within 30 dB of the 95th percentile): the active speech level."""
    db = _frame_db(x, sr)
    return float(np.median(db[db > np.percentile(db, 95) - 30.0]))


def _splice(host: list[np.ndarray], sr: int, actor: str, data: Path, role_channel: int, at: list[float], repeats: int,
            seed: int) -> tuple[list[np.ndarray], list[tuple[float, float, str]]]:
    """Acted anger of one CREMA-D actor inserted into a real call: at each fraction ``at`` of the call the
    angry sentence ``repeats`` times (a raised stretch). The gain is the one that sets the actor's neutral
    clip to the host party's speech level (the mix's on a mono call), so the acted contrast with the neutral
    sentence is kept; the neutral clip itself is not inserted (a third level in that party's speech). Each insert opens a gap in every channel (other channels: the
    line's noise), so nothing overlaps. Returns the channels and the raised stretches (start_s, end_s, role)."""
    from scipy.signal import resample_poly

    rng = np.random.default_rng(seed)
    clips = {}
    for emotion in ("NEU", "ANG"):
        a = load_audio(data / f"{actor}_{emotion}_XX.flac")
        x = resample_poly(a.samples[0], sr, a.sample_rate_hz) if a.sample_rate_hz != sr else a.samples[0]
        db = _frame_db(x, sr)
        on = np.flatnonzero(db > db.max() - 20.0)  # the sentence without the recording's silence around it
        hop = int(0.025 * sr)
        clips[emotion] = x[max(on[0] - 2, 0) * hop : (on[-1] + 3) * hop]
    gain_db = _speech_level_db(host[role_channel], sr) - _speech_level_db(clips["NEU"], sr)
    over_db = gain_db + 20 * np.log10(np.max(np.abs(clips["ANG"]))) + 1.0
    if over_db > 0:  # the angry clip would clip: the whole party's channel goes down instead (levels kept)
        host = [c * 10 ** (-over_db / 20) if k == role_channel else c for k, c in enumerate(host)]
        gain_db -= over_db
    g = 10 ** (gain_db / 20)
    noise = [np.sqrt(10 ** (np.percentile(_frame_db(c, sr), 10) / 10)) for c in host]
    dur = len(host[0]) / sr
    db = np.max([_frame_db(c, sr) for c in host], axis=0)
    win = int(0.3 / 0.025)
    quiet = np.convolve(db, np.ones(win) / win, mode="same")
    inserts = []
    for k, f in enumerate(at):
        centre = int(f * dur / 0.025)
        lo, hi = max(centre - 200, 0), min(centre + 200, len(quiet))
        t = (lo + int(np.argmin(quiet[lo:hi]))) * 0.025
        kind = "ANG"
        pause = np.zeros(int(0.25 * sr))  # one breath between sentences: one sustained stretch of speech
        parts = [pause]
        for _ in range(2 if kind == "NEU" else repeats):
            parts += [clips[kind] * g, pause]
        inserts.append((t, np.concatenate(parts), kind))
    out = [c.copy() for c in host]
    raised = []
    shift = 0.0
    for t, clip, kind in sorted(inserts, key=lambda x: x[0]):
        i = int((t + shift) * sr)
        for ch in range(len(out)):
            fill = rng.normal(0, noise[ch], len(clip))
            if ch == role_channel:
                fill = fill + clip
            out[ch] = np.concatenate([out[ch][:i], fill, out[ch][i:]])
        if kind == "ANG":
            raised.append((round(t + shift + 0.25, 2), round(t + shift + len(clip) / sr - 0.25, 2), "customer"))
        shift += len(clip) / sr
    return out, raised


def _prepare(entry: dict, data: Path, cache: Path, hosts: dict[str, dict] | None = None) -> list[RealCall]:
    """The manifest entry's audio as files: two legs become one stereo WAV (agent left) and its mono mix."""
    from scipy.io import wavfile

    rec = entry["id"]
    split = entry.get("split") or split_of(rec)
    mixes = entry.get("mixes", ["stereo", "mono"] if "legs" in entry else ["as_is"])
    truth = dict(
        upset=bool(entry.get("upset", False)),
        trajectory=tuple(entry.get("trajectory", ["not_upset", "calmer"] if not entry.get("upset") else ["calmer", "not_calmer"])),
        raised=tuple(tuple(r) for r in entry.get("raised", ())),
        note=entry.get("note", ""),
    )
    out = []
    if "splice" in entry:  # acted speech inserted into another call of the manifest (same split as that call)
        sp = entry["splice"]
        host = (hosts or {})[sp["host"]]
        split = entry.get("split") or host.get("split") or split_of(host["id"])
        signals = _legs(host["legs"], data) if "legs" in host else [load_audio(_resolve(host["file"], data))]
        sr = 8000 if "legs" in host else signals[0].sample_rate_hz
        from scipy.signal import resample_poly
        chans = [resample_poly(a.samples[0], sr, a.sample_rate_hz) if a.sample_rate_hz != sr else a.samples[0] for a in signals]
        n = min(len(c) for c in chans)
        chans, raised = _splice([c[:n] for c in chans], sr, sp["actor"], data, len(chans) - 1, sp.get("at", [0.4, 0.75]),
                                sp.get("repeats", 3), int(hashlib.sha1(rec.encode()).hexdigest()[:6], 16))
        truth.update(raised=tuple(raised), upset=True,
                     trajectory=tuple(entry.get("trajectory", ["calmer", "not_calmer"])))
        stereo = np.stack(chans)
        cache.mkdir(parents=True, exist_ok=True)
        mixes = ["stereo", "mono"] if "legs" in host else ["as_is"]
        for mix in mixes:
            path = cache / f"{rec}.{mix}.wav"
            signal = stereo if mix == "stereo" else stereo.mean(axis=0, keepdims=True)
            from scipy.io import wavfile as _wf
            _wf.write(path, sr, np.clip(signal.T * 32767.0, -32768, 32767).astype(np.int16))
            cid = rec if mix == "as_is" else f"{rec}.{mix}"
            out.append(RealCall(cid, rec, split, mix, path, agent_channel="left" if mix == "stereo" else None, **truth))
        return out
    if "legs" in entry:
        legs = _legs(entry["legs"], data)
        n = min(x.samples.shape[1] for x in legs)
        stereo = np.stack([x.samples[0, :n] for x in legs])
        cache.mkdir(parents=True, exist_ok=True)
        sr = legs[0].sample_rate_hz
        for mix in mixes:
            path = cache / f"{rec}.{mix}.wav"
            if not path.exists():
                signal = stereo if mix == "stereo" else stereo.mean(axis=0, keepdims=True)
                wavfile.write(path, sr, np.clip(signal.T * 32767.0, -32768, 32767).astype(np.int16))
            out.append(RealCall(f"{rec}.{mix}", rec, split, mix, path, agent_channel="left" if mix == "stereo" else None, **truth))
    else:
        path = _resolve(entry["file"], data)
        out.append(RealCall(rec, rec, split, "as_is", path, agent_channel=entry.get("agent_channel"), **truth))
    return out


# --------------------------------------------------------------------------- scoring with a cached front


@functools.cache
def _speech_code() -> str:
    """A digest of callcoach/speech/ (the stages the front runs): a changed diarizer or decoder is run again
    instead of being read from the cache; a changed rule (events, scorecard) is not."""
    digest = hashlib.sha1()
    for path in sorted((ROOT / "callcoach" / "speech").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _front(call: RealCall, settings: Settings, models: pipeline.Models, cache: Path) -> dict[str, Any]:
    """Everything the pipeline hands its analyse stage (diarization, turns, roles, ...), cached by file and settings."""
    key = hashlib.sha1(f"{call.path.resolve()}|{call.path.stat().st_size}|{settings.asr_model}|{settings.rehear_model}|"
                       f"{call.agent_channel}|{_speech_code()}".encode()).hexdigest()[:16]
    store = cache / f"{call.id}.{key}.front.pkl"
    if store.exists():
        try:
            return pickle.loads(store.read_bytes())
        except (ModuleNotFoundError, AttributeError, pickle.UnpicklingError):
            pass  # written by a callcoach whose records have moved since: run the front again
    captured: dict[str, Any] = {}
    original = pipeline._analyse

    def capture(audio, diarization, first_turns, heard, assignment, line, asr_model, models_, settings_, call_id, backend):
        captured.update(diarization=diarization, first_turns=first_turns, heard=heard, assignment=assignment,
                        line=line, asr_model=asr_model, backend=backend)
        return original(audio, diarization, first_turns, heard, assignment, line, asr_model, models_, settings_, call_id, backend)

    pipeline._analyse = capture
    try:
        pipeline.analyse_call(call.path, settings, models=models, call_id=call.id)
    finally:
        pipeline._analyse = original
    store.write_bytes(pickle.dumps(captured))
    return captured


def score(call: RealCall, settings: Settings, models: pipeline.Models, cache: Path) -> CallResult:
    front = _front(call, settings, models, cache)
    audio = load_audio(call.path)
    return pipeline._analyse(audio, front["diarization"], front["first_turns"], front["heard"], front["assignment"],
                             front["line"], front["asr_model"], models, settings, call.id, front["backend"])


# --------------------------------------------------------------------------- measures


@dataclass
class Row:
    call: RealCall
    counts: dict[str, int]
    checks: dict[str, str]
    trajectory: str
    found_raised: int
    false_raised: int
    events: list[Event] = field(default_factory=list)

    @property
    def trajectory_ok(self) -> bool:
        return self.trajectory in self.call.trajectory


def _overlaps(a: float, b: float, c: float, d: float) -> bool:
    return a <= d + TOLERANCE_S and b >= c - TOLERANCE_S


def measure(call: RealCall, result: CallResult) -> Row:
    events = [e for e in result.events if e.type in COUNTED + ("interruption", "patience_violation")]
    counts = {k: sum(e.type == k for e in result.events) for k in COUNTED + ("interruption", "patience_violation")}
    checks = {c.id: c.status for c in result.scorecard.checks if c.id in ("calm_tone", "no_mirroring", "measured_pace", "no_talk_over", "patience")}
    raised = [e for e in result.events if e.type == "raised_voice"]
    # role-blind: on a mono call the diarizer may give the spliced voice to either party (its role is another matter)
    found = sum(any(_overlaps(a, b, e.start_s, e.end_s) for e in raised) for a, b, role in call.raised)
    false = sum(not any(_overlaps(a, b, e.start_s, e.end_s) for a, b, role in call.raised) for e in raised)
    return Row(call, counts, checks, result.customer_trajectory, found, false, events)


def _ok(status: str | None) -> bool:
    return status in ("pass", "na", None)


def report(rows: list[Row], show_events: bool) -> str:
    lines = ["| call | split | upset | raised | rapid | interr. | patience | calm_tone | no_mirroring | measured_pace | trajectory (want) | raised found | raised outside truth |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r.call
        lines.append(f"| {c.id} | {c.split} | {'yes' if c.upset else 'no'} | {r.counts['raised_voice']} | {r.counts['rapid_speech']} | "
                     f"{r.counts['interruption']} | {r.counts['patience_violation']} | {r.checks.get('calm_tone', '-')} | "
                     f"{r.checks.get('no_mirroring', '-')} | {r.checks.get('measured_pace', '-')} | {r.trajectory} ({'/'.join(c.trajectory)}) | "
                     f"{r.found_raised}/{len(c.raised)} | {r.false_raised if c.raised else '-'} |")
        if show_events:
            for e in r.events:
                lines.append(f"|   | {e.type} | {e.role} {e.speaker} | {e.start_s:.2f}-{e.end_s:.2f} | {e.detail} |")
    lines += ["", "| split | calls | calm calls | raised+rapid per calm call | calm_tone pass (calm) | no_mirroring ok (calm) | trajectory right | raised recall | raised outside truth (spliced calls) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for split in ("dev", "heldout"):
        rs = [r for r in rows if r.call.split == split]
        if not rs:
            continue
        calm = [r for r in rs if not r.call.upset]
        per = np.mean([r.counts["raised_voice"] + r.counts["rapid_speech"] for r in calm]) if calm else float("nan")
        tone = sum(r.checks.get("calm_tone") == "pass" for r in calm)
        mirror = sum(_ok(r.checks.get("no_mirroring")) for r in calm)
        traj = sum(r.trajectory_ok for r in rs)
        want = sum(len(r.call.raised) for r in rs)
        got = sum(r.found_raised for r in rs)
        spliced = [r for r in rs if r.call.raised]
        lines.append(f"| {split} | {len(rs)} | {len(calm)} | {per:.2f} | {tone}/{len(calm)} | {mirror}/{len(calm)} | {traj}/{len(rs)} | "
                     f"{(f'{got}/{want} = {got / want:.2f}' if want else '-')} | {sum(r.false_raised for r in spliced) if spliced else '-'} |")
    return "\n".join(lines)


def synthetic(paths: list[Path], mono_mix: bool, cache: Path, show: bool) -> str:
    """Event F1 and check agreement on calls with ``<id>.truth.json`` (demo, rendered corpus), fronts cached."""
    from callcoach.evaluation.evaluate import Evaluation, find_truth_calls, score_against_truth, summary, write_mono_mix
    from callcoach.evaluation.metrics import PRF

    settings = Settings()
    models = pipeline.Models(settings)
    ev = Evaluation()
    mixes = cache / "mono"
    mixes.mkdir(parents=True, exist_ok=True)
    for path, truth in find_truth_calls(paths):
        runs = [(path, truth, truth.get("condition", "clean"))]
        if mono_mix:
            mix = mixes / f"{path.stem}.{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}.mono.wav"
            if not mix.exists():
                made = write_mono_mix(path, mixes)
                if made is not None:
                    made.rename(mix)
            if mix.exists():
                runs.append((mix, truth, truth.get("condition", "clean") + "+mono"))
        for audio_path, t, condition in runs:
            call = RealCall(f"{t.get('id', path.stem)}.{condition}", str(path), "synthetic", condition, audio_path, False, (), (), None)
            print(f"scoring {call.id} ...", file=sys.stderr, flush=True)
            result = score(call, settings, models, cache)
            ev.calls.append(score_against_truth(result, {**t, "condition": condition}, 0.0))
    lines = []
    for cond in sorted({c.condition for c in ev.calls}) + ["all"]:
        calls = [c for c in ev.calls if cond in ("all", c.condition)]
        s = summary(Evaluation(calls))
        per = {}
        for c in calls:
            for k, prf in c.events.items():
                per[k] = per.get(k, PRF(0, 0, 0)) + prf
        kinds = ", ".join(f"{k[0]}/{k[1]} {p.f1:.3f} ({p.true_positives}/{p.false_positives}/{p.false_negatives})"
                          for k, p in sorted(per.items()) if p.true_positives + p.false_positives + p.false_negatives)
        lines.append(f"{cond}: calls {len(calls)}, check agreement {s['check_agreement']:.3f} "
                     f"({sum(c.checks_agree for c in calls)}/{sum(c.checks_total for c in calls)}), event F1 {s['event_f1']:.3f}, "
                     f"trajectory {s['trajectory_accuracy']:.3f}\n    {kinds}")
    if show:
        for c in ev.calls:
            if c.checks_wrong or c.missed_events or c.extra_events or c.trajectory_found != c.trajectory_expected:
                lines.append(f"  {c.call_id} [{c.condition}] wrong {list(c.checks_wrong)} missed {list(c.missed_events)} "
                             f"extra {list(c.extra_events)} trajectory {c.trajectory_found} (want {c.trajectory_expected})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", type=Path, help="a manifest of real calls (YAML), or with --truth folders of calls with truth files")
    ap.add_argument("more", type=Path, nargs="*", help="with --truth: more folders")
    ap.add_argument("--truth", action="store_true", help="score synthetic calls with <id>.truth.json (event F1, check agreement)")
    ap.add_argument("--mono-mix", action="store_true", help="with --truth: also each stereo call's mono mix")
    ap.add_argument("--data", type=Path, default=ROOT, help="folder the manifest's paths are relative to (default: this repository)")
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "eval_real")
    ap.add_argument("--split", choices=["dev", "heldout", "all"], default="dev", help="which split to score (default dev)")
    ap.add_argument("--only", nargs="*", default=None, help="recording ids to score")
    ap.add_argument("--events", action="store_true", help="list every counted event (with --truth: every call that is wrong)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    if args.truth:
        print(synthetic([args.manifest, *args.more], args.mono_mix, args.cache, args.events))
        return 0
    manifest = yaml.safe_load(args.manifest.read_text(encoding="utf-8"))
    calls: list[RealCall] = []
    hosts = {e["id"]: e for e in manifest["calls"]}
    for entry in manifest["calls"]:
        if args.only and entry["id"] not in args.only:
            continue
        if entry.get("split") and "splice" not in entry and entry["split"] != split_of(entry["id"]):
            print(f"warning: {entry['id']}: manifest split {entry['split']} differs from the hash rule", file=sys.stderr)
        for call in _prepare(entry, args.data, args.cache, hosts):
            if args.split in ("all", call.split):
                calls.append(call)
    base = Settings()
    models = pipeline.Models(base)
    rows = []
    for call in calls:
        settings = Settings(agent_channel=call.agent_channel) if call.agent_channel else base  # type: ignore[arg-type]
        print(f"scoring {call.id} ...", file=sys.stderr, flush=True)
        rows.append(measure(call, score(call, settings, models, args.cache)))
    print(report(rows, args.events))
    if args.json:
        args.json.write_text(json.dumps([{"id": r.call.id, "split": r.call.split, "counts": r.counts, "checks": r.checks,
                                          "trajectory": r.trajectory, "raised_found": r.found_raised,
                                          "raised_true": len(r.call.raised), "raised_outside": r.false_raised} for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
