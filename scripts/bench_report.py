#!/usr/bin/env python3
"""How fast a report opens in a real browser, for calls of growing length.

Renders factory results of 2, 30 and 120 minutes, opens each in headless
Chromium (Debian's /usr/bin/chromium through playwright) and prints a table:
HTML size, DOM nodes, time to the load event, and how long a click on the
last transcript time takes to move the audio player (a frozen page shows up
here as a long wait); then the same for an index of 500 calls.

    python scripts/bench_report.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from callsynth.factories import make_call_result

from callcoach.records import result_to_dict
from callcoach.report.index_view import agent_summaries, index_row
from callcoach.report.render import ReportRenderer

ROOT = Path(__file__).resolve().parents[1]


INDEX_CALLS = 500
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def _open(browser, path: Path):
    """A new desktop-sized page with ``path`` loaded: (page, load event ms, DOM nodes)."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    t0 = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load")
    load_ms = (time.perf_counter() - t0) * 1000
    return page, load_ms, page.evaluate("document.getElementsByTagName('*').length")


def main() -> int:
    from playwright.sync_api import sync_playwright

    renderer = ReportRenderer()
    print("| call length | HTML KB | DOM nodes | turns | load event ms | seek after click ms |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for minutes in (2, 30, 120):
            result = result_to_dict(make_call_result(f"bench-{minutes}", duration_s=minutes * 60))
            html = renderer.render_call(result, None)
            path = Path(tmp) / f"bench-{minutes}.html"
            path.write_text(html, encoding="utf-8")
            page, load_ms, nodes = _open(browser, path)
            target = page.locator("[data-t]").last
            t1 = time.perf_counter()
            target.click()
            page.wait_for_function("() => true")
            click_ms = (time.perf_counter() - t1) * 1000
            print(
                f"| {minutes} min | {len(html) / 1024:.0f} | {nodes} | {len(result['turns'])} | {load_ms:.0f} | {click_ms:.0f} |",
                flush=True,
            )
            page.close()
        # the index of a day's folder: INDEX_CALLS rows (one of them the 120-minute call)
        rows = [index_row(result, "bench-120.html", "Agent A")]
        small = result_to_dict(make_call_result("bench-small"))
        for i in range(INDEX_CALLS - 1):
            row = index_row(small, f"call-{i:04d}.html", f"Agent {i % 12}")
            rows.append({**row, "call_id": f"call-{i:04d}", "score": row["score"] - i % 40, "score_sort": row["score"] - i % 40})
        html = renderer.render_index(rows, agent_summaries(rows))
        path = Path(tmp) / "index.html"
        path.write_text(html, encoding="utf-8")
        page, load_ms, nodes = _open(browser, path)
        t1 = time.perf_counter()
        page.locator("#calls thead th").nth(2).locator("button").click()
        page.wait_for_function("() => true")
        sort_ms = (time.perf_counter() - t1) * 1000
        print(f"\n| index | HTML KB | DOM nodes | calls | load event ms | sort by score ms |\n|---|---|---|---|---|---|\n"
              f"| index | {len(html) / 1024:.0f} | {nodes} | {INDEX_CALLS} | {load_ms:.0f} | {sort_ms:.0f} |", flush=True)
        page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
