"""A newcomer's first login in a real browser: password, second-factor enrolment, home page.

Runs headless Chromium (Debian's package; `.ci/run` installs it) against the application served
on 127.0.0.1. The test reads the enrolment key from the page as a person would type it into an
authenticator app.
"""

from __future__ import annotations

import pyotp

from conduct.core.db import unit_of_work
from tests.browser.support import BROWSER_MARKS
from tests.factories import PASSWORD, make_user

pytestmark = BROWSER_MARKS


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
    page.click("main button[type=submit]")

    assert "/login/enroll" in page.url, _seen(page)
    assert page.locator(".qr svg").count() == 1
    typed_key = page.inner_text("code.secret").replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(typed_key).now())
    page.click("main button[type=submit]")

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
    page.click("main button[type=submit]")
    assert "was not accepted" in page.inner_text("[role=alert]")


def test_the_login_page_switches_to_french_and_the_choice_stays(app, served, browser_page):
    page, _problems = browser_page
    with app.app_context(), unit_of_work():
        email = make_user(("officer",), ("MINUSCA",)).email

    page.goto(served + "/login")
    assert page.inner_text("h1") == "Log in"
    page.click("header button:text('Français')")
    assert page.inner_text("h1") == "Se connecter", _seen(page)
    assert page.get_attribute("html", "lang") == "fr"
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "not the password at all")
    page.click("main button[type=submit]")
    assert page.inner_text("[role=alert]").startswith("Échec de la connexion"), _seen(page)
    page.goto(served + "/login")
    assert page.inner_text("h1") == "Se connecter"
    page.click("header button:text('English')")
    assert page.inner_text("h1") == "Log in"
