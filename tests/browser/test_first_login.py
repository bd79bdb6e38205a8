"""A newcomer's first login in a real browser: password, second-factor enrolment, home page.

Runs headless Chromium (Debian's package; `.ci/run` installs it) against the application served
on 127.0.0.1. The test reads the enrolment key from the page as a person would type it into an
authenticator app.
"""

from __future__ import annotations

import gc
import shutil
import threading

import pyotp
import pytest
from werkzeug.serving import make_server

from conduct.core.db import unit_of_work
from tests.factories import PASSWORD, make_user

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
    ),
    # When the browser drops a connection early (it often does for the favicon and style
    # sheet), the development server's thread leaves the static file to the garbage collector,
    # which warns. That is the test server's housekeeping, not the application's behaviour.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


def _seen(page) -> str:
    """What the browser shows, for a failure message: the address and the page's text."""
    return f"at {page.url}: {page.inner_text('main')[:400]!r}"


def test_a_newcomer_logs_in_and_enrols_the_second_factor(app, served, browser_page):
    page, problems = browser_page
    with app.app_context(), unit_of_work():
        email = make_user(("officer",), ("MINUSCA",), enrolled=False).email

    page.goto(served + "/")
    assert page.url.startswith(served + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    assert "/login/enroll" in page.url, _seen(page)
    assert page.locator(".qr svg").count() == 1
    typed_key = page.inner_text("code.secret").replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(typed_key).now())
    page.click("button[type=submit]")

    codes = page.locator("ol.codes code").all_inner_texts()
    assert len(codes) == 10, _seen(page)
    page.click("text=continue")
    assert page.inner_text("h1").startswith("Welcome"), _seen(page)
    assert problems == [], problems

    page.click("text=Log out")
    assert "/login" in page.url
    page.goto(served + "/")
    assert "/login" in page.url


def test_a_wrong_password_shows_one_generic_message(app, served, browser_page):
    page, _ = browser_page
    with app.app_context(), unit_of_work():
        email = make_user(("officer",), ("MINUSCA",)).email
    page.goto(served + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "not the password at all")
    page.click("button[type=submit]")
    assert "was not accepted" in page.inner_text("[role=alert]")
