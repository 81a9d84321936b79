"""The QA programme over a results store: trends by week, reviewers' corrections, agreement, the CLI."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path

import pytest
from callsynth.factories import make_scored_dict as scored_result

from callcoach.batch.review import Review, agreement, apply_reviews, latest_reviews, read_corrections, record_reviews
from callcoach.batch.run import MARKER, review_calls, score_paths, write_index
from callcoach.batch.store import STORE_SCHEMA_VERSION, Store, open_store
from callcoach.batch.trends import compute_trends, week_label, week_of
from callcoach.batch.worker import Outcome, Scorer, Task
from callcoach.cli import main
from callcoach.errors import UsageError
from callcoach.records import result_from_dict
from callcoach.report.render import ReportRenderer
from callcoach.report.trends_view import sparkline, trends_view

# ------------------------------------------------------------------ fixtures


def status_of(result: dict, check_id: str) -> dict:
    return next(c for c in result["scorecard"]["checks"] if c["id"] == check_id)


@pytest.fixture()
def folder(tmp_path) -> Path:
    """A report folder with four calls of two agents (two teams) over two weeks, one without a date."""
    out = tmp_path / "qa"
    out.mkdir()
    (out / MARKER).write_text("callcoach\n")
    renderer = ReportRenderer()
    calls = [
        ("c1", {"agent": "Ann", "team": "Billing", "date": "2026-11-23"}, (), ("calm_tone",)),
        ("c2", {"agent": "Ann", "team": "Billing", "date": "2026-11-27T10:00"}, ("apology",), ("calm_tone",)),
        ("c3", {"agent": "Ann", "team": "Billing", "date": "2026-12-01"}, ("calm_tone",), ("calm_tone",)),
        ("c4", {"agent": "Bob", "team": "Retail"}, (), ()),
    ]
    with open_store(out) as store:
        for i, (cid, md, fail, critical) in enumerate(calls):
            data = scored_result(cid, i, fail=fail, critical=critical)
            store.record_scored(0, result_from_dict(data), fingerprint="f", parts={}, metadata=md,
                                file_time="2026-11-18T09:00:00+00:00" if cid == "c4" else None)
            (out / f"{cid}.json").write_text(json.dumps(data))
            (out / f"{cid}.html").write_text(renderer.render_call(data, f"{cid}.wav"))
        write_index(out, store, renderer)
    return out


# -------------------------------------------------------------------- trends


def test_weeks_from_date_else_file_time():
    assert week_of("2026-11-27T10:00") == "2026-11-23" and week_of("2026-11-23") == "2026-11-23"
    assert week_of("2026-11-30") == "2026-11-30" and week_label("2026-11-30") == "2026-W49"
    assert week_of("") is None and week_of("not a date") is None


def test_trends_per_agent_and_team_by_week(folder):
    with open_store(folder) as store:
        t = compute_trends(store)
    assert t.weeks == ("2026-11-16", "2026-11-23", "2026-11-30")  # c4 dated by its file time
    ann = next(a for a in t.agents if a.name == "Ann")
    assert ann.team == "Billing" and ann.calls == 3
    w48, w49 = ann.weeks["2026-11-23"], ann.weeks["2026-11-30"]
    assert w48.calls == 2 and w49.calls == 1
    assert w48.pass_rate("calm_tone") == 1.0 and w49.pass_rate("calm_tone") == 0.0
    assert w49.failed_critical == 1 and w48.failed_critical == 0
    with open_store(folder) as store:
        scores = {r["call_id"]: r["score"] for r, _ in store.scored()}
    assert w48.avg_score == round((scores["c1"] + scores["c2"]) / 2, 1)
    assert [x.name for x in t.teams] == ["Billing", "Retail"]
    view = trends_view(t)
    assert view["weeks"] == ["2026-W47", "2026-W48", "2026-W49"]
    row = view["agents"][0]
    assert row["name"] == "Ann" and row["failed_critical"] == 1 and row["calls"] == 3
    assert len(row["spark"]["dots"]) == 2 and row["checks"]  # no call of Ann's in W47: a gap, not a zero


def test_sparkline_geometry_has_gaps_and_bounds():
    s = sparkline([0.0, None, 1.0, 0.5], 0.0, 1.0)
    assert [d["y"] for d in s["dots"]] == [24.0, 4.0, 14.0]  # low values at the bottom of the 28-unit box
    assert len(s["lines"]) == 1 and s["last"] == s["dots"][-1]
    assert sparkline([None, None], 0, 100)["lines"] == []


def test_index_and_csvs_show_trends_weeks_and_critical(folder):
    html = (folder / "index.html").read_text()
    assert 'id="trends-h"' in html and "<svg class=\"spark\"" in html
    assert 'id="f-crit"' in html and 'data-crit="1"' in html and ">Failed</span>" in html
    with (folder / "calls.csv").open() as fh:
        rows = {r["call_id"]: r for r in csv.DictReader(fh)}
    assert rows["c3"]["week"] == "2026-W49" and rows["c3"]["failed_critical"] == "calm_tone"
    assert rows["c4"]["week"] == "2026-W47" and rows["c1"]["team"] == "Billing"
    with (folder / "trends.csv").open() as fh:
        trend_rows = list(csv.DictReader(fh))
    ann49 = next(r for r in trend_rows if r["name"] == "Ann" and r["week"] == "2026-W49")
    assert ann49["level"] == "agent" and ann49["calls"] == "1" and ann49["pass_rate_calm_tone"] == "0.0"
    assert any(r["level"] == "team" and r["name"] == "Retail" for r in trend_rows)


# ------------------------------------------------------------------- reviews


def test_a_correction_shows_everywhere_marked_and_the_store_keeps_the_machine(folder):
    recorded = review_calls(folder, [Review("c3", "calm_tone", "pass", "Dana", "agent was calm; the line clipped")])
    assert recorded[0].machine_status == "fail" and recorded[0].created_at
    shown = json.loads((folder / "c3.json").read_text())
    check = status_of(shown, "calm_tone")
    assert check["status"] == "pass" and check["corrected"] and check["machine_status"] == "fail"
    assert check["review"]["reviewer"] == "Dana" and "clipped" in check["review"]["note"]
    assert shown["scorecard"]["failed_critical"] == [] and shown["scorecard"]["corrected"] == 1
    assert shown["scorecard"]["score"] > shown["scorecard"]["machine_score"]
    html = (folder / "c3.html").read_text()
    assert "Corrected by Dana" in html and 'src="c3.wav"' in html  # the recording link survives
    assert "1 corrected by a reviewer" in (folder / "index.html").read_text()
    with open_store(folder) as store:
        machine = {c.id: c.status for c in store.result("c3").scorecard.checks}
        assert machine["calm_tone"] == "fail"  # the machine's result is kept
        ann49 = next(a for a in compute_trends(store).agents if a.name == "Ann").weeks["2026-11-30"]
    assert ann49.pass_rate("calm_tone") == 1.0 and ann49.failed_critical == 0 and ann49.corrected == 1
    with (folder / "calls.csv").open() as fh:
        row = next(r for r in csv.DictReader(fh) if r["call_id"] == "c3")
    assert row["check_calm_tone"] == "pass" and row["corrected_checks"] == "1"


def test_latest_review_wins_and_confirming_keeps_earlier_verdicts(folder):
    with open_store(folder) as store:
        record_reviews(store, [Review("c1", "apology", "fail", "Dana", "first look")])
        record_reviews(store, [Review("c1", "apology", "pass", "Lee", "listened again")])
        record_reviews(store, [], confirm_others={"c1": "Lee"})
        latest = latest_reviews(store)["c1"]
        assert latest["apology"].reviewer == "Lee" and latest["apology"].status == "pass"
        assert {r.status for cid, r in latest.items() if cid != "apology"} >= {"pass"}
        rows = {a.check_id: a for a in agreement(store)}
    assert rows["apology"].reviewed == 1 and rows["apology"].agreed == 1
    assert all(r.rate == 1.0 for r in rows.values())


def test_agreement_counts_disagreements_per_check(folder):
    with open_store(folder) as store:
        record_reviews(store, [Review("c2", "apology", "pass", "Dana")], confirm_others={"c2": "Dana"})
        record_reviews(store, [Review("c1", "calm_tone", "fail", "Dana")])
        rows = {a.check_id: a for a in agreement(store)}
    assert rows["apology"].confusion == {("fail", "pass"): 1} and rows["apology"].rate == 0.0
    assert rows["calm_tone"].reviewed == 2 and rows["calm_tone"].agreed == 1


@pytest.mark.parametrize("review, message", [
    (Review("nope", "apology", "pass", "Dana"), "call 'nope' is not in"),
    (Review("c1", "nope", "pass", "Dana"), "has no check 'nope'; its checks: "),
    (Review("c1", "apology", "maybe", "Dana"), "status must be one of pass, fail, na; got 'maybe'"),
    (Review("c1", "apology", "pass", " "), "reviewer's name"),
])
def test_bad_reviews_are_refused_naming_the_value(folder, review, message):
    with open_store(folder) as store, pytest.raises(UsageError, match=message.replace("(", r"\(")):
        record_reviews(store, [review])


def test_apply_reviews_leaves_an_unchanged_result_alone():
    data = scored_result("x")
    machine = status_of(data, "calm_tone")["status"]
    same = apply_reviews(data, {"calm_tone": Review("x", "calm_tone", machine, "Dana")})
    assert same == data and "machine_score" not in same["scorecard"]


# ----------------------------------------------------------- corrections file


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_corrections_file_round_trip(tmp_path):
    f = write_json(tmp_path / "c1.corrections.json", {
        "callcoach_corrections": 1, "call_id": "c1", "reviewer": "Dana", "confirm_others": True,
        "saved_at": "2026-12-05T10:00:00Z", "corrections": [{"check": "apology", "status": "pass", "note": "at 0:41"}]})
    c = read_corrections(f)
    assert c.call_id == "c1" and c.reviewer == "Dana" and c.confirm_others
    assert c.reviews[0].origin == "file:c1.corrections.json" and c.reviews[0].created_at == "2026-12-05T10:00:00Z"


@pytest.mark.parametrize("data, message", [
    ({"call_id": "c1"}, "callcoach_corrections: must be 1"),
    ({"callcoach_corrections": 1, "reviewer": "D", "corrections": []}, "call_id: must be the call's id"),
    ({"callcoach_corrections": 1, "call_id": "c1", "corrections": []}, "reviewer: must be the reviewer's name"),
    ({"callcoach_corrections": 1, "call_id": "c1", "reviewer": "D", "corrections": [{"check": "a", "status": "ok"}]},
     r"corrections\[0\].status: must be one of pass, fail, na; got 'ok'"),
    ({"callcoach_corrections": 1, "call_id": "c1", "reviewer": "D", "corrections": []}, "holds no correction"),
])
def test_bad_corrections_files_name_the_key(tmp_path, data, message):
    f = write_json(tmp_path / "bad.json", data)
    with pytest.raises(UsageError, match=message):
        read_corrections(f)


# ----------------------------------------------------------------------- CLI


def test_cli_review_import_and_eval_reviews(folder, tmp_path, capsys):
    assert main(["review", "c2", "apology", "--status", "pass", "--note", "said sorry", "--reviewer", "Dana",
                 "--out", str(folder)]) == 0
    assert "c2 apology: fail -> pass (by Dana: said sorry)" in capsys.readouterr().err
    f = write_json(tmp_path / "c1.corrections.json", {
        "callcoach_corrections": 1, "call_id": "c1", "reviewer": "Lee", "confirm_others": True, "corrections": []})
    assert main(["review", "--import", str(f), "--out", str(folder)]) == 0
    assert "0 correction(s)" in capsys.readouterr().err
    assert main(["eval", "--reviews", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "## Scorer agreement with reviewers (2 reviewed call(s)" in out
    assert "| apology | 2 | 1 | 0.500 | 0 | 1 | 0 |" in out


@pytest.mark.parametrize("argv, message", [
    (["review", "c1", "apology"], "add --status pass|fail|na"),
    (["review", "c1"], "--confirm to accept"),
    (["review"], "give CALL and CHECK"),
    (["review", "c1", "apology", "--status", "pass", "--import", "x.json"], "--import takes the corrections"),
    (["review", "c9", "apology", "--status", "pass", "--reviewer", "D"], "call 'c9' is not in"),
    (["eval"], "give folders of calls with ground truth, or --reviews DIR"),
    (["eval", "--reviews", "."], "not a folder of callcoach reports"),
])
def test_cli_review_errors_exit_2(folder, argv, message, capsys, monkeypatch):
    monkeypatch.chdir(folder if "--out" not in argv and argv[0] == "review" else folder.parent)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_eval_reviews_with_no_reviews_says_so(folder, capsys):
    assert main(["eval", "--reviews", str(folder)]) == 2
    assert "no reviews yet" in capsys.readouterr().err


# ------------------------------------------------------- store and new days


def test_a_version_1_store_is_migrated_keeping_its_calls(folder):
    path = folder / "callcoach.sqlite"
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE reviews; ALTER TABLE calls DROP COLUMN file_time; "
                     "ALTER TABLE checks DROP COLUMN critical; PRAGMA user_version = 1;")
    db.close()
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == STORE_SCHEMA_VERSION == 2
        assert store.counts() == {"scored": 4}
        record_reviews(store, [Review("c1", "apology", "fail", "Dana")])
        assert compute_trends(store).agents  # old rows: no file time, not critical; still trended


class FakeScorer(Scorer):
    """Scores without models (a factory result per call) and remembers which calls it scored."""

    scored: list[str] = []

    def __init__(self, settings, out_dir, **_) -> None:  # no models: this test is about the store
        self.renderer = ReportRenderer()

    def score(self, task: Task, on_stage=None) -> Outcome:
        FakeScorer.scored.append(task.call_id)
        data = scored_result(task.call_id, len(FakeScorer.scored))
        data["call"]["source"] = task.source_name
        data["meta"]["metadata"] = dict(task.metadata)
        return Outcome(task.call_id, result_from_dict(data), self.renderer.render_call(data, None))


def test_a_new_days_calls_add_to_the_trend_without_rescoring_old_ones(tmp_path):
    out = tmp_path / "qa"
    days = {"day1": "2026-11-24T09:00:00", "day2": "2026-12-02T09:00:00"}
    for day, when in days.items():
        folder = tmp_path / day
        folder.mkdir()
        for i in range(2):
            f = folder / f"ann__{day}-{i}.wav"
            f.write_bytes(b"RIFF" + day.encode() + bytes([i]))
            stamp = __import__("datetime").datetime.fromisoformat(when).timestamp()
            os.utime(f, (stamp, stamp))
    FakeScorer.scored = []
    score_paths([tmp_path / "day1"], out, workers=1, scorer_factory=FakeScorer)
    summary = score_paths([tmp_path / "day2"], out, workers=1, scorer_factory=FakeScorer)
    assert sorted(summary.scored) == ["ann__day2-0", "ann__day2-1"]
    assert sorted(FakeScorer.scored) == ["ann__day1-0", "ann__day1-1", "ann__day2-0", "ann__day2-1"]  # once each
    with open_store(out) as store:
        trend = compute_trends(store)
    ann = next(a for a in trend.agents if a.name == "ann")
    assert sorted(ann.weeks) == ["2026-11-23", "2026-11-30"] and ann.calls == 4  # weeks from the file times
    assert "2026-W49" in (out / "trends.csv").read_text()


def test_a_rescored_call_keeps_its_reviewers_correction(tmp_path):
    src = tmp_path / "calls"
    src.mkdir()
    (src / "ann__a.wav").write_bytes(b"RIFF-a")
    out = tmp_path / "qa"
    score_paths([src], out, workers=1, scorer_factory=FakeScorer)
    machine = status_of(json.loads((out / "ann__a.json").read_text()), "calm_tone")["status"]
    flipped = "fail" if machine == "pass" else "pass"
    review_calls(out, [Review("ann__a", "calm_tone", flipped, "Dana")])
    score_paths([src], out, workers=1, scorer_factory=FakeScorer, force=True)
    shown = status_of(json.loads((out / "ann__a.json").read_text()), "calm_tone")
    assert shown["status"] == flipped and shown["corrected"]
    assert "Corrected by Dana" in (out / "ann__a.html").read_text()


def test_a_check_corrected_to_pass_is_no_longer_to_work_on():
    data = scored_result("x", fail=("calm_tone",))
    check = status_of(data, "calm_tone")
    check["better_phrasing"] = "Try this"
    data["scorecard"]["work_on"] = [check["tip"], "another tip"]
    shown = apply_reviews(data, {"calm_tone": Review("x", "calm_tone", "pass", "Dana")})
    assert status_of(shown, "calm_tone")["better_phrasing"] == ""
    assert shown["scorecard"]["work_on"] == ["another tip"]
    assert status_of(data, "calm_tone")["better_phrasing"] == "Try this"  # the input is left alone
