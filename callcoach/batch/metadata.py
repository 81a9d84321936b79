"""Call metadata for batch runs: agent, team, date and direction per file.

From a CSV given with ``--metadata`` (:func:`load_metadata`, validated with
the file, line and column of any problem, then matched to the input files
by :func:`match_metadata`), or, for the agent alone, from the file name
convention ``<agent>__anything.wav`` (:func:`agent_from_name`).
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from callcoach.batch.store import METADATA_FIELDS
from callcoach.errors import UsageError

if TYPE_CHECKING:
    from callcoach.batch.inputs import CallInput

DIRECTIONS = ("inbound", "outbound", "internal")


@dataclass(frozen=True)
class MetadataRow:
    """One row of a ``--metadata`` CSV: ``file`` (a path or a bare file name) and the call's metadata."""

    line: int
    file: str
    values: Mapping[str, str]


def agent_from_name(stem: str) -> str:
    """The agent named by the file-name convention ``<agent>__anything`` ('' when the name does not follow it)."""
    agent, sep, rest = stem.partition("__")
    return agent.strip() if sep and agent.strip() and rest else ""


def load_metadata(path: Path | str) -> list[MetadataRow]:
    """Read and validate a metadata CSV (columns ``file``, then any of agent, team, date, direction).

    ``date`` is an ISO date (2024-05-31) or date and time (2024-05-31T14:05);
    ``direction`` is inbound, outbound or internal.

    Raises:
        UsageError: naming the file, the line and the column of the first problem.
    """
    path = Path(path)
    allowed = ("file", *METADATA_FIELDS)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"--metadata {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--metadata {path}: cannot read it as UTF-8 text ({exc})") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise UsageError(f"{path}: line 1: the file is empty; the first line must name the columns: {', '.join(allowed)}")
    columns = [h.strip().lower() for h in header]
    for i, name in enumerate(columns, 1):
        if name not in allowed:
            raise UsageError(f"{path}: line 1, column {i}: unknown column {header[i - 1]!r}; allowed: {', '.join(allowed)}")
        if name in columns[: i - 1]:
            raise UsageError(f"{path}: line 1, column {i}: column {name!r} appears twice")
    if "file" not in columns:
        raise UsageError(f"{path}: line 1: no 'file' column (the audio file's path or name); columns: {', '.join(allowed)}")
    rows: list[MetadataRow] = []
    seen: dict[str, int] = {}
    for line_no, fields in enumerate(reader, 2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(columns):
            raise UsageError(f"{path}: line {line_no}: {len(fields)} fields, but the header names {len(columns)} columns")
        values: dict[str, str] = {}
        for col, (name, raw) in enumerate(zip(columns, fields), 1):
            value = raw.strip()
            where = f"{path}: line {line_no}, column {col} ({name})"
            if name == "file" and not value:
                raise UsageError(f"{where}: empty; give the audio file's path or name")
            if name == "date" and value:
                try:
                    _dt.datetime.fromisoformat(value)
                except ValueError:
                    raise UsageError(f"{where}: {value!r} is not a date; use YYYY-MM-DD (or YYYY-MM-DDTHH:MM)") from None
            if name == "direction" and value:
                value = value.lower()
                if value not in DIRECTIONS:
                    raise UsageError(f"{where}: {raw.strip()!r} is not a direction; use {', '.join(DIRECTIONS)}")
            values[name] = value
        file = values.pop("file")
        if file in seen:
            raise UsageError(f"{path}: line {line_no}, column {columns.index('file') + 1} (file): {file!r} is already on line {seen[file]}")
        seen[file] = line_no
        rows.append(MetadataRow(line_no, file, {k: v for k, v in values.items() if v}))
    return rows


def match_metadata(rows: Sequence[MetadataRow], inputs: Sequence[CallInput], csv_path: Path) -> dict[str, Mapping[str, str]]:
    """Metadata per call id. A bare name matches the input file of that name; a path matches the file it names
    (relative to the CSV's folder or the current folder) or an input's path within its folder.

    Raises:
        UsageError: a bare name matches several inputs (give a path instead).
    """
    by_name: dict[str, list[CallInput]] = {}
    by_path: dict[Path, CallInput] = {}
    by_source: dict[str, CallInput] = {}
    for item in inputs:
        by_name.setdefault(item.path.name, []).append(item)
        by_path[item.path.resolve()] = item
        by_source[item.source_name] = item
    out: dict[str, Mapping[str, str]] = {}
    for row in rows:
        if "/" in row.file or os.sep in row.file:
            candidates = [by_path.get((base / row.file).resolve()) for base in (csv_path.parent, Path.cwd())]
            candidates.append(by_source.get(Path(row.file).as_posix()))
            hits = list({c.call_id: c for c in candidates if c is not None}.values())
        else:
            hits = by_name.get(row.file, [])
            if len(hits) > 1:
                raise UsageError(
                    f"{csv_path}: line {row.line}: {row.file!r} matches {len(hits)} input files "
                    f"({', '.join(str(h.path) for h in hits[:3])}); give the file's path instead"
                )
        for item in hits:
            out[item.call_id] = row.values
    return out


__all__ = ["DIRECTIONS", "MetadataRow", "agent_from_name", "load_metadata", "match_metadata"]
