"""Fast tests of the report view-model, templates and CSV (no browser)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from callsynth.factories import HOSTILE, make_call_result, make_calm_call

from callcoach.errors import TemplateError
from callcoach.records import result_to_dict
from callcoach.report import svg
from callcoach.report.export import write_csv
from callcoach.report.index_view import agent_summaries, index_row
from callcoach.report.render import ReportRenderer, call_view
from callcoach.report.views import find_spans, highlight_segments

TEMPLATES = Path(__file__).resolve().parents[2] / "reports" / "templates"


@pytest.fixture(scope="module")
def renderer() -> ReportRenderer:
    return ReportRenderer()


@pytest.fixture(scope="module")
def result() -> dict:
    return result_to_dict(make_call_result())


@pytest.fixture(scope="module")
def long_result() -> dict:
    return result_to_dict(make_call_result("two-hours", duration_s=7200))


# ----------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00"), (5.9, "00:06"), (2.99, "00:03"), (2.49, "00:02"), (61, "01:01"), (599.99, "10:00"),
     (3599, "59:59"), (3600, "1:00:00"), (7325.4, "2:02:05"), (-3, "00:00"), (None, "--:--"), (float("nan"), "--:--")],
)
def test_fmt_time(seconds, text):
    assert svg.fmt_time(seconds) == text


def test_time_ticks_are_round_and_bounded():
    assert svg.time_ticks(111) == [0, 15, 30, 45, 60, 75, 90, 105]
    ticks = svg.time_ticks(7200)
    assert len(ticks) <= 11 and ticks[0] == 0 and ticks[-1] <= 7200


def test_value_ticks():
    assert svg.value_ticks(-30, -10) == [-30, -20, -10]
    assert svg.value_ticks(100, 250) == [100, 150, 200, 250]


# ---------------------------------------------------------- downsampling


def test_downsample_keeps_short_curves():
    pts = svg.downsample([1.0, None, 3.0], 0.5)
    assert pts == [(0.0, 1.0), (0.5, None), (1.0, 3.0)]


def test_downsample_bounds_points_and_averages():
    values = [float(i % 8) for i in range(14400)]  # two hours at 0.5 s
    pts = svg.downsample(values, 0.5, max_points=600)
    assert len(pts) == 600  # bins of 24 samples: three whole periods each
    assert all(v == pytest.approx(3.5) for _, v in pts)
    times = [t for t, _ in pts]
    assert times == sorted(times) and times[-1] < 7200


def test_downsample_keeps_silent_gaps_and_ignores_nan():
    values = [None] * 1000 + [2.0] * 1000 + [float("nan")] * 1000
    pts = svg.downsample(values, 1.0, max_points=30)
    assert pts[0][1] is None and pts[-1][1] is None
    assert any(v == 2.0 for _, v in pts)


def test_curve_path_breaks_at_gaps():
    xs = svg.TimeScale(10.0)
    ys = svg.ValueScale(0, 10, 0, 100)
    d = svg.curve_path([(0, 1), (1, 2), (2, None), (3, 4)], xs, ys)
    assert d.count("M") == 2
    assert d.endswith("h0.01")  # a lone point is drawn as a dot


def test_merge_spans():
    spans = [(0, 1, 0), (1.2, 2, 1), (5, 6, 2)]
    assert svg.merge_spans(spans, 0.5) == [(0, 2, 0, 2), (5, 6, 2, 1)]


# --------------------------------------------------------- SVG geometry


def _numbers(d: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)]


@pytest.mark.parametrize("which", ["short", "long"])
def test_timeline_geometry_within_bounds(which, result, long_result):
    data = result if which == "short" else long_result
    tl = call_view(data, None)["timeline"]
    assert tl["lanes"][0]["label"] == "Agent" and tl["lanes"][1]["label"] == "Customer"
    for lane in tl["lanes"]:
        for bar in lane["bars"]:
            assert tl["x0"] <= bar["x"] <= tl["x1"]
            assert bar["x"] + bar["w"] <= tl["x1"] + 1.5
            assert 0 <= bar["t"] <= tl["duration_s"]
        for m in lane["markers"]:
            assert 0 <= m["t"] <= tl["duration_s"]
            assert lane["y"] <= m["y"] <= lane["y"] + lane["h"]
    for chart in tl["charts"]:
        for line in chart["lines"]:
            nums = _numbers(line["d"].replace("M", " ").replace("L", " ").replace("h", " "))
            xs, ys = nums[0::2], nums[1::2]
            assert all(tl["x0"] - 0.5 <= x <= tl["x1"] + 0.5 for x in xs if x > 0.1)
            assert all(chart["y0"] <= y <= chart["y1"] for y in ys if y > 0.1)
            assert line["points"] <= svg.MAX_CURVE_POINTS
    assert [c["title"] for c in tl["charts"]] == ["Loudness", "Speech rate"]
    assert tl["height"] > tl["axis_y"]


def test_long_call_stays_lean(long_result, renderer):
    assert len(long_result["turns"]) > 1000
    view = call_view(long_result, None)
    bars = sum(len(lane["bars"]) for lane in view["timeline"]["lanes"])
    assert bars < 1000  # turns merged at the drawing's resolution
    assert view["transcript_long"]
    html = renderer.render_call(long_result, None)
    assert html.count("<mark") < 50  # only evidence is highlighted, no per-word spans
    assert len(html) < 3_000_000


def test_markers_do_not_overlap(result):
    for lane in call_view(result, None)["timeline"]["lanes"]:
        xs = [m["x"] for m in lane["markers"]]
        assert all(b - a >= 2 * 7 for a, b in zip(xs, xs[1:]))


# ---------------------------------------------------------- highlighting


def test_find_spans_ignores_quotes_case_and_splits_ellipsis():
    text = "Calm down, please. As I already said, I need it."
    assert find_spans(text, "\u201ccalm DOWN\u201d") == [(0, 9)]
    assert find_spans(text, "calm down ... already said") == [(0, 9), (24, 36)]
    assert find_spans(text, "no such phrase") == []
    assert find_spans(text, "a") == []


def test_highlight_segments_merge_and_cover_text():
    text = "one two three four"
    fail = {"css": "hl-fail", "title": "A"}
    ok = {"css": "hl-pass", "title": "B"}
    segs = highlight_segments(text, [(4, 13, ok), (8, 18, fail)])
    assert "".join(s["text"] for s in segs) == text
    assert [s["text"] for s in segs] == ["one ", "two three four"]
    assert segs[1]["mark"]["title"] == "B; A"
    assert highlight_segments(text, []) == [{"text": text, "mark": None}]


def test_transcript_marks_evidence_in_overlapping_turn(result):
    turns = call_view(result, None)["transcript"]
    calm = next(t for t in turns if any(s["mark"] and "Calm down" in s["text"] for s in t["segments"]))
    marked = [s for s in calm["segments"] if s["mark"]]
    assert marked[0]["mark"]["css"] == "hl-fail"
    assert calm["notes"] and "frustrating" in calm["notes"][0]["text"]
    first = turns[0]
    assert [s["text"] for s in first["segments"] if s["mark"]] == ["my name is Dana"]
    # An agent check's evidence quoting the customer (a documented threat) marks nothing.
    threat = next(t for t in turns if any("sue you" in s["text"] for s in t["segments"]))
    assert all(s["mark"] is None for s in threat["segments"])


def test_transcript_marks_the_turns_the_larger_model_heard_again(result, renderer):
    agent = next(t for t in result["turns"] if t["role"] == "agent")
    heard = {**result, "meta": {**result.get("meta", {}), "rehear": {"model": "base", "min_pace_wpm": 200.0, "turns": [
        {"speaker": agent["speaker"], "start_s": agent["start_s"] + 0.1, "end_s": agent["end_s"], "pace_wpm": 240.0,
         "words_before": 9, "words_after": 10}]}}}
    flags = [t["reheard"] for t in call_view(heard, None)["transcript"]]
    assert flags.count(True) == 1 and flags[result["turns"].index(agent)]
    assert not any(t["reheard"] for t in call_view(result, None)["transcript"])
    html = renderer.render_call(heard, None)
    assert html.count('class="reheard"') == 1 and "re-checked" in html


def test_header_and_index_name_a_noisy_line_and_its_level(result, renderer, tmp_path):
    customer = next(s["id"] for s in result["speakers"] if s["role"] == "customer")
    agent = next(s["id"] for s in result["speakers"] if s["role"] == "agent")
    line = {"noisy_below_snr_db": 18.0, "speakers": {
        agent: {"speech_db": -24.0, "noise_db": -55.0, "snr_db": 31.0, "model": "tiny.en"},
        customer: {"speech_db": -20.0, "noise_db": -33.6, "snr_db": 13.6, "model": "base"}}}
    noisy = {**result, "meta": {**result.get("meta", {}), "line": line}}
    assert call_view(noisy, None)["noisy_lines"] == [{"who": "Customer", "snr": "14 dB", "model": "base"}]
    html = renderer.render_call(noisy, None)
    assert html.count("Noisy line") == 1 and "heard by the larger speech model (base)" in html
    row = index_row(noisy, "a.html", None)
    assert row["line_snr_db"] == 13.6 and row["noisy_line"]
    assert "noisy line (13.6 dB)" in renderer.render_index([row], [])
    assert "noisy line" not in renderer.render_index([index_row(result, "b.html", None)], [])
    write_csv([row, index_row({**result, "meta": {}}, "b.html", None)], tmp_path / "calls.csv")
    with (tmp_path / "calls.csv").open(newline="", encoding="utf-8") as fh:
        assert [r["line_snr_db"] for r in csv.DictReader(fh)] == ["13.6", ""]
    # the switch off (no limit), or an older result without meta.line: nothing shown
    assert call_view({**noisy, "meta": {**noisy["meta"], "line": {**line, "noisy_below_snr_db": None}}}, None)["noisy_lines"] == []
    assert call_view({**result, "meta": {}}, None)["noisy_lines"] == []


# ------------------------------------------------------------- view-model


def test_call_view_header(result):
    view = call_view(result, "call.wav")
    assert view["call_id"] == "call-0001"
    assert view["score"]["value"] == "67" and view["score"]["label"] == "Developing"
    assert view["trajectory"]["label"] == "Customer ended calmer"
    assert view["duration"] == svg.fmt_time(result["call"]["duration_s"])
    assert view["work_on"] and view["went_well"]
    cats = [c["name"] for c in view["scorecard"]["categories"]]
    assert cats == ["Tone and composure", "Empathy and listening", "Language", "Resolution", "Boundaries"]
    statuses = [c["status"] for cat in view["scorecard"]["categories"] for c in cat["checks"]]
    assert statuses.count("fail") == view["scorecard"]["n_fail"] == 6


def test_call_view_survives_minimal_json():
    minimal = {
        "schema_version": "1.0",
        "call": {"id": "m", "source": "m.wav", "duration_s": 10.0, "sample_rate_hz": 8000, "channels": 1},
        "speakers": [{"id": "A", "role": "agent", "talk_time_s": 4.0, "rate_wpm": None, "loudness_db": None}],
        "turns": [{"speaker": "A", "role": "agent", "start_s": 1.0, "end_s": 3.0, "text": "hi", "words": []}],
        "events": [{"type": "shouting_match", "role": "customer", "start_s": 2.0, "end_s": 3.0, "detail": "x"}],
        "scorecard": {"score": 50.0, "checks": [{"id": "calm_tone", "status": "pass", "role": "agent",
                                                 "evidence": [], "tip": ""}]},
        "customer_trajectory": "not_upset",
    }
    html = ReportRenderer().render_call(minimal, None)
    assert "Calm tone" in html and "Shouting match" in html


# ------------------------------------------------------------------ render


def test_render_call_has_every_section(renderer, result):
    html = renderer.render_call(result, "call-0001.wav")
    for needle in ('id="call-h"', "Work on first", "What went well", 'id="timeline"', "Scorecard",
                   "Transcript", 'id="events-h"', '<audio id="player" controls', 'src="call-0001.wav"',
                   "Try", "<mark", 'data-t="', "@media print", "Loudness", "Speech rate"):
        assert needle in html, needle
    assert html.count('role="button"') >= len(result["turns"]) // 2
    for tag in ("<main", "<header", "<nav", "<h1", "<h2"):
        assert tag in html


def test_render_call_is_self_contained(renderer, result):
    html = renderer.render_call(result, "call.wav")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "<link" not in html


def test_render_call_without_audio(renderer, result):
    html = renderer.render_call(result, None)
    assert "<audio" not in html
    assert "recording is not linked" in html


def test_render_call_with_embedded_audio(renderer, result):
    html = renderer.render_call(result, "data:audio/wav;base64,UklGRg==")
    assert 'src="data:audio/wav;base64,UklGRg=="' in html


def test_hostile_text_stays_text(renderer):
    data = result_to_dict(make_call_result("evil", hostile=True))
    html = renderer.render_call(data, "a&b\"<x>.wav")
    assert html.count("<script") == 2  # only the page's own scripts: seek, and the review panel's
    assert "alert(1)</script>" not in html
    assert "</textarea>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;quoted&#34;" in html and "&amp;" in html
    assert 'src="a&amp;b&#34;&lt;x&gt;.wav"' in html
    rows = [index_row(data, "evil<x>.html", HOSTILE)]
    index = renderer.render_index(rows, agent_summaries(rows))
    assert index.count("<script") == 1 and "alert(1)</script>" not in index and "</textarea>" not in index
    assert 'href="evil&lt;x&gt;.html"' in index


def test_render_index(renderer, result):
    rows = [index_row(result, "call-0001.html", "Dana"),
            index_row(result_to_dict(make_calm_call()), "call-calm.html", None)]
    html = renderer.render_index(rows, agent_summaries(rows))
    assert html.count("<tr data-agent=") == 2
    assert 'href="call-0001.html"' in html and "Unassigned" in html
    assert 'aria-sort="none"' in html and 'id="f-text"' in html and 'id="f-agent"' in html
    assert 'id="f-traj"' in html


def test_index_row_and_agent_summaries(result):
    calm = result_to_dict(make_calm_call())
    rows = [index_row(result, "a.html", "Dana"), index_row(result, "b.html", "Dana"),
            index_row(calm, "c.html", "Sam")]
    r = rows[0]
    assert r["difficult"] and r["abusive"] and r["n_failed"] == 6
    flags = {f["type"]: f for f in r["flags"]}
    assert flags["raised_voice"]["customer"] == 3 and flags["interruption"]["agent"] == 1
    agents = {a["agent"]: a for a in agent_summaries(rows)}
    assert agents["Dana"]["calls"] == 2 and agents["Dana"]["difficult"] == 2 and agents["Dana"]["abusive"] == 2
    assert agents["Dana"]["top_failed"][0]["count"] == 2 and len(agents["Dana"]["top_failed"]) == 3
    assert "support" not in agents["Sam"]["support"] and agents["Sam"]["difficult"] == 0
    assert "break" in agents["Dana"]["support"]
    assert agents["Sam"]["avg_score"] == 100.0


# -------------------------------------------------------------- templates


def test_custom_templates_dir_overrides_call(tmp_path, result):
    (tmp_path / "call.html").write_text("<p>custom {{ call_id }} {{ score.value }}</p>")
    r = ReportRenderer(tmp_path)
    assert r.render_call(result, None) == "<p>custom call-0001 67</p>"
    assert "Call coaching overview" in r.render_index([], [])  # index falls back to the default


def test_custom_template_can_extend_defaults(tmp_path, result):
    (tmp_path / "call.html").write_text('{% extends "base.html" %}{% block body %}<h1>{{ call_id }}</h1>{% endblock %}')
    html = ReportRenderer(tmp_path).render_call(result, None)
    assert "<h1>call-0001</h1>" in html and "<style>" in html


def test_custom_template_autoescapes_any_extension(tmp_path):
    (tmp_path / "call.html").write_text("{% include 'part.txt' %}")
    (tmp_path / "part.txt").write_text("{{ call_id }}")
    data = result_to_dict(make_call_result("x", hostile=True))
    out = ReportRenderer(tmp_path).render_call(data, None)
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_broken_template_names_file_and_line(tmp_path):
    (tmp_path / "call.html").write_text("<p>\n{% for x in %}\n</p>")
    with pytest.raises(TemplateError, match=r"call\.html:2: template syntax error"):
        ReportRenderer(tmp_path)


def test_broken_partial_is_found_eagerly(tmp_path):
    (tmp_path / "_timeline.html").write_text("{% if %}")
    with pytest.raises(TemplateError, match=r"_timeline\.html:1"):
        ReportRenderer(tmp_path)


def test_missing_template_names_file(tmp_path, monkeypatch):
    import callcoach.report.render as report

    monkeypatch.setattr(report, "default_templates_dir", lambda: tmp_path / "empty")
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "call.html").write_text("ok")
    with pytest.raises(TemplateError, match=r"index\.html: template not found"):
        ReportRenderer(tmp_path / "user")


def test_missing_templates_folder(tmp_path):
    with pytest.raises(TemplateError, match="templates folder not found"):
        ReportRenderer(tmp_path / "nope")


def test_render_error_names_template(tmp_path, result):
    (tmp_path / "call.html").write_text("{{ no_such_value }}")
    with pytest.raises(TemplateError, match=r"call\.html.*no_such_value"):
        ReportRenderer(tmp_path).render_call(result, None)


def test_default_templates_dir_is_the_checkout_folder():
    from callcoach.report.render import default_templates_dir

    assert (default_templates_dir() / "call.html").is_file()
    assert default_templates_dir().resolve() == TEMPLATES.resolve()


# --------------------------------------------------------------------- csv


def test_write_csv(tmp_path, result):
    evil = result_to_dict(make_call_result("=cmd", hostile=True))
    rows = [index_row(result, "a.html", "Dana"), index_row(result_to_dict(make_calm_call()), "b.html", None),
            index_row(evil, "c.html", "=HYPERLINK(1)")]
    path = tmp_path / "calls.csv"
    write_csv(rows, path)
    with path.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 3
    cols = list(table[0])
    assert cols[:7] == ["call_id", "source", "agent", "duration_s", "score", "customer_trajectory", "line_snr_db"]
    for kind in ("raised_voice", "rapid_speech", "interruption", "threat", "long_silence"):
        assert f"{kind}_agent" in cols and f"{kind}_customer" in cols
    assert "long_silence_unknown" in cols
    assert "failed_checks" in cols and "failed_check_ids" in cols
    assert [c for c in cols if c.startswith("check_")][:2] == ["check_calm_tone", "check_no_mirroring"]
    first = table[0]
    assert first["call_id"] == "call-0001" and first["source"] == "call-0001.wav" and first["agent"] == "Dana"
    assert first["raised_voice_customer"] == "3" and first["interruption_agent"] == "1"
    assert first["long_silence_unknown"] == "1"
    assert first["failed_checks"] == "6"
    assert first["failed_check_ids"].split(";")[0] == "measured_pace"
    assert first["check_escalation"] == "na" and first["check_no_provocation"] == "fail"
    assert float(first["duration_s"]) == pytest.approx(result["call"]["duration_s"])
    assert table[1]["customer_trajectory"] == "not_upset" and table[1]["failed_check_ids"] == ""
    assert table[2]["call_id"].startswith("'=cmd") and table[2]["agent"] == "'=HYPERLINK(1)"
