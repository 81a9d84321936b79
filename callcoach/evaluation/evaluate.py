"""Scores calls that come with ground truth and measures how right callcoach is.

A call with ground truth is an audio file beside ``<id>.truth.json`` (the
format written by ``scripts/make_calls.py``: turns with roles and times,
events, expected check statuses and customer trajectory). For each call the
evaluation reports word error rate per role, diarization error rate (no
collar and 0.25 s collar), role accuracy, event precision/recall/F1 by type
and role, check agreement and trajectory, plus real-time factor; and the
same tables in Markdown.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from callcoach._version import __version__
from callcoach.evaluation.metrics import (
    PRF,
    WordErrors,
    agreement_of,
    bootstrap_interval,
    check_agreement,
    diarization_error_rate,
    f1_of,
    match_events,
    word_errors,
)
from callcoach.evaluation.recipe import UsualRecipe
from callcoach.pipeline import Models, analyse_call
from callcoach.records import CallResult
from callcoach.settings import Settings
from callcoach.speech.audio import channels_identical, is_audio_path, load_audio
from callcoach.speech.rehear import ENCODER_CONTEXT_MIN_S

EVENT_TYPES = ("raised_voice", "rapid_speech", "interruption", "threat")
ROLES = ("agent", "customer")


@dataclass(frozen=True)
class CallScore:
    call_id: str
    condition: str
    duration_s: float
    seconds: float
    wer: dict[str, WordErrors]
    der: float
    der_collar: float
    roles_right: bool
    events: dict[tuple[str, str], PRF]
    checks_agree: int
    checks_total: int
    checks_wrong: tuple[str, ...]
    trajectory_expected: str
    trajectory_found: str
    check_ids: tuple[str, ...] = ()
    missed_events: tuple[str, ...] = ()
    extra_events: tuple[str, ...] = ()
    wer_all: WordErrors | None = None  # every word in time order, roles ignored (comparable with the recipe)
    recipe: RecipeScore | None = None

    @property
    def rtf(self) -> float:
        return self.seconds / max(self.duration_s, 1e-9)


@dataclass(frozen=True)
class RecipeScore:
    """The usual recipe (:mod:`callcoach.evaluation.recipe`) on the same call."""
    wer_all: WordErrors
    der: float
    der_collar: float
    seconds: float
    duration_s: float

    @property
    def rtf(self) -> float:
        return self.seconds / max(self.duration_s, 1e-9)


@dataclass
class Evaluation:
    calls: list[CallScore] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    peak_rss_mb: float = 0.0


def find_truth_calls(paths: Iterable[Path]) -> list[tuple[Path, dict]]:
    """(audio path, truth) for every audio file that has ``<stem>.truth.json`` beside it."""
    out = []
    for root in paths:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if not (path.is_file() and is_audio_path(path)):
                continue
            truth_path = path.with_name(path.stem + ".truth.json")
            if truth_path.is_file():
                out.append((path, json.loads(truth_path.read_text(encoding="utf-8"))))
    return out


def score_against_truth(result: CallResult, truth: dict, seconds: float) -> CallScore:
    roles_by_speaker = {s.id: s.role for s in result.speakers}
    # words per role
    wer = {}
    for role in ROLES:
        ref = " ".join(t["text"] for t in truth["turns"] if t["role"] == role)
        hyp = " ".join(t.text for t in result.turns if t.role == role)
        wer[role] = word_errors(ref, hyp)
    ref_segments = [(t["role"], t["start_s"], t["end_s"]) for t in truth["turns"]]
    # the diarizer's own segments (overlaps kept); turns built from words for results that lack them
    hyp_segments = [(s.speaker, s.start_s, s.end_s) for s in result.speech] or [(t.speaker, t.start_s, t.end_s) for t in result.turns]
    der = diarization_error_rate(ref_segments, hyp_segments)
    der_collar = diarization_error_rate(ref_segments, hyp_segments, collar_s=0.25)
    # roles: the speaker holding most of each true role's speech must carry that role
    roles_right = True
    for role in ROLES:
        spans = [(t["start_s"], t["end_s"]) for t in truth["turns"] if t["role"] == role]
        if not spans:
            continue
        cover: dict[str, float] = {}
        for t in result.turns:
            for a, b in spans:
                cover[t.speaker] = cover.get(t.speaker, 0.0) + max(0.0, min(b, t.end_s) - max(a, t.start_s))
        if not cover or roles_by_speaker.get(max(cover, key=cover.get)) != role:
            roles_right = False
    events = {}
    missed, extra = [], []
    for kind in EVENT_TYPES:
        for role in ROLES:
            want = [(e["start_s"], e["end_s"]) for e in truth["events"] if e["type"] == kind and e["role"] == role]
            got = [(e.start_s, e.end_s) for e in result.events if e.type == kind and e.role == role]
            prf = match_events(want, got)
            events[(kind, role)] = prf
            if prf.false_negatives:
                missed.append(f"{kind}/{role} x{prf.false_negatives}")
            if prf.false_positives:
                extra.append(f"{kind}/{role} x{prf.false_positives}")
    expected = truth.get("expected", {})
    found = {c.id: c.status for c in result.scorecard.checks}
    agree, total, wrong = check_agreement(expected.get("checks", {}), found)
    ref_all = " ".join(t["text"] for t in sorted(truth["turns"], key=lambda t: t["start_s"]))
    hyp_all = " ".join(w.text for w in sorted((w for t in result.turns for w in t.words), key=lambda w: w.start_s))
    return CallScore(
        wer_all=word_errors(ref_all, hyp_all),
        call_id=result.call_id,
        condition=truth.get("condition", "clean"),
        duration_s=result.call.duration_s,
        seconds=seconds,
        wer=wer,
        der=der,
        der_collar=der_collar,
        roles_right=roles_right,
        events=events,
        checks_agree=agree,
        checks_total=total,
        checks_wrong=tuple(f"{cid}:{expected['checks'][cid]}->{found.get(cid)}" for cid in wrong),
        trajectory_expected=expected.get("customer_trajectory", ""),
        trajectory_found=result.customer_trajectory,
        check_ids=tuple(expected.get("checks", {})),
        missed_events=tuple(missed),
        extra_events=tuple(extra),
    )


def evaluate(
    paths: Sequence[Path],
    settings: Settings | None = None,
    *,
    mono_mix: bool = False,
    baseline: bool = False,
    on_call: Callable[[CallScore], None] | None = None,
) -> Evaluation:
    """Score every call with ground truth under ``paths``; a failing call is recorded, not fatal.

    With ``mono_mix``, every stereo call is scored a second time as the mono
    mix of its channels (condition ``<condition>+mono``), which is how a
    mono recording of the same call would sound. With ``baseline``, every
    call also goes through the usual recipe (:mod:`callcoach.evaluation.recipe`, needs
    the ``pyannote`` extra) for its word error rate, DER and speed.
    """
    settings = settings or Settings()
    models = Models(settings)
    recipe = None
    if baseline:
        recipe = UsualRecipe(settings)
    evaluation = Evaluation()
    with tempfile.TemporaryDirectory(prefix="callcoach-eval-") as tmp:
        for path, truth in find_truth_calls(paths):
            runs = [(path, truth)]
            if mono_mix:
                mix = write_mono_mix(path, Path(tmp))
                if mix is not None:
                    runs.append((mix, {**truth, "condition": truth.get("condition", "clean") + "+mono"}))
            for audio_path, call_truth in runs:
                t0 = time.perf_counter()
                try:
                    result = analyse_call(
                        audio_path, settings, models=models, call_id=call_truth.get("id", path.stem), source_name=path.name
                    )
                except Exception as exc:  # an evaluation reports failures as rows
                    evaluation.failures.append((str(audio_path), f"{type(exc).__name__}: {exc}"))
                    continue
                score = score_against_truth(result, call_truth, time.perf_counter() - t0)
                if recipe is not None:
                    score = replace(score, recipe=_recipe_score(recipe, audio_path, call_truth))
                evaluation.calls.append(score)
                if on_call:
                    on_call(score)
    evaluation.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return evaluation


def _recipe_score(recipe, path: Path, truth: dict) -> RecipeScore:
    run = recipe.run(path)
    ref = [(t["role"], t["start_s"], t["end_s"]) for t in truth["turns"]]
    hyp = [(s.speaker, s.start_s, s.end_s) for s in run.segments]
    ref_all = " ".join(t["text"] for t in sorted(truth["turns"], key=lambda t: t["start_s"]))
    return RecipeScore(
        wer_all=word_errors(ref_all, " ".join(w.text for w in run.words)),
        der=diarization_error_rate(ref, hyp),
        der_collar=diarization_error_rate(ref, hyp, collar_s=0.25),
        seconds=run.seconds,
        duration_s=run.duration_s,
    )


def write_mono_mix(path: Path, folder: Path) -> Path | None:
    """The mean of a stereo file's channels as a 16-bit WAV in ``folder``; None for a mono file."""
    from scipy.io import wavfile

    audio = load_audio(path)
    if audio.channels < 2 or channels_identical(audio):
        return None
    out = folder / f"{path.stem}.mono.wav"
    pcm = np.clip(audio.mono() * 32767.0, -32768, 32767).astype(np.int16)
    wavfile.write(out, audio.sample_rate_hz, pcm)
    return out


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown_report(evaluation: Evaluation) -> str:
    """Per-call and per-condition tables, then events by type and role."""
    calls = evaluation.calls
    parts = []
    parts.append("### Per call\n")
    parts.append(
        _table(
            ["call", "condition", "WER agent", "WER customer", "DER", "DER (0.25 s collar)", "roles", "checks", "trajectory", "RTF", "wrong checks", "missed events", "extra events"],
            (
                [
                    c.call_id,
                    c.condition,
                    c.wer["agent"].wer,
                    c.wer["customer"].wer,
                    c.der,
                    c.der_collar,
                    "right" if c.roles_right else "WRONG",
                    f"{c.checks_agree}/{c.checks_total}",
                    f"{c.trajectory_found}" + ("" if c.trajectory_found == c.trajectory_expected else f" (want {c.trajectory_expected})"),
                    c.rtf,
                    ", ".join(c.checks_wrong) or "-",
                    ", ".join(c.missed_events) or "-",
                    ", ".join(c.extra_events) or "-",
                ]
                for c in calls
            ),
        )
    )
    parts.append("\n\n### Per condition\n")
    conditions = sorted({c.condition for c in calls})
    rows = []
    for cond in conditions:
        group = [c for c in calls if c.condition == cond]
        wer = sum((c.wer["agent"] + c.wer["customer"] for c in group), WordErrors(0, 0, 0, 0))
        agree = sum(c.checks_agree for c in group)
        total = sum(c.checks_total for c in group)
        events = sum((prf for c in group for prf in c.events.values()), PRF(0, 0, 0))
        checks_ci, events_ci = intervals(group)
        rows.append(
            [
                cond,
                len(group),
                wer.wer,
                sum(c.der for c in group) / len(group),
                sum(c.der_collar for c in group) / len(group),
                sum(c.roles_right for c in group) / len(group),
                agree / max(total, 1),
                _span(checks_ci),
                events.f1,
                _span(events_ci),
                sum(c.trajectory_found == c.trajectory_expected for c in group) / len(group),
                sum(c.seconds for c in group) / max(sum(c.duration_s for c in group), 1e-9),
            ]
        )
    parts.append(
        _table(["condition", "calls", "WER", "DER", "DER collar", "role accuracy", "check agreement", "95% interval",
                "event F1", "95% interval", "trajectory accuracy", "RTF"], rows)
    )
    parts.append(
        "\nThe intervals come from drawing the calls again with replacement (2,000 draws): "
        "figures whose intervals overlap widely are not told apart by these calls."
    )
    parts.append("\n\n### Events by type and role, per condition\n")
    rows = []
    groups = [(cond, [c for c in calls if c.condition == cond]) for cond in conditions]
    if len(groups) > 1:
        groups.append(("all", calls))
    for cond, group in groups:
        for kind in EVENT_TYPES:
            for role in ROLES:
                prf = sum((c.events[(kind, role)] for c in group), PRF(0, 0, 0))
                if prf.true_positives + prf.false_positives + prf.false_negatives == 0:
                    continue
                rows.append([cond, kind, role, prf.true_positives, prf.false_positives, prf.false_negatives, prf.precision, prf.recall, prf.f1])
    parts.append(_table(["condition", "event", "role", "TP", "FP", "FN", "precision", "recall", "F1"], rows))
    with_recipe = [c for c in calls if c.recipe is not None]
    if with_recipe:
        parts.append("\n\n### Against the usual recipe (pyannote.audio + faster-whisper, words to speakers)\n")
        parts.append(
            "Same calls, same machine, same Whisper model (callcoach also decodes the agent's fast turns again, "
            "and noisy lines whole, with base, within its time). WER over every word in time order (roles ignored); "
            "DER against the true turns. The recipe downmixes stereo and does no roles, prosody or scorecard.\n"
        )
        rows = []
        for cond in sorted({c.condition for c in with_recipe}):
            group = [c for c in with_recipe if c.condition == cond]
            cc_wer = sum((c.wer_all for c in group if c.wer_all), WordErrors(0, 0, 0, 0)).wer
            re_wer = sum((c.recipe.wer_all for c in group), WordErrors(0, 0, 0, 0)).wer
            audio_s = sum(c.duration_s for c in group)
            cc_s, re_s = sum(c.seconds for c in group), sum(c.recipe.seconds for c in group)
            rows.append([
                cond, len(group), cc_wer, re_wer,
                sum(c.der for c in group) / len(group), sum(c.recipe.der for c in group) / len(group),
                sum(c.der_collar for c in group) / len(group), sum(c.recipe.der_collar for c in group) / len(group),
                cc_s / audio_s, re_s / audio_s, re_s / max(cc_s, 1e-9),
            ])
        parts.append(_table(
            ["condition", "calls", "WER callcoach", "WER recipe", "DER callcoach", "DER recipe", "DER collar callcoach",
             "DER collar recipe", "RTF callcoach", "RTF recipe", "callcoach speed-up"], rows))
    parts.append("\n\n### Check agreement by check\n")
    by_check: dict[str, list[int]] = {}
    for c in calls:
        wrong_ids = {w.split(":")[0] for w in c.checks_wrong}
        for cid in c.check_ids:
            stats = by_check.setdefault(cid, [0, 0])
            stats[1] += 1
            stats[0] += cid not in wrong_ids
    parts.append(_table(["check", "agree", "calls", "agreement"], ([k, a, n, a / n] for k, (a, n) in sorted(by_check.items()))))
    if evaluation.failures:
        parts.append("\n\n### Failed calls\n")
        parts.append(_table(["file", "error"], evaluation.failures))
    parts.append(f"\n\nPeak memory (RSS) of the evaluation process: {evaluation.peak_rss_mb:.0f} MB\n")
    return "\n".join(parts)


