"""The SQLite results store and call fingerprints, on factory results (no models)."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from callsynth.factories import make_calm_call

from callcoach import CallResult, Settings, UsageError, result_from_dict, result_to_dict
from callcoach.batch.store import (
    STORE_SCHEMA_VERSION,
    RunIdentity,
    Store,
    file_sha1,
    open_store,
    settings_identity,
    what_changed,
)


def _result(call_id: str = "c1") -> CallResult:
    """A factory call as its JSON file reads back (what a worker hands the store)."""
    return result_from_dict(result_to_dict(make_calm_call(call_id)))


def _run(store: Store) -> int:
    return store.begin_run(settings={}, models={"m": 1}, engine="local", workers=1, n_inputs=1)


def test_new_store_has_its_schema_version_and_wal(tmp_path):
    with open_store(tmp_path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == STORE_SCHEMA_VERSION
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(store.db.execute("SELECT key, value FROM meta").fetchall())
        assert meta["schema_version"] == str(STORE_SCHEMA_VERSION)
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"meta", "runs", "calls", "speakers", "events", "checks"} <= tables


def test_scored_call_round_trips_with_its_rows(tmp_path):
    data = _result()
    with open_store(tmp_path) as store:
        run = _run(store)
        store.record_scored(run, data, fingerprint="fp1", parts={"audio": "a1"}, metadata={"agent": "anna", "team": "blue"})
        stored = store.get_call("c1")
        assert stored.status == "scored" and stored.fingerprint == "fp1" and stored.fingerprint_parts == {"audio": "a1"}
        assert stored.metadata == {"agent": "anna", "team": "blue"}
        assert store.result("c1") == data
        [(row, result)] = list(store.scored())
        assert row["agent"] == "anna" and row["score"] == data.scorecard.score and result == result_to_dict(data)
        n_checks = store.db.execute("SELECT COUNT(*) FROM checks WHERE call_id = 'c1'").fetchone()[0]
        n_events = store.db.execute("SELECT COUNT(*) FROM events WHERE call_id = 'c1'").fetchone()[0]
        assert n_checks == len(data.scorecard.checks) and n_events == len(data.events)
        assert store.runs()[0]["n_scored"] == 1


def test_rescoring_replaces_rows_and_a_failure_drops_the_result(tmp_path):
    data = _result()
    with open_store(tmp_path) as store:
        run = _run(store)
        store.record_scored(run, data, fingerprint="fp1", parts={}, metadata={})
        store.record_scored(run, data, fingerprint="fp2", parts={}, metadata={})
        assert store.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1
        assert store.db.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == len(data.scorecard.checks)
        store.record_failed(run, "c1", "c1.wav", "too short", fingerprint="fp3", parts={}, metadata={})
        assert store.get_call("c1").status == "failed" and store.result("c1") is None
        assert store.db.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 0
        assert store.counts() == {"failed": 1}


def test_unfinished_runs_are_marked_interrupted(tmp_path):
    with open_store(tmp_path) as store:
        first = _run(store)
        second = _run(store)
        store.finish_run(second, skipped=3)
        runs = {r["run_id"]: r for r in store.runs()}
        assert runs[first]["status"] == "interrupted"
        assert runs[second]["status"] == "finished" and runs[second]["n_skipped"] == 3


def test_store_from_a_newer_callcoach_is_refused(tmp_path):
    path = tmp_path / "callcoach.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {STORE_SCHEMA_VERSION + 1}")
    with pytest.raises(UsageError, match="newer callcoach"):
        Store(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "callcoach.sqlite"
    path.write_text("not a database" * 100)
    with pytest.raises(UsageError, match="not a callcoach results store"):
        Store(path)


def test_file_sha1_streams_the_bytes(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(bytes(range(256)) * 5000)
    assert file_sha1(path, chunk_bytes=1000) == hashlib.sha1(path.read_bytes()).hexdigest()


def test_fingerprint_ignores_output_only_settings_and_names_what_changed(tmp_path):
    base = RunIdentity.of(Settings())
    fp, parts = base.fingerprint("a" * 40, "x.wav")
    looks = RunIdentity.of(Settings(templates=Path("t"), embed_audio=True, cpu_threads=3))
    assert looks.fingerprint("a" * 40, "x.wav")[0] == fp
    assert "templates" not in settings_identity(Settings()) and "cpu_threads" not in settings_identity(Settings())
    no_rehear = RunIdentity.of(Settings(rehear_model="off")).fingerprint("a" * 40, "x.wav")[1]
    assert what_changed(parts, no_rehear) == "settings and models changed"  # the words a call is scored on change
    other = RunIdentity.of(Settings(max_speakers=2))
    fp2, parts2 = other.fingerprint("b" * 40, "x.wav")
    assert fp2 != fp and what_changed(parts, parts2) == "audio and settings changed"
    rubric = tmp_path / "r.yaml"
    from callcoach.scoring.rubric import default_rubric_path

    rubric.write_text(default_rubric_path().read_text())
    same = RunIdentity.of(Settings(rubric=rubric))
    assert same.fingerprint("a" * 40, "x.wav")[0] == fp  # the rubric counts by content, not by path
    rubric.write_text(default_rubric_path().read_text() + "\n# edited\n")
    assert what_changed(parts, RunIdentity.of(Settings(rubric=rubric)).fingerprint("a" * 40, "x.wav")[1]) == "rubric changed"
    models = replace(base, models={**base.models, "faster-whisper": "99.0"})
    assert what_changed(parts, models.fingerprint("a" * 40, "x.wav")[1]) == "models changed"
