"""Scoring many recordings into one output folder.

:func:`score_paths` finds the audio in files and folders, gives each call a
unique, file-system-safe id, scores each one (a failure is recorded and the
run goes on), and writes per call ``<id>.json`` and ``<id>.html``, and per
run ``index.html`` and ``calls.csv``. Every file is written atomically (to a
temporary name, then renamed). An output folder that holds files callcoach
did not write is refused unless the caller allows overwriting.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .audio import is_audio_path
from .errors import AudioError, CallcoachError, UsageError
from .pipeline import Models, ProgressFn, analyse_call
from .records import CallResult, result_from_dict, result_to_dict
from .settings import Settings

MARKER = ".callcoach"


@dataclass(frozen=True)
class CallInput:
    path: Path
    call_id: str
    source_name: str


@dataclass(frozen=True)
class Failure:
    source: str
    message: str


@dataclass(frozen=True)
class RunSummary:
    out_dir: Path
    scored: tuple[str, ...]
    failed: tuple[Failure, ...]
    results: tuple[CallResult, ...] = field(repr=False, default=())

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def safe_id(stem: str) -> str:
    """A file-system-safe call id: letters, digits, '-', '_' and '.' kept (any script), the rest '_'."""
    text = unicodedata.normalize("NFC", stem)
    text = re.sub(r"[^\w.\-]+", "_", text, flags=re.UNICODE).strip("._")
    return text[:120] or "call"


def discover(paths: Sequence[Path | str]) -> tuple[list[CallInput], list[Failure]]:
    """Expand folders (recursively) into audio files; name every call uniquely."""
    found: list[tuple[Path, str]] = []
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and is_audio_path(p) and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                failures.append(Failure(str(path), "folder holds no audio files (.wav .flac .mp3 .ogg .m4a ...)"))
            found += [(p, p.relative_to(path).as_posix()) for p in files]
        elif path.exists():
            found.append((path, path.name))
        else:
            failures.append(Failure(str(path), "file not found"))
    seen_paths: set[Path] = set()
    used: set[str] = set()
    inputs = []
    for path, name in found:
        key = path.resolve()
        if key in seen_paths:
            continue
        seen_paths.add(key)
        base = safe_id(path.stem)
        call_id, n = base, 2
        while call_id.lower() in used:
            call_id, n = f"{base}-{n}", n + 1
        used.add(call_id.lower())
        inputs.append(CallInput(path, call_id, name))
    return inputs, failures


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


def write_atomic(path: Path, data: str | bytes) -> None:
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def audio_href(source: Path, out_dir: Path, *, embed: bool) -> str:
    """A link from the report to the recording: relative, or a data: URI when embedding."""
    if embed:
        mime = {".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac", ".m4a": "audio/mp4"}.get(
            source.suffix.lower(), "audio/wav"
        )
        return f"data:{mime};base64," + base64.b64encode(source.read_bytes()).decode("ascii")
    rel = os.path.relpath(source.resolve(), out_dir.resolve())
    return Path(rel).as_posix()


def write_call(result: CallResult, source: Path, out_dir: Path, renderer, *, embed_audio: bool) -> dict:
    data = result_to_dict(result)
    write_atomic(out_dir / f"{result.call_id}.json", json.dumps(data, indent=2, ensure_ascii=False))
    html = renderer.render_call(data, audio_href(source, out_dir, embed=embed_audio))
    write_atomic(out_dir / f"{result.call_id}.html", html)
    return data


def write_index(out_dir: Path, results: Iterable[dict], renderer) -> None:
    from .report import agent_summaries, index_row, write_csv

    rows = [index_row(r, f"{r['call']['id']}.html", None) for r in results]
    rows.sort(key=lambda r: r.get("call_id", ""))
    write_atomic(out_dir / "index.html", renderer.render_index(rows, agent_summaries(rows)))
    tmp = out_dir / ".calls.csv.tmp"
    write_csv(rows, tmp)
    os.replace(tmp, out_dir / "calls.csv")


def load_results(out_dir: Path) -> list[dict]:
    """Every per-call JSON in a report folder (for rebuilding the index)."""
    out = []
    for path in sorted(out_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "schema_version" in data and "scorecard" in data:
            out.append(data)
    return out


def score_paths(
    paths: Sequence[Path | str],
    out_dir: Path | str,
    settings: Settings | None = None,
    *,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> RunSummary:
    """Score files and folders into ``out_dir``. Bad files are recorded, never fatal."""
    from .report import ReportRenderer

    settings = settings or Settings()
    out_dir = Path(out_dir)
    models = Models(settings)  # rubric errors surface here, before any audio
    renderer = ReportRenderer(settings.templates)  # template errors too
    prepare_out_dir(out_dir, overwrite=overwrite)
    inputs, failures = discover(paths)
    scored: list[str] = []
    results: list[CallResult] = []
    for i, item in enumerate(inputs):
        try:
            result = analyse_call(
                item.path,
                settings,
                models=models,
                call_id=item.call_id,
                source_name=item.source_name,
                progress=progress,
                call_index=i,
                calls_total=len(inputs),
            )
            write_call(result, item.path, out_dir, renderer, embed_audio=settings.embed_audio)
        except AudioError as exc:
            failures.append(Failure(str(item.path), exc.problem))
            continue
        except CallcoachError as exc:
            failures.append(Failure(str(item.path), str(exc)))
            continue
        except Exception as exc:  # a crash inside a model must not end the run
            failures.append(Failure(str(item.path), f"internal error: {type(exc).__name__}: {exc}"))
            continue
        scored.append(item.call_id)
        results.append(result)
    write_index(out_dir, load_results(out_dir), renderer)
    return RunSummary(out_dir, tuple(scored), tuple(failures), tuple(results))


__all__ = ["RunSummary", "Failure", "score_paths", "discover", "safe_id", "load_results", "result_from_dict"]
