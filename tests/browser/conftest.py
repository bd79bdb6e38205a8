"""Fixtures of the browser tests: the application served locally, and a headless Chromium page."""

from __future__ import annotations

import gc
import threading

import pytest
from werkzeug.serving import make_server

from tests.browser.support import BROWSER_ARGS, CHROMIUM


@pytest.fixture
def served(app):
    """The application on a free local port, for the length of the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    gc.collect()  # collect what the server's threads left, while this test's filters apply


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page()
        problems: list[str] = []
        page.on(
            "console", lambda message: message.type == "error" and problems.append(message.text)
        )
        yield page, problems
        browser.close()
