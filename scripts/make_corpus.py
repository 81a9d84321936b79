#!/usr/bin/env python3
"""Render the evaluation corpus: every dialogue in corpus/dialogues/, in listening conditions.

Usage::

    python scripts/make_corpus.py                          # all calls, all conditions -> corpus_out/
    python scripts/make_corpus.py --calls 8 --conditions clean,g711,noise_10db
    python scripts/make_corpus.py --fast --out /tmp/fast   # the CI subset: 4 calls, clean + g711
    callcoach eval corpus_out                              # score it (tables per condition)

Each condition is a subfolder of ``--out`` holding ``<id>.<ext>`` and
``<id>.truth.json`` (the truth of ``scripts/make_calls.py`` plus
``"condition": <name>``, with ``file``, ``channels``, ``sample_rate_hz``,
``duration_s`` and times updated to the degraded audio). Degraded audio is
16-bit PCM WAV. Conditions:

- ``clean``: the dialogue as written (its own format, channels and rate),
  rendered with :data:`RENDER_DEFAULTS` where the dialogue does not set them:
  speaking-rate normalisation on (``calm_max_syllables_per_s`` =
  ``make_calls.CALM_MAX_SYLLABLES_PER_S``), so calm turns stay in the calm
  band whatever the TTS voice and rapid turns are 1.55 x the calm rate.
- ``mono``: stereo calls summed to one channel (mono calls are skipped).
- ``g711``: G.711 mu-law at 8 kHz round trip (sox ``-e mu-law``).
- ``gsm``: GSM 06.10 full-rate at 8 kHz round trip (sox ``-t gsm``), per channel.
- ``noise_20db`` / ``noise_10db`` / ``noise_5db``: babble (time-reversed
  speech of the call, 6 talkers) plus pink noise, at that SNR below the
  active speech level of each channel.
- ``clipping``: overdriven input, hard-clipped so ~2% of samples sit at the rails.
- ``quiet_agent``: agent channel -15 dB (stereo calls only).
- ``crosstalk``: each party leaks into the other channel at -12 dB (stereo only).
- ``hold_music``: 10-20 s of synthetic hold music (chords + melody, numpy)
  inserted in a silent gap near mid-call; later truth times shifted; the
  truth gets ``"hold": {"start_s", "end_s"}``.
- ``long``: ONE call of ``--long-minutes`` (60) made by joining the selected
  clean calls (mixed to mono, resampled to 8 kHz) in a cycle, 2-6 s of
  silence between them and hold music every 5th join; truth turns/events
  concatenated. Its ``expected`` is aggregated (see :func:`aggregate_expected`).

The degradations live in :mod:`callcoach.evaluation.degrade`. Output is deterministic
for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import wave
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import make_calls
import numpy as np
import soundfile as sf

from callcoach.evaluation import degrade

REPO_ROOT = Path(__file__).resolve().parent.parent


DIALOGUES_DIR = REPO_ROOT / "corpus" / "dialogues"
DEFAULT_OUT = REPO_ROOT / "corpus_out"
CONDITIONS = ("clean", "mono", "g711", "gsm", "noise_20db", "noise_10db", "noise_5db", "clipping",
              "quiet_agent", "crosstalk", "hold_music", "long")
STEREO_ONLY = ("mono", "quiet_agent", "crosstalk")
# CI subset: 2 stereo + 2 mono; raised voice, rapid speech, interruption, threat, de-escalation
FAST_IDS = ("c05_rushing_agent", "c09_legal_threat_deescalated", "c04_agent_mirrors",
            "c28_shouting_deescalated")
FAST_CONDITIONS = ("clean", "g711")
CLIP_FRACTION = 0.02
QUIET_AGENT_DB = -15.0
CROSSTALK_DB = -12.0
LONG_RATE_HZ = 8000
# make_calls spec keys the corpus sets where a dialogue does not: calm-level turns
# faster than 3.7 syllables/s (~160 words/min; see make_calls.CALM_MAX_SYLLABLES_PER_S)
# are slowed to it, so "calm" means the calm band and rapid is always clearly faster.
RENDER_DEFAULTS: dict[str, Any] = {"calm_max_syllables_per_s": make_calls.CALM_MAX_SYLLABLES_PER_S}
# expected-check aggregation for the long call: checks a single failure spoils
FAIL_DOMINATES = ("calm_tone", "no_mirroring", "measured_pace", "no_talk_over", "patience",
                  "positive_language", "no_provocation", "professional")


# ------------------------------------------------------------------ helpers


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(k.encode()) for k in keys)])


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """float32 (n, channels) and the rate of a wav/flac/ogg file."""
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return x, int(sr)


def write_wav(path: Path, x: np.ndarray, sr: int) -> None:
    """16-bit PCM WAV with saturation; ``x`` is (n,) or (n, channels)."""
    y = x[:, None] if x.ndim == 1 else x
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(y.shape[1])
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(np.clip(np.round(y * 32767.0), -32768, 32767).astype("<i2").tobytes())


def _write_truth(folder: Path, truth: dict[str, Any]) -> None:
    (folder / f"{truth['id']}.truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")


def select_dialogues(dialogues_dir: Path, calls: int | None, fast: bool) -> list[Path]:
    paths = sorted(dialogues_dir.glob("*.yaml"))
    if fast:
        by_id = {p.stem: p for p in paths}
        missing = [i for i in FAST_IDS if i not in by_id]
        if missing:
            raise SystemExit(f"error: fast-subset dialogues missing: {', '.join(missing)}")
        paths = [by_id[i] for i in FAST_IDS]
    if calls is not None:
        paths = paths[:calls]
    return paths


# --------------------------------------------------------------- conditions

Degrader = Callable[[np.ndarray, int, dict[str, Any], np.random.Generator],
                    "tuple[np.ndarray, int, dict[str, Any]] | None"]


def _mono(x, sr, truth, rng):
    if x.shape[1] != 2:
        return None
    return degrade.mix_to_mono(x)[:, None], sr, {"channels": 1, "agent_channel": None}


def _g711(x, sr, truth, rng):
    return degrade.mulaw_roundtrip(x, sr), degrade.MULAW_RATE_HZ, {"sample_rate_hz": degrade.MULAW_RATE_HZ}


def _gsm(x, sr, truth, rng):
    return degrade.gsm_roundtrip(x, sr), degrade.GSM_RATE_HZ, {"sample_rate_hz": degrade.GSM_RATE_HZ}


def _noise(snr_db: float) -> Degrader:
    def apply(x, sr, truth, rng):
        return degrade.add_noise(x, sr, snr_db, rng), sr, {"snr_db": snr_db}
    return apply


def _clipping(x, sr, truth, rng):
    y = degrade.hard_clip(x, CLIP_FRACTION)
    return y, sr, {"clipped_fraction": round(degrade.clipped_fraction(y), 4)}


def _quiet_agent(x, sr, truth, rng):
    if x.shape[1] != 2:
        return None
    return degrade.gain(x, QUIET_AGENT_DB, channel=truth["agent_channel"]), sr, {"agent_gain_db": QUIET_AGENT_DB}


def _crosstalk(x, sr, truth, rng):
    if x.shape[1] != 2:
        return None
    return degrade.add_crosstalk(x, CROSSTALK_DB), sr, {"crosstalk_db": CROSSTALK_DB}


def _hold(x, sr, truth, rng):
    dur = float(rng.uniform(10.0, 20.0))
    music = degrade.hold_music(dur, sr, rng)
    at = degrade.quietest_gap(truth["turns"], truth["duration_s"])
    at = round(int(round(at * sr)) / sr, 6)
    by = len(music) / sr
    y = degrade.insert_segment(x, music, at, sr)
    shifted = degrade.shift_truth(truth, at, by)
    shifted["hold"] = {"start_s": round(at, 3), "end_s": round(at + by, 3)}
    return y, sr, shifted


DEGRADERS: dict[str, Degrader] = {
    "mono": _mono, "g711": _g711, "gsm": _gsm, "noise_20db": _noise(20.0), "noise_10db": _noise(10.0),
    "noise_5db": _noise(5.0), "clipping": _clipping, "quiet_agent": _quiet_agent,
    "crosstalk": _crosstalk, "hold_music": _hold,
}


def render_condition(name: str, clean_dir: Path, out_dir: Path, ids: Sequence[str], seed: int) -> int:
    """Degrade every clean call of ``ids`` into ``out_dir``; returns how many were written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for cid in ids:
        truth = json.loads((clean_dir / f"{cid}.truth.json").read_text(encoding="utf-8"))
        x, sr = read_audio(clean_dir / truth["file"])
        res = DEGRADERS[name](x, sr, truth, _rng(seed, name, cid))
        if res is None:
            continue
        y, new_sr, update = res
        y = y[:, None] if y.ndim == 1 else y
        new = {**truth, **update} if "turns" not in update else dict(update)
        new.update({"file": f"{cid}.wav", "condition": name, "sample_rate_hz": new_sr,
                    "channels": int(y.shape[1]), "duration_s": round(len(y) / new_sr, 3)})
        if y.shape[1] == 1:
            new["agent_channel"] = None
        write_wav(out_dir / f"{cid}.wav", y, new_sr)
        _write_truth(out_dir, new)
        written += 1
    return written


