"""Scoring many recordings into one output folder, resumably.

:func:`score_paths` finds the audio in files and folders, gives each call a
unique, file-system-safe id, and scores the calls that are not already done
(a call is done when the store holds its result under the same fingerprint:
audio content, file name, settings, rubric and models) on an engine from
:mod:`callcoach.batch.engines` (this process, worker processes, or Ray). For
each call it writes ``<id>.json`` and ``<id>.html`` and a row in the results
store (``callcoach.sqlite``, :mod:`callcoach.batch.store`); for the run
``index.html`` and ``calls.csv``, built from the store. A failure is recorded
and the run goes on. Every file is written atomically (to a temporary name,
then renamed), and the store commits one call at a time, so a run killed at
any moment can be started again. An output folder that holds files callcoach
did not write is refused unless the caller allows overwriting.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from callcoach.batch.engines import Outcome, Scorer, ScorerFactory, Task, default_workers, import_ray, make_engine
from callcoach.batch.inputs import CallInput, Failure, discover, file_time
from callcoach.batch.metadata import agent_from_name, load_metadata, match_metadata
from callcoach.batch.review import (
    Review,
    apply_reviews,
    latest_reviews,
    record_reviews,
    refresh_outputs,
    refresh_reviewed,
)
from callcoach.batch.store import RunIdentity, Store, file_sha1, open_store, what_changed
from callcoach.batch.trends import call_weeks, compute_trends, week_label, write_trends_csv
from callcoach.batch.worker import report_audio_href
from callcoach.errors import UsageError
from callcoach.files import write_atomic
from callcoach.pipeline import Models
from callcoach.records import result_from_dict, result_to_dict
from callcoach.report.export import write_csv
from callcoach.report.index_view import agent_summaries, index_row, triage_order
from callcoach.report.nav import call_nav, replace_nav
from callcoach.report.playback import SUFFIX as PLAYBACK_SUFFIX
from callcoach.report.render import ReportRenderer
from callcoach.report.trends_view import trends_view
from callcoach.settings import Settings

MARKER = ".callcoach"
LOCK = ".callcoach.lock"

@dataclass(frozen=True)
class RunSummary:
    """What a run did: ids of the calls scored and skipped (already done), and each failure with its reason."""

    out_dir: Path
    scored: tuple[str, ...]
    failed: tuple[Failure, ...]
    skipped: tuple[str, ...] = ()
    audio_s: float = 0.0
    elapsed_s: float = 0.0
    run_id: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


EventKind = Literal["start", "stage", "scored", "skipped", "failed"]


@dataclass(frozen=True)
class BatchEvent:
    """One progress report of a run, for a progress bar and a log.

    ``kind``: ``start`` (a call was handed to a worker; ``message`` says why it
    is scored: new, audio changed, ...), ``stage`` (in-process runs only:
    ``message`` is the stage), ``scored``, ``skipped`` (already done),
    ``failed`` (``message`` is the reason). Counters are for the whole run;
    ``audio_done_s`` is the audio scored in this run; ``fraction`` is the share
    of the run's work done (by file size) and ``eta_s`` the time left (None
    until a call is done).
    """

    kind: EventKind
    call_id: str
    source: str
    message: str
    calls_total: int
    scored: int
    skipped: int
    failed: int
    audio_done_s: float
    elapsed_s: float
    fraction: float
    eta_s: float | None
    call_audio_s: float = 0.0

    @property
    def calls_done(self) -> int:
        return self.scored + self.skipped + self.failed


BatchProgressFn = Callable[[BatchEvent], None]

def prepare_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    """Create the output folder, or check that reusing it overwrites nothing a user made."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: the output path is a file, not a folder; choose a folder with --out")
    if out_dir.is_dir():
        ours = (out_dir / MARKER).is_file()
        others = [p.name for p in out_dir.iterdir() if p.name != MARKER]
        if others and not ours and not overwrite:
            raise UsageError(
                f"{out_dir}: the folder already holds files that callcoach did not write "
                f"({', '.join(sorted(others)[:3])}{', ...' if len(others) > 3 else ''}); "
                "choose an empty or new folder, or pass --overwrite"
            )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / MARKER).write_text("This folder holds callcoach reports; callcoach may replace its own files here.\n")
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot write the output folder ({exc.strerror or exc})") from None

