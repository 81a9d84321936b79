"""Reports in a real headless Chromium (Debian's /usr/bin/chromium, via playwright).

Run with ``pytest -m browser``. Skipped when playwright or the browser is
missing. Screenshots go to ``tests/artifacts/`` (ignored by git) and the
README ones to ``docs/screenshots/``.
"""

from __future__ import annotations

import math
import shutil
import struct
import wave
from pathlib import Path

import pytest
from callsynth.factories import HOSTILE, make_call_result, make_calm_call

from callcoach.records import result_to_dict
from callcoach.report.index_view import agent_summaries, index_row
from callcoach.report.render import ReportRenderer

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


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A rendered run: two reports, a hostile one, and the index, with recordings."""
    out = tmp_path_factory.mktemp("site")
    renderer = ReportRenderer()
    results = [
        (result_to_dict(make_call_result("call-0001")), "Dana Whitfield"),
        (result_to_dict(make_call_result("call-0002", seed=4, duration_s=300)), "Sam Ortiz"),
        (result_to_dict(make_calm_call("call-0003")), "Sam Ortiz"),
        (result_to_dict(make_call_result("evil", hostile=True)), None),
    ]
    rows = []
    for i, (data, agent) in enumerate(results):
        name = "hostile" if i == 3 else data["call"]["id"]
        write_wav(out / f"{name}.wav", data["call"]["duration_s"])
        (out / f"{name}.html").write_text(renderer.render_call(data, f"{name}.wav"), encoding="utf-8")
        rows.append(index_row(data, f"{name}.html", agent))
    (out / "index.html").write_text(renderer.render_index(rows, agent_summaries(rows)), encoding="utf-8")
    demo = rows[:3]  # the README picture leaves the hostile row out
    (out / "index-demo.html").write_text(renderer.render_index(demo, agent_summaries(demo)), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


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


def _wait_audio(page) -> None:
    page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=10_000)


def _seeked_to(page, t: float) -> float:
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {t}) < 0.3",
                           timeout=5_000)
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


def test_index_sorts_by_score(open_page):
    page, watch = open_page("index.html")

    def scores() -> list[float]:
        return [float(v) for v in page.locator("#calls tbody tr td:nth-child(3)").evaluate_all(
            "cells => cells.map(c => c.getAttribute('data-v'))")]

    header = page.locator("#calls thead th").nth(2)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert scores() == sorted(scores(), reverse=True)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert scores() == sorted(scores())
    assert page.locator("#calls thead th").nth(0).get_attribute("aria-sort") == "none"
    call_header = page.locator("#calls thead th").nth(0)
    call_header.locator("button").click()
    ids = page.locator("#calls tbody tr td:first-child a").all_inner_texts()
    assert ids[:3] == ["call-0001", "call-0002", "call-0003"]
    assert watch.errors == []


def test_index_filters(open_page):
    page, _ = open_page("index.html")
    visible = page.locator("#calls tbody tr:not([hidden])")
    assert visible.count() == 4
    page.fill("#f-text", "call-0002")
    assert visible.count() == 1
    assert "1 of 4" in page.inner_text("#f-count")
    page.fill("#f-text", "")
    page.select_option("#f-agent", "Sam Ortiz")
    assert visible.count() == 2
    page.select_option("#f-traj", "not_upset")
    assert visible.count() == 1
    page.select_option("#f-agent", "")
    page.select_option("#f-traj", "")
    assert visible.count() == 4


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


@pytest.mark.parametrize(("width", "height", "tag"), [(1366, 900, "desktop"), (390, 844, "phone")])
def test_layout_and_screenshots(open_page, width, height, tag):
    ARTIFACTS.mkdir(exist_ok=True)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("call-0001", "index", "index-demo"):
        page, watch = open_page(f"{name}.html", width, height)
        if name.startswith("call"):
            _wait_audio(page)
        # Readable at this width: nothing wider than the viewport except inside scrollers.
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontSize") >= "16px"
        kind = {"call-0001": "report", "index": "index", "index-demo": "index-demo"}[name]
        page.screenshot(path=str(ARTIFACTS / f"{kind}-{tag}.png"), full_page=True)
        assert watch.errors == []
        if kind == "index":
            continue
        if kind == "index-demo":
            if tag == "phone":
                continue
            kind = "index"
        doc = DOCS_SHOTS / f"{kind}-{tag}.png"
        clip_h = {"desktop": 1500, "phone": 1700}[tag] if kind == "report" else 900
        total_h = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(doc), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": min(clip_h, total_h)})
        assert doc.stat().st_size < MAX_DOC_SHOT_BYTES, doc
        shutil.copy(doc, ARTIFACTS / f"docs-{doc.name}")
