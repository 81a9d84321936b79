"""Fixtures shared by the browser tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (test_browser skips its importers without playwright or Chromium)."""
    from test_browser import ARGS, CHROMIUM, sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()
