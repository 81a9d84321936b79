"""Batch runs on short real calls: resume after a kill, fingerprints, --force, workers, crashes, metadata, Ray."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from callsynth.shortcalls import write_short_call

import callcoach.batch.store
from callcoach import Settings, UsageError, result_from_dict, result_to_dict
from callcoach.batch.engines import DIED, Scorer, Task
from callcoach.batch.run import agent_from_name, load_metadata, score_paths
from callcoach.cli import main
from callcoach.scoring.rubric import default_rubric_path

CONSOLE_SCRIPT = Path(sys.executable).with_name("callcoach")


def _calls(folder: Path, n: int, offset: int = 0) -> Path:
    for i in range(n):
        write_short_call(folder / f"call{i + offset:02d}.wav", i + offset)
    return folder


def _comparable(path: Path) -> dict:
    """A JSON result without what may differ between runs of the same call (timings)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["meta"].pop("timings_s", None)
    return data


def _results(out: Path) -> dict[str, dict]:
    return {p.stem: _comparable(p) for p in sorted(out.glob("*.json"))}


def _log_runs(log: Path) -> list[dict[str, set[str]]]:
    """Per run in a --log-file: the call ids it started, scored, skipped and failed."""
    runs: list[dict[str, set[str]]] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        kind = line.split()[1]
        if kind == "run":
            runs.append({"start": set(), "scored": set(), "skipped": set(), "failed": set()})
        elif kind in runs[-1]:
            runs[-1][kind].add(line.split()[2])
    return runs


@pytest.fixture(scope="module")
def calls(tmp_path_factory) -> Path:
    return _calls(tmp_path_factory.mktemp("calls"), 3)


