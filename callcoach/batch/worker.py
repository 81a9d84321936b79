"""What a worker does with one call: score it, redact it, render its report, and turn any failure into that
call's outcome. One :class:`Scorer` per worker holds the models, loaded once, and the report renderer."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from callcoach.errors import AudioError, CallcoachError, StageError
from callcoach.pipeline import Models, analyse_call
from callcoach.records import CallResult, result_from_dict, result_to_dict
from callcoach.redact import redact_audio, redact_result, redacted_spans
from callcoach.report.playback import SUFFIX as PLAYBACK_SUFFIX
from callcoach.report.playback import write_playback_copy
from callcoach.report.render import ReportRenderer
from callcoach.settings import Settings
from callcoach.speech.audio import load_audio


@dataclass(frozen=True)
class Task:
    """One call to score: small and picklable, sent to a worker."""

    call_id: str
    path: str
    source_name: str
    fingerprint: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """A scored call (its result, as its JSON file reads back, and its HTML report) or the reason it failed."""

    call_id: str
    result: CallResult | None = None
    html: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


StartFn = Callable[[Task, bool], None]  # (task, is_retry)
StageFn = Callable[[Task, str, float], None]  # (task, stage, fraction of the call done)


class Scorer:
    """Scores one call into its JSON result and HTML report; built once per worker.

    ``preload`` loads the speech model now rather than on the first call.
    """

    def __init__(self, settings: Settings, out_dir: Path | str, *, preload: bool = False) -> None:
        self.settings = settings
        self.out_dir = Path(out_dir)
        self.models = Models(settings)
        self.renderer = ReportRenderer(settings.templates)
        if preload:
            self.models.transcriber()

    def score(self, task: Task, on_stage: Callable[[str, float], None] | None = None) -> Outcome:
        progress = (lambda event: on_stage(event.stage, event.fraction)) if on_stage else None
        path = Path(task.path)
        try:
            with _one_blas_thread():
                result = analyse_call(
                    path, self.settings, models=self.models, call_id=task.call_id, source_name=task.source_name, progress=progress
                )
            # scoring saw the words as said; everything written for people is redacted
            redacted = redact_result(result, self.settings.redact)
            # the run's own facts go with the call: its metadata (--metadata CSV) and the fingerprint it was scored under
            meta = replace(redacted.meta, metadata=dict(task.metadata), fingerprint=task.fingerprint)
            data = result_to_dict(replace(redacted, meta=meta))
            # the record the store and the run see is the one its JSON file reads back (floats rounded, plain
            # values): the same whether it stays in this process or crosses to the parent from a pool or Ray worker
            result = result_from_dict(data)
            href = report_audio_href(
                path, self.out_dir, task.call_id, result, redact=self.settings.redact, embed=self.settings.embed_audio
            )
            html = self.renderer.render_call(data, href)
        except AudioError as exc:
            return Outcome(task.call_id, error=exc.problem)
        except StageError as exc:
            return Outcome(task.call_id, error=f"{exc.stage} failed: {exc.problem}")
        except CallcoachError as exc:
            return Outcome(task.call_id, error=str(exc))
        except Exception as exc:  # a crash inside a model must not end the run
            return Outcome(task.call_id, error=f"internal error: {type(exc).__name__}: {exc}")
        finally:
            _release_memory()
        return Outcome(task.call_id, result, html)


def _release_memory() -> None:
    """Hand the heap freed by a call back to the system (glibc), so a worker does not creep up over 1,000s of calls."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
            _libc.malloc_trim  # noqa: B018 - glibc only
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


_libc = None


def _one_blas_thread():
    """numpy's BLAS on one thread while a call is scored.

    OpenBLAS sums in a different order with more threads, which moves word
    probabilities and times in the last digits; with one thread a call's
    result is the same in this process, in a worker, on a Ray actor (Ray sets
    OMP_NUM_THREADS=1) and on any core count. The heavy models run their own
    thread pools, so this costs little.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with callcoach
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


ScorerFactory = Callable[..., Scorer]  # (settings, out_dir, *, preload) -> Scorer; module-level, so workers can import it


def audio_href(source: Path, out_dir: Path, *, embed: bool) -> str:
    """A link from the report to the recording: relative, or a data: URI when embedding."""
    if embed:
        mime = {".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac", ".m4a": "audio/mp4"}.get(
            source.suffix.lower(), "audio/wav"
        )
        return f"data:{mime};base64," + base64.b64encode(source.read_bytes()).decode("ascii")
    rel = os.path.relpath(source.resolve(), out_dir.resolve())
    return Path(rel).as_posix()


def report_audio_href(source: Path, out_dir: Path, call_id: str, result: CallResult | Mapping[str, Any], *, redact: str, embed: bool) -> str | None:
    """The recording the report plays, by redaction mode.

    ``off``: the original, by a relative link (or embedded). ``text`` (the
    default) and ``text+audio`` (the same; the name is kept for scripts that
    pass it): ``<call_id>.redacted.ogg`` beside the report, the call with
    every redacted span replaced by a tone, encoded compactly as Opus at the
    source's rate (:mod:`callcoach.report.playback`), so every default report
    has a player and never plays what its text hides.
    """
    if redact == "off":
        return audio_href(source, out_dir, embed=embed)
    target = out_dir / f"{call_id}{PLAYBACK_SUFFIX}"
    audio = load_audio(source)
    write_playback_copy(target, redact_audio(audio.samples, audio.sample_rate_hz, redacted_spans(result)),
                        audio.sample_rate_hz, source_rate_hz=audio.info.sample_rate_hz)
    return audio_href(target, out_dir, embed=embed)