class RunLock:
    """Keeps a second run (or ``callcoach report``) out of a folder while one writes to it.

    An advisory ``flock`` on ``DIR/.callcoach.lock``, released by the system
    even when the run is killed.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK
        self.fh = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            return self
        self.fh = open(self.path, "a")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise UsageError(f"{self.path.parent}: another callcoach run is writing to this folder; wait for it to end") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.fh is not None:
            self.fh.close()  # closing releases the lock


# -------------------------------------------------------------------- index


def write_index(out_dir: Path, store: Store, renderer) -> int:
    """Write ``index.html`` (with trends), ``calls.csv`` and ``trends.csv`` from every call the store holds, with
    reviewers' corrections applied; returns the number of calls."""
    rows = []
    reviews = latest_reviews(store)
    weeks = call_weeks(store)
    for row, result in store.scored():  # one result in memory at a time
        result = apply_reviews(result, reviews.get(row["call_id"], {}))
        item = index_row(result, f"{row['call_id']}.html", row["agent"])
        week = weeks.get(row["call_id"])
        item.update(team=row["team"] or "", date=row["date"] or "", direction=row["direction"] or "",
                    week=week_label(week) if week else "")
        rows.append(item)
    titles = {cid: t for r in rows for cid, t in r.get("check_titles", {}).items()}
    trends = compute_trends(store, titles)
    write_atomic(out_dir / "index.html", renderer.render_index(rows, agent_summaries(rows), trends_view(trends)))
    for name, write in (("calls.csv", lambda p: write_csv(rows, p)), ("trends.csv", lambda p: write_trends_csv(trends, p))):
        tmp = out_dir / f".{name}.tmp"
        write(tmp)
        os.replace(tmp, out_dir / name)
    _link_reports(out_dir, triage_order(rows), renderer)
    return len(rows)


def _link_reports(out_dir: Path, ordered: Sequence[Mapping], renderer: ReportRenderer) -> None:
    """Give every call report its previous/next call in the index's default order (rewritten only when changed)."""
    for i, row in enumerate(ordered):
        path = out_dir / str(row["href"])
        try:
            html = path.read_text(encoding="utf-8")
        except OSError:
            continue
        linked = replace_nav(html, renderer.render_nav(call_nav(ordered, i)))
        if linked != html:
            write_atomic(path, linked)