@pytest.fixture(scope="module")
def in_process(calls, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("w1") / "out"
    summary = score_paths([calls], out, workers=1)
    assert summary.exit_code == 0 and len(summary.scored) == 3
    return out


# ------------------------------------------------------------------ resume


def test_killed_run_resumes_without_scoring_any_call_twice(tmp_path):
    src = _calls(tmp_path / "calls", 6)
    out, log = tmp_path / "out", tmp_path / "run.log"
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "score", str(src), "--out", str(out), "--workers", "1", "--quiet", "--log-file", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if log.is_file() and " scored " in log.read_text(encoding="utf-8"):
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"

    assert main(["score", str(src), "--out", str(out), "--workers", "1", "--quiet", "--log-file", str(log)]) == 0
    first, second = _log_runs(log)
    everything = {f"call{i:02d}" for i in range(6)}
    assert first["scored"] and not first["scored"] & second["scored"]
    assert first["scored"] <= second["skipped"]
    assert second["skipped"] | second["scored"] == everything and not second["skipped"] & second["start"]
    with sqlite3.connect(out / "callcoach.sqlite") as db:
        rows = db.execute("SELECT call_id, status, fingerprint, run_id FROM calls").fetchall()
        runs = db.execute("SELECT run_id, status, n_scored, n_skipped FROM runs ORDER BY run_id").fetchall()
    assert sorted(r[0] for r in rows) == sorted(everything) and {r[1] for r in rows} == {"scored"}
    assert all(len(r[2]) == 40 for r in rows)
    assert runs[0][1] == "interrupted" and runs[1][1] == "finished"
    assert runs[0][2] + runs[1][2] == 6 and runs[1][3] == runs[0][2]  # each call scored once in all
    for path in out.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # nothing half-written
    assert not list(out.glob(".*.tmp"))
    assert len(list(csv.DictReader((out / "calls.csv").open(encoding="utf-8")))) == 6


def test_deleted_report_is_scored_again_and_nothing_else(calls, in_process, tmp_path):
    out = tmp_path / "out"
    import shutil

    shutil.copytree(in_process, out)
    (out / "call01.json").unlink()
    summary = score_paths([calls], out, workers=1)
    assert summary.scored == ("call01",) and sorted(summary.skipped) == ["call00", "call02"]
    assert _results(out) == _results(in_process)


def test_changes_to_audio_settings_rubric_or_models_rescore(tmp_path, monkeypatch):
    src = _calls(tmp_path / "calls", 2)
    out = tmp_path / "out"
    events = []
    assert score_paths([src], out, workers=1).scored == ("call00", "call01")
    assert score_paths([src], out, workers=1).skipped == ("call00", "call01")

    write_short_call(src / "call01.wav", 1, gain=0.5)  # same words, new bytes
    summary = score_paths([src], out, workers=1, progress=events.append)
    assert summary.scored == ("call01",) and summary.skipped == ("call00",)
    assert [e.message for e in events if e.kind == "start"] == ["audio changed"]

    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(default_rubric_path().read_text(encoding="utf-8") + "\n# team edit\n", encoding="utf-8")
    events.clear()
    assert len(score_paths([src], out, Settings(rubric=rubric), workers=1, progress=events.append).scored) == 2
    assert {e.message for e in events if e.kind == "start"} == {"rubric changed"}

    # only an output-only setting differs: nothing to do
    assert len(score_paths([src], out, Settings(rubric=rubric, embed_audio=True), workers=1).skipped) == 2

    real = callcoach.batch.store.model_identity
    monkeypatch.setattr(callcoach.batch.store, "model_identity", lambda s: {**real(s), "faster-whisper": "99.0"})
    events.clear()
    assert len(score_paths([src], out, Settings(rubric=rubric), workers=1, progress=events.append).scored) == 2
    assert {e.message for e in events if e.kind == "start"} == {"models changed"}

    events.clear()
    assert len(score_paths([src], out, Settings(rubric=rubric, max_speakers=2), workers=1, progress=events.append).scored) == 2
    assert {e.message for e in events if e.kind == "start"} == {"settings changed"}


def test_force_rescores_everything(calls, in_process, tmp_path, capsys):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(in_process, out)
    assert main(["score", str(calls), "--out", str(out), "--workers", "1", "--quiet", "--force"]) == 0
    assert "scored 3 call(s), skipped 0 (already done), 0 failed" in capsys.readouterr().err
    assert _results(out) == _results(in_process)


# ----------------------------------------------------------------- workers


def test_two_workers_give_the_same_results_as_one(calls, in_process, tmp_path):
    out = tmp_path / "out"
    summary = score_paths([calls], out, workers=2)
    assert summary.exit_code == 0 and sorted(summary.scored) == ["call00", "call01", "call02"]
    assert _results(out) == _results(in_process)


class CrashingScorer(Scorer):
    """A real scorer whose models 'crash' on call ids starting with boom, and whose worker dies on 'die'."""

    def score(self, task: Task, on_stage=None):
        if task.call_id.startswith("die"):
            os._exit(3)
        if task.call_id.startswith("boom"):
            original = self.models.transcriber

            def broken():
                raise RuntimeError("segfault-like model failure")

            self.models.transcriber = broken
            try:
                return super().score(task, on_stage)
            finally:
                self.models.transcriber = original
        return super().score(task, on_stage)


def test_a_model_crash_and_a_dying_worker_fail_one_call_each_and_the_run_goes_on(tmp_path):
    src = _calls(tmp_path / "calls", 2)
    write_short_call(src / "boom.wav", 2)
    write_short_call(src / "die.wav", 0, gain=0.8)
    out = tmp_path / "out"
    summary = score_paths([src], out, workers=2, scorer_factory=CrashingScorer)
    assert sorted(summary.scored) == ["call00", "call01"]
    failed = {Path(f.source).stem: f.message for f in summary.failed}
    assert failed["boom"] == "transcribe failed: RuntimeError: segfault-like model failure"
    assert failed["die"] == DIED
    assert summary.exit_code == 1
    with sqlite3.connect(out / "callcoach.sqlite") as db:
        assert dict(db.execute("SELECT call_id, status FROM calls")) == {
            "call00": "scored", "call01": "scored", "boom": "failed", "die": "failed"}
    # the failed calls are tried again on the next run (and fail again); the others are done
    again = score_paths([src], out, workers=1, scorer_factory=Scorer)
    assert sorted(again.skipped) == ["call00", "call01"] and sorted(again.scored) == ["boom", "die"]


# ---------------------------------------------------------------- metadata


def test_metadata_flows_to_results_store_index_and_summary(calls, in_process, tmp_path):
    import shutil

    src = tmp_path / "calls"
    shutil.copytree(calls, src)
    (src / "call02.wav").rename(src / "bob__call02.wav")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,agent,team,date,direction\ncall00.wav,Anna Smith,blue,2024-05-31,inbound\n"
                    "call01.wav,Anna Smith,blue,2024-05-31T10:05,Outbound\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["score", str(src), "--out", str(out), "--workers", "1", "--quiet", "--metadata", str(meta)]) == 0
    data = json.loads((out / "call01.json").read_text(encoding="utf-8"))
    assert data["meta"]["metadata"] == {"agent": "Anna Smith", "team": "blue", "date": "2024-05-31T10:05", "direction": "outbound"}
    assert json.loads((out / "bob__call02.json").read_text())["meta"]["metadata"] == {"agent": "bob"}
    rows = {r["call_id"]: r for r in csv.DictReader((out / "calls.csv").open(encoding="utf-8"))}
    assert rows["call00"]["agent"] == "Anna Smith" and rows["bob__call02"]["agent"] == "bob"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Anna Smith" in index and "bob" in index
    with sqlite3.connect(out / "callcoach.sqlite") as db:
        assert db.execute("SELECT agent, team, date, direction FROM calls WHERE call_id = 'call00'").fetchone() == (
            "Anna Smith", "blue", "2024-05-31", "inbound")

    # new metadata for calls already scored: updated without scoring them again
    meta.write_text("file,agent\ncall00.wav,Carla\n", encoding="utf-8")
    summary = score_paths([src], out, workers=1, metadata=meta)
    assert summary.scored == () and len(summary.skipped) == 3
    assert json.loads((out / "call00.json").read_text())["meta"]["metadata"] == {"agent": "Carla"}
    rows = {r["call_id"]: r for r in csv.DictReader((out / "calls.csv").open(encoding="utf-8"))}
    assert rows["call00"]["agent"] == "Carla" and rows["call01"]["agent"] == "Anna Smith"


def test_every_report_links_its_redacted_copy_and_an_older_folder_gets_one(calls, in_process, tmp_path):
    import shutil

    for report in in_process.glob("call*.html"):
        copy = in_process / f"{report.stem}.redacted.ogg"
        assert copy.is_file() and f'src="{copy.name}"' in report.read_text(encoding="utf-8")
    # a folder written before every redacted report had a player: the next run adds it without scoring again
    out = tmp_path / "out"
    shutil.copytree(in_process, out)
    (out / "call01.redacted.ogg").unlink()
    summary = score_paths([calls], out, workers=1)
    assert summary.scored == () and len(summary.skipped) == 3
    assert (out / "call01.redacted.ogg").is_file()
    assert 'src="call01.redacted.ogg"' in (out / "call01.html").read_text(encoding="utf-8")


def test_index_links_every_report_to_its_neighbours(in_process):
    index = (in_process / "index.html").read_text(encoding="utf-8")
    order = re.findall(r'<td class="c-call" data-v="([^"]+)"><a href=', index)
    assert sorted(order) == ["call00", "call01", "call02"]
    for i, call_id in enumerate(order):
        html = (in_process / f"{call_id}.html").read_text(encoding="utf-8")
        assert 'class="back" href="index.html"' in html
        prev = re.findall(r'rel="prev" href="([^"]+)\.html"', html)
        nxt = re.findall(r'rel="next" href="([^"]+)\.html"', html)
        assert prev == order[i - 1:i] and nxt == order[i + 1:i + 2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "line 1: the file is empty"),
        ("name,agent\n", "line 1, column 1: unknown column 'name'"),
        ("agent,team\n", "line 1: no 'file' column"),
        ("file,agent,agent\n", "line 1, column 3: column 'agent' appears twice"),
        ("file,agent\na.wav,anna,extra\n", "line 2: 3 fields, but the header names 2 columns"),
        ("file,agent\n,anna\n", "line 2, column 1 (file): empty"),
        ("file,date\na.wav,31/05/2024\n", "line 2, column 2 (date): '31/05/2024' is not a date"),
        ("file,direction\na.wav,in\n", "line 2, column 2 (direction): 'in' is not a direction; use inbound, outbound, internal"),
        ("file,agent\na.wav,x\n\na.wav,y\n", "line 4, column 1 (file): 'a.wav' is already on line 2"),
    ],
)
def test_bad_metadata_is_reported_with_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "meta.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as exc:
        load_metadata(path)
    assert str(exc.value).startswith(f"{path}: ") and message in str(exc.value)


