"""QA controls in a real headless Chromium: "Mark as wrong" saves a corrections file, the critical filter,
corrected checks and trend charts. Run with ``pytest -m browser``; skipped without playwright or Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callsynth.factories import make_scored_dict as scored_result
from test_browser import Watch, sync_api  # noqa: F401  (skips this module like test_browser)

from callcoach.batch.review import Review, read_corrections
from callcoach.batch.run import MARKER, review_calls, write_index
from callcoach.batch.store import open_store
from callcoach.records import result_from_dict
from callcoach.report.render import ReportRenderer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A report folder: two calls that failed a critical check (one gets corrected by a test), one that did not,
    one corrected by a reviewer."""
    out = tmp_path_factory.mktemp("qa-site")
    (out / MARKER).write_text("callcoach\n")
    renderer = ReportRenderer()
    calls = [("crit", ("calm_tone",), "2026-11-23"), ("crit2", ("calm_tone",), "2026-11-25"), ("fine", (), "2026-11-24"),
             ("fixed", ("apology",), "2026-12-01")]
    with open_store(out) as store:
        for i, (cid, fail, date) in enumerate(calls):
            data = scored_result(cid, i, fail=fail, critical=("calm_tone",))
            store.record_scored(0, result_from_dict(data), fingerprint="f", parts={}, metadata={"agent": "Ann", "team": "Billing", "date": date})
            (out / f"{cid}.json").write_text(json.dumps(data))
            (out / f"{cid}.html").write_text(renderer.render_call(data, None))
        write_index(out, store, renderer)
    review_calls(out, [Review("fixed", "apology", "pass", "Dana", "apologised at 0:41")])
    return out


@pytest.fixture()
def page_of(browser, site):
    contexts = []

    def _open(name: str):
        ctx = browser.new_context(accept_downloads=True)
        page = ctx.new_page()
        watch = Watch(page)
        page.goto((site / name).as_uri())
        contexts.append(ctx)
        return page, watch

    yield _open
    for ctx in contexts:
        ctx.close()


def test_mark_as_wrong_saves_a_corrections_file_that_review_imports(page_of, site, tmp_path):
    page, watch = page_of("crit.html")
    assert "Call failed: critical check not met" in page.inner_text(".critical-fail")
    check = page.locator("#check-calm_tone")
    assert check.locator(".badge.crit").count() == 1
    check.locator(".review summary").click()
    check.locator(".rv-status").select_option("pass")  # choosing a status ticks "got this wrong"
    assert check.locator(".rv-wrong").is_checked()
    check.locator(".rv-note").fill("calm throughout; the line clipped")
    page.locator("#rv-save").click()
    assert "Enter your name" in page.inner_text("#rv-msg")  # nothing saved without a reviewer
    page.fill("#rv-reviewer", "Dana")
    with page.expect_download() as dl:
        page.locator("#rv-save").click()
    download = dl.value
    assert download.suggested_filename == "crit.corrections.json"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    corrections = read_corrections(saved)
    assert corrections.call_id == "crit" and corrections.reviewer == "Dana" and corrections.confirm_others
    assert [(r.check_id, r.status, r.note) for r in corrections.reviews] == [
        ("calm_tone", "pass", "calm throughout; the line clipped")]
    assert "Saved crit.corrections.json (1 correction)" in page.inner_text("#rv-msg")
    assert watch.errors == [] and all(u.startswith(("file://", "data:")) for u in watch.requests)
    recorded = review_calls(site, list(corrections.reviews), {"crit": "Dana"})
    assert any(r.check_id == "calm_tone" and r.machine_status == "fail" for r in recorded)
    page.reload()
    assert page.locator(".critical-fail").count() == 0
    assert "Corrected by Dana" in page.inner_text("#check-calm_tone")


def test_corrected_check_is_marked_in_the_report(page_of):
    page, watch = page_of("fixed.html")
    check = page.locator("#check-apology")
    assert check.locator(".badge.fixed").inner_text().lower() == "corrected"
    assert "the scorer said “Work on”. apologised at 0:41" in check.inner_text()
    assert watch.errors == []


def test_index_filters_on_critical_fails_and_draws_trends(page_of):
    page, watch = page_of("index.html")
    visible = page.locator("#calls tbody tr:not([hidden])")
    total = visible.count()
    page.select_option("#f-crit", "1")
    failed = visible.count()
    assert 1 <= failed < total
    assert all(r.get_attribute("data-crit") == "1" for r in visible.all())
    page.select_option("#f-crit", "0")
    assert visible.count() == total - failed
    trends = page.locator("#trends-h").locator("xpath=..")
    assert trends.locator("svg.spark").count() >= 2
    trends.locator("details summary").first.click()
    assert trends.locator(".spark-list li").first.is_visible()
    assert watch.errors == []
