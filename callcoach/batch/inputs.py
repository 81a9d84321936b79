"""The calls of a run: audio found in files and folders, each with a unique, file-system-safe id."""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callcoach.speech.audio import is_audio_path


@dataclass(frozen=True)
class CallInput:
    path: Path
    call_id: str
    source_name: str


@dataclass(frozen=True)
class Failure:
    source: str
    message: str

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


def file_time(path: Path | str) -> str | None:
    """A file's modification time as ISO 8601 UTC (None when it cannot be read): a call's date for trends
    when its metadata gives none."""
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return None
    return _dt.datetime.fromtimestamp(mtime, _dt.timezone.utc).isoformat(timespec="seconds")