def test_a_bare_name_matching_two_inputs_asks_for_a_path(tmp_path, capsys):
    write_short_call(tmp_path / "a" / "x.wav", 0)
    write_short_call(tmp_path / "b" / "x.wav", 1)
    meta = tmp_path / "meta.csv"
    meta.write_text("file,agent\nx.wav,anna\n")
    assert main(["score", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "out"), "--metadata", str(meta)]) == 2
    assert re.search(r"line 2: 'x.wav' matches 2 input files .*give the file's path", capsys.readouterr().err)


def test_agent_from_file_name():
    assert agent_from_name("anna__2024-05-31 call") == "anna"
    assert agent_from_name("no_agent_here") == "" and agent_from_name("__x") == "" and agent_from_name("bob__") == ""


# --------------------------------------------------------------------- ray


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'callcoach[ray]')")
def test_ray_engine_on_a_local_cluster_gives_the_same_results(calls, in_process, tmp_path):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = tmp_path / "out"
        summary = score_paths([calls], out, engine="ray", workers=2)
    finally:
        ray.shutdown()
    assert summary.exit_code == 0 and sorted(summary.scored) == ["call00", "call01", "call02"]
    assert _results(out) == _results(in_process)
    with sqlite3.connect(out / "callcoach.sqlite") as db:
        assert db.execute("SELECT engine, workers FROM runs").fetchone() == ("ray", 2)


def test_a_written_result_reads_back_into_the_same_json(in_process):
    """What a worker hands the store and the report is its JSON file's typed reading: the round trip is exact."""
    for path in sorted(in_process.glob("call*.json")):
        text = path.read_text(encoding="utf-8")
        result = result_from_dict(json.loads(text))
        assert result.meta.fingerprint and result.meta.metadata is not None and result.meta.extra == {}
        assert json.dumps(result_to_dict(result), indent=2, ensure_ascii=False) == text

