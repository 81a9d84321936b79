"""Shared pytest configuration: markers."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running tests (real recordings, models)")
    config.addinivalue_line("markers", "browser: tests that drive a headless Chromium (/usr/bin/chromium)")