def load_results(out_dir: Path) -> Iterator[dict]:
    """Every per-call JSON result in a report folder, one at a time (files that are not results are passed over)."""
    for path in sorted(out_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "schema_version" in data and "scorecard" in data and "call" in data:
            yield data


def rebuild_index(out_dir: Path | str, templates: Path | None = None) -> int:
    """``callcoach report DIR``: rebuild ``index.html`` and ``calls.csv`` from the store, without audio.

    A folder written before the store existed has its JSON results imported
    first. Returns the number of calls in the index.

    Raises:
        UsageError: not a report folder, or it holds no results.
        TemplateError: a bad template.
    """

    out_dir = Path(out_dir)
    if not out_dir.is_dir() or not (out_dir / MARKER).is_file():
        raise UsageError(f"{out_dir}: not a folder of callcoach reports")
    renderer = ReportRenderer(templates)
    with RunLock(out_dir), open_store(out_dir) as store:
        if not store.counts().get("scored"):
            for data in load_results(out_dir):  # a folder from before the store: import its JSON
                result = result_from_dict(data)
                metadata = result.meta.metadata or {}
                store.record_scored(0, result, fingerprint="", parts={}, metadata={k: str(v) for k, v in metadata.items()})
        n = write_index(out_dir, store, renderer)
    if not n:
        raise UsageError(f"{out_dir}: holds no callcoach results")
    return n


def review_calls(out_dir: Path | str, reviews: Sequence[Review], confirm_others: Mapping[str, str] | None = None,
                 *, templates: Path | None = None) -> list[Review]:
    """``callcoach review``: record reviews in a report folder's store (:mod:`callcoach.batch.review`), then rewrite
    the reviewed calls' JSON and reports, the index, ``calls.csv`` and ``trends.csv``. Returns the reviews recorded.

    Raises:
        UsageError: not a report folder, an unknown call or check, a bad status.
        TemplateError: a bad template.
    """
    out_dir = Path(out_dir)
    if not (out_dir / MARKER).is_file():
        raise UsageError(f"{out_dir}: not a folder of callcoach reports (give the --out folder of 'callcoach score')")
    renderer = ReportRenderer(templates)
    with RunLock(out_dir), open_store(out_dir) as store:
        recorded = record_reviews(store, reviews, confirm_others=confirm_others)
        refresh_outputs(out_dir, store, [r.call_id for r in recorded], renderer)
        write_index(out_dir, store, renderer)
    return recorded


# ---------------------------------------------------------------- the run


class _Tally:
    """Counters and the time/size arithmetic behind :class:`BatchEvent`."""

    def __init__(self, inputs: Sequence[CallInput], emit: BatchProgressFn | None) -> None:
        self.emit_fn = emit
        self.total = len(inputs)
        self.size = {item.call_id: _size(item.path) for item in inputs}
        self.bytes_total = sum(self.size.values()) or 1
        self.bytes_skipped = 0
        self.bytes_worked = 0.0
        self.scored = self.skipped = self.failed = 0
        self.audio_s = 0.0
        self.t0 = time.monotonic()

    def emit(self, kind: EventKind, item: CallInput | None, message: str = "", *, audio_s: float = 0.0,
             fraction_of_call: float = 0.0) -> None:
        if item is not None and kind in ("scored", "failed"):
            self.bytes_worked += self.size.get(item.call_id, 0)
        if kind == "skipped" and item is not None:
            self.bytes_skipped += self.size.get(item.call_id, 0)
        if kind in ("scored", "skipped", "failed") and item is not None:  # a missing path is no call of the total
            setattr(self, kind, getattr(self, kind) + 1)
        self.audio_s += audio_s
        if self.emit_fn is None:
            return
        elapsed = time.monotonic() - self.t0
        worked = self.bytes_worked + (self.size.get(item.call_id, 0) * fraction_of_call if item and kind == "stage" else 0)
        left = max(self.bytes_total - self.bytes_skipped - worked, 0)
        eta = elapsed * left / worked if worked > 0 else None
        self.emit_fn(BatchEvent(
            kind=kind, call_id=item.call_id if item else "", source=str(item.path) if item else "", message=message,
            calls_total=self.total, scored=self.scored, skipped=self.skipped, failed=self.failed,
            audio_done_s=self.audio_s, elapsed_s=elapsed, fraction=min(1.0, (self.bytes_skipped + worked) / self.bytes_total),
            eta_s=eta, call_audio_s=audio_s,
        ))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _remove_outputs(out_dir: Path, call_id: str) -> None:
    for suffix in (".json", ".html", ".redacted.wav", PLAYBACK_SUFFIX):
        try:
            (out_dir / f"{call_id}{suffix}").unlink()
        except FileNotFoundError:
            pass


def score_paths(
    paths: Sequence[Path | str],
    out_dir: Path | str,
    settings: Settings | None = None,
    *,
    overwrite: bool = False,
    progress: BatchProgressFn | None = None,
    workers: int | None = None,
    engine: Literal["local", "ray"] = "local",
    ray_address: str | None = None,
    force: bool = False,
    metadata: Path | str | None = None,
    scorer_factory: ScorerFactory = Scorer,
) -> RunSummary:
    """Score files and folders into ``out_dir``, skipping calls already done there. Bad files are recorded, never fatal.

    ``workers``: processes scoring at once (None: as many as the cores and
    memory allow; 1: in this process); with ``engine="ray"``, the number of
    Ray actors (None: the cluster's CPUs). ``force`` scores every call again.
    ``metadata``: a CSV of agent, team, date and direction per file
    (:func:`load_metadata`). ``scorer_factory`` builds each worker's
    :class:`~callcoach.batch.worker.Scorer` (a module-level callable).

    Raises:
        UsageError: bad options, metadata or output folder (before any call is scored).
        RubricError, TemplateError: a bad rubric or template (likewise).
    """

    settings = settings or Settings()
    out_dir = Path(out_dir)
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    if engine not in ("local", "ray"):
        raise UsageError(f"unknown engine {engine!r}: use local or ray")
    if engine == "ray":
        import_ray()
    Models(settings)  # rubric errors surface here, before any audio
    renderer = ReportRenderer(settings.templates)  # template errors too
    identity = RunIdentity.of(settings)
    inputs, failures = discover(paths)
    given: dict[str, Mapping[str, str]] = {}
    if metadata is not None:
        given = match_metadata(load_metadata(metadata), inputs, Path(metadata))
    prepare_out_dir(out_dir, overwrite=overwrite)
    n_workers = workers or min(default_workers(), max(len(inputs), 1))

    with RunLock(out_dir), open_store(out_dir) as store:
        for stale in out_dir.glob(".*.tmp"):  # half-written files of a run that was killed
            stale.unlink(missing_ok=True)
        run_id = store.begin_run(
            settings=settings.to_dict(), models=identity.models, engine=engine,
            workers=n_workers if engine == "local" or workers else 0, n_inputs=len(inputs),
        )
        tally = _Tally(inputs, progress)
        for failure in failures:
            tally.emit("failed", None, f"{failure.source}: {failure.message}")
        scored: list[str] = []
        skipped: list[str] = []
        # what the driver keeps about the calls in flight (at most the engine's window)
        inflight: dict[str, tuple[CallInput, str, dict[str, str], Mapping[str, str], str]] = {}

        def fail(item: CallInput, message: str, fingerprint: str | None, parts: Mapping[str, str], md: Mapping[str, str]) -> None:
            _remove_outputs(out_dir, item.call_id)
            store.record_failed(run_id, item.call_id, item.source_name, message, fingerprint=fingerprint, parts=parts, metadata=md)
            failures.append(Failure(str(item.path), message))
            tally.emit("failed", item, message)

        def plan() -> Iterator[Task]:
            for item in inputs:
                stored = store.get_call(item.call_id)
                md = dict(given.get(item.call_id) or (stored.metadata if stored else {}))
                if not md and (agent := agent_from_name(item.path.stem)):
                    md = {"agent": agent}
                try:
                    fingerprint, parts = identity.fingerprint(file_sha1(item.path), item.source_name)
                except OSError as exc:
                    fail(item, f"cannot read the file ({exc.strerror or exc})", None, {}, md)
                    continue
                reason = _why_score(stored, fingerprint, parts, out_dir, item.call_id, force)
                if reason is None:
                    note = "already scored"
                    if md != dict(stored.metadata):
                        _refresh_metadata(store, out_dir, renderer, item, md, settings)
                        note = "already scored; metadata updated"
                    elif settings.redact != "off" and not (out_dir / f"{item.call_id}{PLAYBACK_SUFFIX}").is_file():
                        # a report written before every redacted report had a player: add it, without scoring again
                        _refresh_metadata(store, out_dir, renderer, item, md, settings)
                        note = "already scored; player added"
                    skipped.append(item.call_id)
                    tally.emit("skipped", item, note)
                    continue
                inflight[item.call_id] = (item, fingerprint, parts, md, reason)
                yield Task(item.call_id, str(item.path), item.source_name, fingerprint, md)

        def on_start(task: Task, retry: bool) -> None:
            item, *_, reason = inflight[task.call_id]
            tally.emit("start", item, "retry alone after a worker died" if retry else reason)

        def on_stage(task: Task, stage: str, fraction: float) -> None:
            tally.emit("stage", inflight[task.call_id][0], stage, fraction_of_call=fraction)

        runner = make_engine(
            engine, settings, out_dir, n_workers, ray_address=ray_address, scorer_factory=scorer_factory,
            workers_given=workers is not None,
        )
        for outcome in runner.run(plan(), on_start=on_start, on_stage=on_stage):
            item, fingerprint, parts, md, _ = inflight.pop(outcome.call_id)
            if not outcome.ok:
                fail(item, outcome.error or "unknown error", fingerprint, parts, md)
                continue
            _write_outcome(out_dir, outcome)
            store.record_scored(run_id, outcome.result, fingerprint=fingerprint, parts=parts, metadata=md,
                                file_time=file_time(item.path))
            scored.append(item.call_id)
            tally.emit("scored", item, audio_s=float(outcome.result.call.duration_s or 0.0))
        refresh_reviewed(out_dir, store, [*scored, *skipped], renderer)  # a reviewer's corrections outlive a rescoring
        write_index(out_dir, store, renderer)
        store.finish_run(run_id, skipped=len(skipped))
    return RunSummary(
        out_dir, tuple(scored), tuple(failures), tuple(skipped), tally.audio_s, time.monotonic() - tally.t0, run_id
    )


def _why_score(stored, fingerprint: str, parts: Mapping[str, str], out_dir: Path, call_id: str, force: bool) -> str | None:
    """Why this call must be scored (None: it is done)."""
    if force:
        return "--force"
    if stored is None:
        return "new"
    if stored.status == "failed":
        return "failed before"
    if not stored.fingerprint:
        return "no fingerprint (imported from an older report folder)"
    if stored.fingerprint != fingerprint:
        return what_changed(stored.fingerprint_parts, parts)
    if not (out_dir / f"{call_id}.json").is_file() or not (out_dir / f"{call_id}.html").is_file():
        return "report files missing"
    return None


def _write_outcome(out_dir: Path, outcome: Outcome) -> None:
    write_atomic(out_dir / f"{outcome.call_id}.json", json.dumps(result_to_dict(outcome.result), indent=2, ensure_ascii=False))
    write_atomic(out_dir / f"{outcome.call_id}.html", outcome.html or "")


def _refresh_metadata(store: Store, out_dir: Path, renderer, item: CallInput, md: Mapping[str, str], settings: Settings) -> None:
    """New metadata for a call already scored: rewrite its JSON, report and row, without scoring it again."""
    result = store.result(item.call_id)
    if result is not None:
        result = replace(result, meta=replace(result.meta, metadata=dict(md)))
        href = report_audio_href(
            item.path, out_dir, item.call_id, result, redact=settings.redact, embed=settings.embed_audio
        )
        html = renderer.render_call(result_to_dict(result), href)
        _write_outcome(out_dir, Outcome(item.call_id, result, html))
    store.set_metadata(item.call_id, md, result)


__all__ = [
    "BatchEvent", "RunSummary", "load_results", "prepare_out_dir", "rebuild_index", "review_calls", "score_paths",
    "write_index",
]