def intervals(calls: Sequence[CallScore]) -> tuple[tuple[float, float], tuple[float, float]]:
    """95% bootstrap intervals over ``calls`` of (check agreement, event F1)."""
    checks = np.array([[c.checks_agree, c.checks_total] for c in calls])
    events = []
    for c in calls:
        prf = sum(c.events.values(), PRF(0, 0, 0))
        events.append([prf.true_positives, prf.false_positives, prf.false_negatives])
    return bootstrap_interval(checks, agreement_of), bootstrap_interval(np.array(events), f1_of)


def _span(interval: tuple[float, float]) -> str:
    return f"{interval[0]:.3f}-{interval[1]:.3f}"


def summary(evaluation: Evaluation) -> dict[str, float]:
    """Headline figures (used by the CI regression thresholds)."""
    calls = evaluation.calls
    agree = sum(c.checks_agree for c in calls)
    total = sum(c.checks_total for c in calls)
    events = sum((prf for c in calls for prf in c.events.values()), PRF(0, 0, 0))
    return {
        "calls": float(len(calls)),
        "check_agreement": agree / max(total, 1),
        "event_f1": events.f1,
        "role_accuracy": sum(c.roles_right for c in calls) / max(len(calls), 1),
        "trajectory_accuracy": sum(c.trajectory_found == c.trajectory_expected for c in calls) / max(len(calls), 1),
        "wer": sum((c.wer["agent"] + c.wer["customer"] for c in calls), WordErrors(0, 0, 0, 0)).wer,
    }


def machine_info() -> dict[str, str]:
    """What the figures were measured on."""
    import os
    import platform

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": memory,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def _larger_model_use(settings: Settings) -> str:
    """What the larger model decoded, in words: " (fast agent turns ... heard by base)" or ""."""
    if not settings.rehears():
        return ""
    limit = settings.noisy_line_limit_db()
    lines = f", and lines under {limit:g} dB SNR" if limit is not None else ""
    return f" (fast agent turns, with a {ENCODER_CONTEXT_MIN_S:g} s encoder context{lines}, heard by {settings.rehear_model})"


def benchmarks_document(evaluation: Evaluation, settings: Settings, title: str, command: str) -> str:
    """A Markdown section with the machine, models and settings, then the tables."""
    info = machine_info()
    lines = [
        f"## {title}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {info['cpu']}, {info['memory']} memory, Python {info['python']} ({info['system']}). "
        f"callcoach {__version__}, speech model {settings.asr_model}{_larger_model_use(settings)}, diarizer {settings.diarizer}, "
        f"beam {settings.beam_size}.",
        "",
        markdown_report(evaluation),
    ]
    return "\n".join(lines)
