"""Playwright driving Debian's Chromium against the root conftest's `live_server`.

Browser tests run on the SQLite parameter only (the PostgreSQL path is covered by
the test-client tests); they skip when /usr/bin/chromium or playwright is missing,
unless ITSM_TEST_REQUIRE_BROWSER=1 (CI), which makes that a failure.
"""
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
REQUIRE = os.environ.get("ITSM_TEST_REQUIRE_BROWSER") == "1"


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        if REQUIRE:
            pytest.fail(f"{CHROMIUM} is required for browser tests")
        pytest.skip(f"{CHROMIUM} not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRE:
            raise
        pytest.skip("playwright not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


class Session:
    """One user's browser context; records every request so tests can assert none left localhost."""

    def __init__(self, browser, base: str, requests: list):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.on("request", lambda r: requests.append(r.url))

    def login(self, username: str, password: str):
        self.page.goto(self.base + "/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        assert urlsplit(self.page.url).path == "/", f"{username} could not log in"
        return self

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page


@pytest.fixture
def sessions(chromium, live_server, password_of):
    """`sessions("alice")` → a logged-in browser session; `sessions.requests` lists every URL requested."""
    requests: list[str] = []

    def open_session(username: str) -> Session:
        return Session(chromium, live_server, requests).login(username, password_of(username))

    open_session.requests = requests
    open_session.base = live_server
    return open_session