# --------------------------------------------------------------------- long


def aggregate_expected(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Expected results of calls joined into one, from theirs, in order.

    - tone/language checks (``FAIL_DOMINATES``): fail if any part fails, else
      pass if any passes, else na;
    - every other check (a cue said somewhere, a boundary set, threats
      logged, escalation offered): pass if any part passes, else fail if any
      fails, else na;
    - trajectory: ``not_upset`` when no part had an upset customer, else the
      last part's ending: ``not_calmer`` if it ends upset, ``calmer`` otherwise.
    """
    checks: dict[str, str] = {}
    for cid in make_calls.CHECK_IDS:
        statuses = [p.get("checks", {}).get(cid) for p in parts]
        statuses = [s for s in statuses if s]
        if not statuses:
            continue
        order = ("fail", "pass", "na") if cid in FAIL_DOMINATES else ("pass", "fail", "na")
        checks[cid] = next(s for s in order if s in statuses)
    trajs = [p.get("customer_trajectory") for p in parts]
    if all(t == "not_upset" for t in trajs):
        traj = "not_upset"
    else:
        traj = "not_calmer" if trajs[-1] == "not_calmer" else "calmer"
    return {"customer_trajectory": traj, "checks": checks}


def render_long(clean_dir: Path, out_dir: Path, ids: Sequence[str], seed: int, minutes: float) -> int:
    """Join clean calls (mono, 8 kHz) into one call of ``minutes``; returns 1."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed, "long")
    sr = LONG_RATE_HZ
    calls = []
    for cid in ids:
        truth = json.loads((clean_dir / f"{cid}.truth.json").read_text(encoding="utf-8"))
        x, csr = read_audio(clean_dir / truth["file"])
        calls.append((degrade.resample(degrade.mix_to_mono(x), csr, sr), truth))
    # end on a part whose customer is not left upset, so the trajectory is well defined
    calm_last = [i for i, (_, t) in enumerate(calls)
                 if t.get("expected", {}).get("customer_trajectory") != "not_calmer"]
    target = int(minutes * 60 * sr)
    pieces: list[np.ndarray] = []
    turns, events, parts, holds, sources = [], [], [], [], []
    pos = 0
    k = 0
    while pos < target or (calm_last and parts and
                           parts[-1].get("customer_trajectory") == "not_calmer"):
        x, truth = calls[k % len(calls)]
        if k:
            if k % 5 == 0:
                music = degrade.hold_music(float(rng.uniform(10, 20)), sr, rng)
                holds.append({"start_s": round(pos / sr, 3), "end_s": round((pos + len(music)) / sr, 3)})
                pieces.append(music)
                pos += len(music)
            gap = np.zeros(int(rng.uniform(2.0, 6.0) * sr), np.float32)
            pieces.append(gap)
            pos += len(gap)
        off = pos / sr
        turns += [{**t, "start_s": round(t["start_s"] + off, 3), "end_s": round(t["end_s"] + off, 3)}
                  for t in truth["turns"]]
        events += [{**e, "start_s": round(e["start_s"] + off, 3), "end_s": round(e["end_s"] + off, 3)}
                   for e in truth["events"]]
        parts.append(truth.get("expected", {}))
        sources.append({"id": truth["id"], "start_s": round(off, 3)})
        pieces.append(x.astype(np.float32))
        pos += len(x)
        k += 1
        if k > 100000:  # pragma: no cover - guard against an empty corpus
            break
    audio = np.concatenate(pieces)
    cid = f"long_{int(minutes)}min"
    truth = {"id": cid, "file": f"{cid}.wav", "condition": "long", "channels": 1, "sample_rate_hz": sr,
             "duration_s": round(len(audio) / sr, 3), "agent_channel": None, "turns": turns,
             "events": events, "expected": aggregate_expected(parts), "hold": holds, "sources": sources}
    write_wav(out_dir / f"{cid}.wav", audio, sr)
    _write_truth(out_dir, truth)
    return 1


# ---------------------------------------------------------------------- CLI


def build(out: Path, conditions: Sequence[str], dialogues: Sequence[Path], seed: int,
          long_minutes: float = 60.0, log: Callable[[str], None] = print) -> dict[str, int]:
    """Render ``dialogues`` into ``out/clean`` and then every other condition; returns counts."""
    clean_dir = out / "clean"
    clean_dir.mkdir(parents=True, exist_ok=True)
    ids = []
    t0 = time.perf_counter()
    for path in dialogues:
        spec = make_calls.load_spec(path, defaults=RENDER_DEFAULTS)
        make_calls.render_call(spec, clean_dir)
        truth_path = clean_dir / f"{spec['id']}.truth.json"
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        truth["condition"] = "clean"
        _write_truth(clean_dir, truth)
        ids.append(spec["id"])
    counts = {}
    if "clean" in conditions:
        counts["clean"] = len(ids)
        log(f"clean: {len(ids)} calls ({time.perf_counter() - t0:.1f} s)")
    for name in conditions:
        if name == "clean":
            continue
        t0 = time.perf_counter()
        if name == "long":
            counts[name] = render_long(clean_dir, out / name, ids, seed, long_minutes)
        else:
            counts[name] = render_condition(name, clean_dir, out / name, ids, seed)
        log(f"{name}: {counts[name]} calls ({time.perf_counter() - t0:.1f} s)")
    if "clean" not in conditions:
        shutil.rmtree(clean_dir)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default corpus_out/)")
    parser.add_argument("--conditions", default=None,
                        help=f"comma-separated subset of: {', '.join(CONDITIONS)} (default: all; "
                             f"with --fast: {','.join(FAST_CONDITIONS)})")
    parser.add_argument("--calls", type=int, default=None, help="only the first N dialogues (sorted by name)")
    parser.add_argument("--seed", type=int, default=0, help="seed for noise, music and gaps (default 0)")
    parser.add_argument("--fast", action="store_true",
                        help=f"CI subset: {', '.join(FAST_IDS)} in {' + '.join(FAST_CONDITIONS)}")
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES_DIR, help="folder of dialogue YAML files")
    parser.add_argument("--long-minutes", type=float, default=60.0, help="length of the 'long' call (default 60)")
    args = parser.parse_args(argv)
    if args.conditions:
        conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    else:
        conditions = list(FAST_CONDITIONS if args.fast else CONDITIONS)
    bad = [c for c in conditions if c not in CONDITIONS]
    if bad or not conditions:
        parser.error(f"unknown condition(s) {', '.join(bad) or '(none)'}; allowed: {', '.join(CONDITIONS)}")
    if args.calls is not None and args.calls < 1:
        parser.error("--calls must be >= 1")
    if shutil.which("sox") is None:
        print("error: sox is not installed", file=sys.stderr)
        return 1
    dialogues = select_dialogues(args.dialogues, args.calls, args.fast)
    if not dialogues:
        parser.error(f"no dialogue files in {args.dialogues}")
    try:
        build(args.out, conditions, dialogues, args.seed, args.long_minutes)
    except (make_calls.SpecError, make_calls.RenderError, degrade.CodecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
