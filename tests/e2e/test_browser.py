"""Reports in a real headless Chromium (Debian's /usr/bin/chromium, via playwright).

Run with ``pytest -m browser``. Skipped when playwright or the browser is
missing. Screenshots go to ``tests/artifacts/`` (ignored by git) and the
README ones to ``docs/screenshots/``.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import time
import wave
from pathlib import Path

import pytest
from callsynth.factories import HOSTILE, make_call_result, make_calm_call

from callcoach.records import result_to_dict
from callcoach.report.index_view import agent_summaries, index_row, triage_order
from callcoach.report.nav import call_nav, replace_nav
from callcoach.report.render import ReportRenderer
from callcoach.scoring.screening import screen

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
MAX_DOC_SHOT_BYTES = 400_000
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)


def write_wav(path: Path, seconds: float, rate: int = 8000) -> None:
    """A quiet 200 Hz mono tone, ``seconds`` long (16-bit PCM)."""
    period = rate // 200
    one = b"".join(struct.pack("<h", int(1500 * math.sin(2 * math.pi * i / period))) for i in range(period))
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(one * (frames // period + 1))


def uncertain(data: dict) -> dict:
    """A result whose agent was found with 60 % confidence: it needs review."""
    for s in data["speakers"]:
        s["role_confidence"] = 0.6
    data["meta"]["roles"] = {"method": "cues", "confidence": {s["id"]: 0.6 for s in data["speakers"]}, "reasons": []}
    data["screening"] = screen(data).to_dict()
    return data


LOW_WORD = (0, 3)
"""(turn, word) of call-0001 given a low probability: the transcript marks it."""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A rendered run: three reports, one that needs review, a hostile one, and the index, with recordings."""
    out = tmp_path_factory.mktemp("site")
    renderer = ReportRenderer()
    first = result_to_dict(make_call_result("call-0001"))
    first["turns"][LOW_WORD[0]]["words"][LOW_WORD[1]]["probability"] = 0.21
    # as the scorecard writes a check missed at a moment of the customer's: the moment's measurement
    raised = next(e for e in first["events"] if e["type"] == "raised_voice" and e["role"] == "customer")
    for check in first["scorecard"]["checks"]:
        if check["id"] in ("acknowledge", "ownership"):
            check.update(status="fail", evidence=[{k: raised[k] for k in ("start_s", "end_s")} | {"text": raised["detail"]}])
    results = [
        (first, "Dana Whitfield"),
        (result_to_dict(make_call_result("call-0002", seed=4, duration_s=300)), "Sam Ortiz"),
        (result_to_dict(make_calm_call("call-0003")), "Sam Ortiz"),
        (result_to_dict(make_call_result("evil", hostile=True)), None),
        (uncertain(result_to_dict(make_calm_call("meeting", seed=7))), "Sam Ortiz"),
    ]
    rows = []
    for i, (data, agent) in enumerate(results):
        name = "hostile" if i == 3 else data["call"]["id"]
        write_wav(out / f"{name}.wav", data["call"]["duration_s"])
        (out / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
        (out / f"{name}.html").write_text(renderer.render_call(data, f"{name}.wav"), encoding="utf-8")
        rows.append(index_row(data, f"{name}.html", agent))
    (out / "index.html").write_text(renderer.render_index(rows, agent_summaries(rows)), encoding="utf-8")
    ordered = triage_order(rows)
    for i, row in enumerate(ordered):  # what callcoach.batch.write_index does after a run
        path = out / row["href"]
        path.write_text(replace_nav(path.read_text(encoding="utf-8"), renderer.render_nav(call_nav(ordered, i))),
                        encoding="utf-8")
    demo = rows[:3] + rows[4:]  # the README picture leaves the hostile row out
    (out / "index-demo.html").write_text(renderer.render_index(demo, agent_summaries(demo)), encoding="utf-8")
    return out


class Watch:
    """What a page did: console errors, page errors, requests, dialogs."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


@pytest.fixture()
def open_page(browser, site):
    pages = []

    def _open(name: str, width: int = 1366, height: int = 900):
        page = browser.new_page(viewport={"width": width, "height": height})
        watch = Watch(page)
        page.goto((site / name).as_uri())
        pages.append(page)
        return page, watch

    yield _open
    for page in pages:
        page.close()


def _until(page, expression: str, timeout_s: float = 10.0) -> None:
    """Wait until ``expression`` is true in the page. Polled from here: playwright's wait_for_function compiles
    its predicate with eval, which the reports' Content-Security-Policy (rightly) forbids."""
    end = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


def _wait_audio(page) -> None:
    _until(page, "document.getElementById('player').readyState >= 1")


def _seeked_to(page, t: float) -> float:
    _until(page, f"Math.abs(document.getElementById('player').currentTime - {t}) < 0.3", 5.0)
    return page.evaluate("(() => { const a = document.getElementById('player'); a.pause(); return a.currentTime; })()")


def test_report_is_offline_and_error_free(open_page, site):
    page, watch = open_page("call-0001.html")
    _wait_audio(page)
    assert watch.errors == []
    assert watch.requests, "the page itself is a request"
    for url in watch.requests:
        assert url.startswith(("file://", "data:")), url
    audio = [u for u in watch.requests if u.endswith(".wav")]
    assert audio == [(site / "call-0001.wav").as_uri()] or len(set(audio)) == 1


def test_timeline_marker_click_seeks(open_page):
    page, watch = open_page("call-0001.html")
    _wait_audio(page)
    markers = page.locator("#timeline .mk")
    assert markers.count() >= 5
    marker = markers.nth(3)
    t = float(marker.get_attribute("data-t"))
    marker.click()
    assert abs(_seeked_to(page, t) - t) < 0.3
    assert watch.errors == []


def test_timeline_bar_keyboard_seeks(open_page):
    page, _ = open_page("call-0001.html")
    _wait_audio(page)
    bar = page.locator("#timeline .bar").nth(6)
    t = float(bar.get_attribute("data-t"))
    bar.focus()
    page.keyboard.press("Enter")
    assert abs(_seeked_to(page, t) - t) < 0.3
    bar2 = page.locator("#timeline .bar").nth(2)
    t2 = float(bar2.get_attribute("data-t"))
    bar2.focus()
    page.keyboard.press(" ")
    assert abs(_seeked_to(page, t2) - t2) < 0.3


def test_evidence_link_seeks(open_page):
    page, _ = open_page("call-0001.html")
    _wait_audio(page)
    link = page.locator("#check-next_steps .evidence .seek").first
    t = float(link.get_attribute("data-t"))
    assert t > 30
    link.click()
    assert abs(_seeked_to(page, t) - t) < 0.3


def _scores(page) -> list[float]:
    return [float(v) for v in page.locator("#calls tbody tr td:nth-child(3)").evaluate_all(
        "cells => cells.map(c => c.getAttribute('data-v'))")]


def test_index_opens_worst_first_and_sorts_by_score(open_page):
    page, watch = open_page("index.html")
    header = page.locator("#calls thead th").nth(2)
    # worst first as it opens: the call that needs review, then the lowest score
    assert header.get_attribute("aria-sort") == "ascending"
    assert _scores(page) == sorted(_scores(page))
    assert page.locator("#calls tbody tr").first.get_attribute("data-review") == "yes"
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert _scores(page) == sorted(_scores(page), reverse=True)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert _scores(page) == sorted(_scores(page))
    # a numeric column's first click puts the most first; the score's puts the worst first
    faults = page.locator("#calls thead th").nth(5)
    faults.locator("button").click()
    assert faults.get_attribute("aria-sort") == "descending"
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending" and _scores(page) == sorted(_scores(page))
    call_header = page.locator("#calls thead th").nth(0)
    call_header.locator("button").click()
    ids = page.locator("#calls tbody tr td:first-child a").all_inner_texts()
    assert ids[:3] == ["call-0001", "call-0002", "call-0003"]
    page.select_option("#f-sort", "2:ascending")  # the phone's sort control does the same
    assert _scores(page) == sorted(_scores(page)) and header.get_attribute("aria-sort") == "ascending"
    assert watch.errors == []


def test_index_is_for_triage(open_page):
    page, _ = open_page("index.html")
    rows = page.locator("#calls tbody tr")
    attention = int(page.inner_text("#k-attention"))
    assert attention == page.locator('#calls tbody tr[data-attention="yes"]').count() >= 2
    page.select_option("#f-show", "attention")
    assert page.locator("#calls tbody tr:not([hidden])").count() == attention
    page.select_option("#f-show", "review")
    assert page.locator("#calls tbody tr:not([hidden])").count() == 1
    page.select_option("#f-show", "")
    heads = page.locator("#calls thead th").all_inner_texts()
    assert any("AGENT FAULTS" in h.upper() for h in heads) and any("CUSTOMER DIFFICULTY" in h.upper() for h in heads)
    assert not page.locator("#calls td", has_text="A 1 \u00b7 C").count()  # no unexplained A/C cells
    first = page.locator("#calls tbody tr", has=page.locator('a[href="call-0001.html"]'))
    assert first.locator(".c-faults b").inner_text() != "0" and first.locator(".c-diff b").inner_text() != "0"
    for r in range(rows.count()):
        items = rows.nth(r).locator(".top3 li:not(.more)")
        assert items.count() <= 3
    assert page.locator(".top3 .more").first.inner_text().startswith("+")
    assert "--metadata" in page.inner_text("#agent-hint") and "__" in page.inner_text("#agent-hint")
    review = page.locator('#calls tbody tr[data-review="yes"]')
    assert "Needs review" in review.inner_text() and "agent uncertain" in review.inner_text()
    # left out of the agent's average: Sam Ortiz's average is that of his two scored calls only
    sam = page.locator("#agents tbody tr", has_text="Sam Ortiz")
    assert sam.locator("td").nth(0).inner_text() == "2" and sam.locator("td").nth(1).inner_text() == "1"


def test_call_report_has_a_way_back_and_to_the_next_call(open_page, site):
    page, _ = open_page("call-0002.html")
    assert page.locator(".callnav a.back").get_attribute("href") == "index.html"
    nxt, prev = page.locator(".callnav a.next"), page.locator(".callnav a.prev")
    assert nxt.count() == 1 and prev.count() == 1
    prev_href = prev.get_attribute("href")
    nxt.click()
    page.wait_for_load_state()
    assert page.url != (site / "call-0002.html").as_uri()
    page.locator(".callnav a.prev").click()
    page.wait_for_load_state()
    assert page.url == (site / "call-0002.html").as_uri()
    page.locator(".callnav a.back").click()
    page.wait_for_load_state()
    assert page.url.endswith("/index.html") and prev_href.endswith(".html")


def test_needs_review_is_said_in_the_report(open_page):
    page, _ = open_page("meeting.html")
    box = page.locator("#review")
    assert box.is_visible() and "Needs review" in box.inner_text() and "60%" in box.inner_text()
    assert "Needs review" in page.inner_text(".score")


def test_evidence_is_true_to_the_check(open_page, site):
    page, _ = open_page("call-0001.html")
    details = [e["detail"] for e in json.loads((site / "call-0001.json").read_text())["events"]]
    quotes = page.locator(".evidence q").all_inner_texts()
    assert quotes, "the agent's own words are quoted"
    assert not any(q in details for q in quotes)
    # a measurement is shown as one, with whose it is, never as a quote
    measured = page.locator(".evidence .ev-measure, .evidence .ev-needed").filter(has=page.locator(".measure"))
    for i in range(measured.count()):
        assert measured.nth(i).locator(".by").first.inner_text().startswith(("Agent", "Customer", "Needed"))
    assert page.locator(".evidence .measure").count() >= 1
    assert all("dB" not in q and "wpm" not in q for q in quotes)
    # a missed behaviour shows the moment it was needed, what did not follow and what the agent said next
    needed = page.locator("#check-acknowledge .evidence li.ev-needed")
    assert needed.count() == 1
    text = needed.inner_text()
    assert "Needed here" in text and "customer, raised voice" in text and "no acknowledgement" in text
    assert needed.locator(".then q").count() == 1 and "Agent said" in needed.locator(".then").inner_text()
    # the same moment cited by a second check is named once, with the reason
    assert "same moment" in page.inner_text("#check-ownership .evidence")
    # every quoted piece of speech names who said it
    for li in page.locator(".evidence li.ev-said").all():
        assert li.locator(".by").inner_text().endswith("said")


def test_every_timeline_mark_is_in_the_legend(open_page):
    page, _ = open_page("call-0001.html")
    marks = set(page.locator("#timeline .mk").evaluate_all("gs => gs.map(g => g.getAttribute('class'))"))
    legend = " ".join(page.locator(".legend path").evaluate_all("ps => ps.map(p => p.getAttribute('class'))"))
    for cls in marks:
        assert cls.split()[1] in legend, cls
    # no marker covers another in its lane
    boxes = page.locator("#timeline .mk").evaluate_all(
        "gs => gs.map(g => { const r = g.getBoundingClientRect(); return [g.parentNode === null ? '' : g.closest('.lane') ? [...document.querySelectorAll('#timeline .lane')].indexOf(g.closest('.lane')) : -1, r.left, r.right]; })")
    by_lane: dict = {}
    for lane, left, right in boxes:
        by_lane.setdefault(lane, []).append((left, right))
    for spans in by_lane.values():
        spans.sort()
        for (a0, a1), (b0, _) in zip(spans, spans[1:]):
            assert b0 >= a1 - 1.5, (a0, a1, b0)


def test_transcript_follows_playback_and_marks_unsure_words(open_page):
    page, _ = open_page("call-0001.html")
    _wait_audio(page)
    low = page.locator(f"#turn-{LOW_WORD[0]} .text .low")
    assert low.count() == 1 and "confidence" in low.get_attribute("title")
    turn = page.locator(".transcript .turn").nth(5)
    t = float(turn.get_attribute("data-start"))
    page.evaluate(f"(() => {{ const a = document.getElementById('player'); a.currentTime = {t + 0.2}; }})()")
    _until(page, "document.querySelector('.transcript .turn.now') !== null", 5.0)
    _until(page, "document.querySelector('.transcript .turn.now').getAttribute('data-start') === "
                 f"'{turn.get_attribute('data-start')}'", 5.0)
    assert page.locator(".transcript .turn.now").count() == 1
    assert page.locator("#follow").is_checked()


def test_conversation_measures_are_shown(open_page):
    page, _ = open_page("call-0001.html")
    text = page.inner_text("#conv-h + .floor ~ .measures")
    assert "turn switches a minute" in text and "Longest monologue" in text and "Talking over" in text
    key = page.inner_text(".floor-key")
    assert "No one talking" in key and "Both at once" in key
    shares = [float(x) for x in page.locator(".floor .seg").evaluate_all(
        "s => s.map(e => parseFloat(e.style.width))")]
    assert abs(sum(shares) - 100) < 1.5  # the floor adds up to the whole call
    assert page.locator(".quarters .q").count() == 4


def test_index_filters(open_page):
    page, _ = open_page("index.html")
    visible = page.locator("#calls tbody tr:not([hidden])")
    assert visible.count() == 5
    page.fill("#f-text", "call-0002")
    assert visible.count() == 1
    assert "1 of 5" in page.inner_text("#f-count")
    page.fill("#f-text", "")
    page.select_option("#f-agent", "Sam Ortiz")
    assert visible.count() == 3
    page.select_option("#f-traj", "not_upset")
    assert visible.count() == 2
    page.select_option("#f-agent", "")
    page.select_option("#f-traj", "")
    assert visible.count() == 5


def test_hostile_text_stays_text(open_page):
    page, watch = open_page("hostile.html")
    before = page.evaluate("document.querySelectorAll('script').length")
    assert before == 2  # the page's own scripts: seek, and the review panel's
    _wait_audio(page)
    page.locator(".seek").first.click()
    page.wait_for_timeout(300)
    assert page.evaluate("document.querySelectorAll('script').length") == before
    assert page.evaluate("document.querySelectorAll('textarea').length") == 0
    assert page.evaluate("[...document.querySelectorAll('b')].filter(b => b.textContent === 'bold').length") == 0
    body = page.inner_text("body")
    assert "<script>alert(1)</script>" in body and "</textarea>" in body
    assert HOSTILE.split(" ")[0] in page.inner_text("h1")
    assert watch.dialogs == [] and watch.errors == []
    index, iwatch = open_page("index.html")
    assert index.evaluate("document.querySelectorAll('script').length") == 1
    index.fill("#f-text", "alert")
    assert index.locator("#calls tbody tr:not([hidden])").count() == 1
    assert iwatch.dialogs == []


OVERFLOW_JS = """(w) => [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) { return false; }
    if (e.closest('.sr-only, .skip')) { return false; }
    return r.right > w + 1 || r.left < -1;
}).slice(0, 5).map(e => e.tagName + '.' + (e.getAttribute('class') || '') + ' ' + Math.round(e.getBoundingClientRect().right))"""
"""Elements that stick out of a ``w`` px wide view (those inside a scroller included: at phone width nothing scrolls sideways)."""


@pytest.mark.parametrize("name", ["index.html", "call-0001.html", "call-0002.html", "meeting.html", "hostile.html"])
def test_phone_width_has_no_sideways_scroll(open_page, name):
    page, watch = open_page(name, 390, 844)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate(OVERFLOW_JS, 390) == []
    if name == "index.html":
        # the calls are cards: no header row, every card as wide as the view, a label on every figure
        assert not page.locator("#calls thead").is_visible()
        card = page.locator("#calls tbody tr").first.bounding_box()
        assert card["width"] <= 390 - 16
        assert page.locator("#calls tbody tr").first.locator("td[data-label='Score']").evaluate(
            "td => getComputedStyle(td, '::before').content").strip('"') == "Score"
    else:
        assert not page.locator("#timeline").is_visible() and page.locator("#timeline-phone").is_visible()
        # the phone timeline's labels read at 10 px or more
        sizes = page.locator("#timeline-phone .lane-label, #timeline-phone .tick text").evaluate_all(
            "ts => ts.map(t => t.getBoundingClientRect().height)")
        assert sizes and min(sizes) >= 10, sizes
        assert page.locator(".callnav a.back").is_visible()
    assert watch.errors == []


@pytest.mark.parametrize("width", [1024, 1190, 1280])
def test_index_fits_every_laptop_width(open_page, width):
    page, _ = open_page("index.html", width, 800)
    assert page.evaluate(OVERFLOW_JS, width) == []


@pytest.mark.parametrize(("width", "height", "tag"), [(1366, 900, "desktop"), (390, 844, "phone")])
def test_layout_and_screenshots(open_page, width, height, tag):
    ARTIFACTS.mkdir(exist_ok=True)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("call-0001", "index", "index-demo"):
        page, watch = open_page(f"{name}.html", width, height)
        if name.startswith("call"):
            _wait_audio(page)
        # Readable at this width: nothing wider than the view, not even inside a scroller.
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        assert page.evaluate(OVERFLOW_JS, width) == []
        assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontSize") >= "16px"
        kind = {"call-0001": "report", "index": "index", "index-demo": "index-demo"}[name]
        page.screenshot(path=str(ARTIFACTS / f"{kind}-{tag}.png"), full_page=True)
        assert watch.errors == []
        if kind == "index":
            continue
        if kind == "index-demo":
            kind = "index"
        doc = DOCS_SHOTS / f"{kind}-{tag}.png"
        clip_h = {"desktop": 1500, "phone": 1700}[tag] if kind == "report" else {"desktop": 900, "phone": 1500}[tag]
        total_h = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(doc), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": min(clip_h, total_h)})
        assert doc.stat().st_size < MAX_DOC_SHOT_BYTES, doc
        shutil.copy(doc, ARTIFACTS / f"docs-{doc.name}")


# ------------------------------------------------- real recordings, default options

AUDIO_SAMPLES = ROOT / "audio_samples"


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> tuple[Path, Path]:
    """A two-party stereo call (calm_billing, 8 kHz WAV) and a one-speaker speech (jfk, 16 kHz FLAC),
    scored with the default options (redaction on): (input folder, output folder)."""
    from callcoach.cli import main

    src = tmp_path_factory.mktemp("in")
    shutil.copy(AUDIO_SAMPLES / "calm_billing.wav", src)
    shutil.copy(AUDIO_SAMPLES / "real" / "jfk.flac", src)
    out = tmp_path_factory.mktemp("scored") / "out"
    assert main(["score", str(src), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    return src, out


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_every_default_report_plays_its_recording(browser, scored):
    src, out = scored
    reports = sorted(p for p in out.glob("*.html") if p.name != "index.html")
    assert [p.stem for p in reports] == ["calm_billing", "jfk"]
    for report in reports:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        watch = Watch(page)
        page.goto(report.as_uri())
        audio = page.locator("audio#player")
        assert audio.count() == 1, f"{report.name} has no player"
        href = audio.get_attribute("src")
        assert href == f"{report.stem}.redacted.ogg" and (out / href).is_file()  # never the original
        _until(page, "document.getElementById('player').readyState >= 1")
        duration = json.loads((out / f"{report.stem}.json").read_text())["call"]["duration_s"]
        state = page.evaluate("""async () => { const a = document.getElementById('player');
            a.currentTime = 1.5; await a.play().catch(() => {}); await new Promise(r => setTimeout(r, 400));
            a.pause(); return {error: a.error && a.error.code, duration: a.duration, t: a.currentTime}; }""")
        assert state["error"] is None and abs(state["duration"] - duration) < 0.5 and state["t"] >= 1.5, state
        assert watch.errors == [] and all(u.startswith(("file://", "data:")) for u in watch.requests)
        page.close()
    # the output folder stays about the size of the recordings (the copies are Opus, not WAV)
    assert _size(out) <= 1.5 * _size(src), (_size(out), _size(src))


def test_a_recording_that_is_not_a_call_needs_review(browser, scored):
    _, out = scored
    data = json.loads((out / "jfk.json").read_text())
    assert data["screening"]["needs_review"] and data["screening"]["reasons"]
    assert not json.loads((out / "calm_billing.json").read_text())["screening"]["needs_review"]
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto((out / "jfk.html").as_uri())
    assert page.locator("#review").is_visible()
    assert page.locator(".callnav a.back").get_attribute("href") == "index.html"
    assert page.locator(".callnav a.next").get_attribute("href") == "calm_billing.html"  # worst first: review first
    page.goto((out / "index.html").as_uri())
    assert page.locator('#calls tbody tr[data-review="yes"]').count() == 1
    calm = json.loads((out / "calm_billing.json").read_text())["scorecard"]["score"]
    assert page.locator(".kpi .v").nth(2).inner_text() == f"{calm:.0f}"  # the average leaves jfk out
    page.close()
