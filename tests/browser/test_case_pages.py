"""An officer records a case, reads it and changes it, in a real browser."""

from __future__ import annotations

import pyotp

from conduct.auth import login
from conduct.core.db import unit_of_work
from tests.browser.support import BROWSER_MARKS
from tests.factories import PASSWORD, make_user

pytestmark = BROWSER_MARKS


def _log_in(page, served, email, secret):
    page.goto(served + "/cases")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main button[type=submit]")


def test_an_officer_records_reads_and_changes_a_case(app, served, browser_page):
    page, problems = browser_page
    with app.app_context(), unit_of_work():
        user = make_user(("officer",), ("MINUSCA",))
        email, secret = user.email, login.totp_secret_of(user)
    _log_in(page, served, email, secret)
    assert page.url.endswith("/cases"), page.url

    page.click("text=New case")
    page.select_option("select[name=mission]", "MINUSCA")
    page.fill("input[name=received_on]", "2026-03-04")
    page.select_option("select[name=category]", "sexual_exploitation")
    page.select_option("select[name=allegation_type]", "transactional_sex")
    page.fill("textarea[name=narrative]", "Reported by an NGO in PK5.")
    page.click("text=Record the case")

    assert page.url.endswith("/cases/MINUSCA-2026-0001"), page.url
    assert "Case MINUSCA-2026-0001 recorded." in page.inner_text("[role=status]")
    assert "Reported by an NGO in PK5." in page.inner_text("main")
    assert "Transactional sex" in page.inner_text("dl.facts")

    page.click("text=Change the case")
    page.fill("input[name=location]", "Bangui, PK5")
    page.click("text=Save changes")
    assert page.url.endswith("/cases/MINUSCA-2026-0001"), page.url
    assert "Bangui, PK5" in page.inner_text("dl.facts")
    assert "Saved: location." in page.inner_text("[role=status]")
    assert problems == [], problems
