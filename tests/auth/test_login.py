"""Login with mandatory second factor, through the API and the pages."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.auth import login
from conduct.auth import services as accounts
from conduct.auth.models import User, WebSession
from conduct.auth.sessions import COOKIE_NAME
from conduct.core.db import db, unit_of_work, utcnow
from tests.factories import PASSWORD, fresh_code


def _user(app, user_id) -> User:
    return db.session.get(User, user_id)


def _cookie(client):
    cookie = client.get_cookie(COOKIE_NAME)
    return cookie.value if cookie else None


def _events(app, action=None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return db.session.scalars(query).all()


def test_api_login_with_password_and_code(app, client, user_factory, api_login):
    user_id, _ = user_factory()
    response = api_login(client, user_id)
    assert response.status_code == 200
    assert response.get_json()["user"]["roles"] == ["officer"]
    assert _cookie(client)
    cookie_header = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header
    assert [e.outcome for e in _events(app, "login.succeeded")] == ["success"]


@pytest.mark.parametrize("wrong", ["password", "code", "email"])
def test_a_failed_api_login_is_generic_and_sets_no_cookie(app, client, user_factory, wrong):
    user_id, email = user_factory()
    with app.app_context(), unit_of_work():
        code = fresh_code(_user(app, user_id))
    body = {"email": email, "password": PASSWORD, "otp": code}
    body[{"password": "password", "code": "otp", "email": "email"}[wrong]] = {
        "password": "not-the-password-at-all",
        "code": "000000" if code != "000000" else "111111",
        "email": "nobody@conduct.test",
    }[wrong]
    response = client.post("/api/v1/session", json=body)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == login.GENERIC_FAILURE
    assert "Set-Cookie" not in response.headers
    assert _cookie(client) is None
    events = _events(app, "login.failed")
    assert len(events) == 1
    stored = " ".join(str(v) for e in events for v in vars(e).values())
    assert "not-the-password" not in stored and body["otp"] not in stored


def test_missing_fields_get_a_400_naming_them(client):
    response = client.post("/api/v1/session", json={"email": "x@y.z"})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"password"}


def test_a_used_code_is_refused(app, client, user_factory, api_login):
    user_id, email = user_factory()
    assert api_login(client, user_id).status_code == 200
    with app.app_context(), unit_of_work():
        user = _user(app, user_id)
        used = pyotp.TOTP(login.totp_secret_of(user)).generate_otp(user.last_totp_step)
    response = app.test_client().post(
        "/api/v1/session", json={"email": email, "password": PASSWORD, "otp": used}
    )
    assert response.status_code == 401


def test_enrolment_through_the_api(app, client, user_factory):
    user_id, email = user_factory(enrolled=False)
    first = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert first.status_code == 200
    enrollment = first.get_json()["mfa_enrollment"]
    assert enrollment["otpauth_uri"].startswith("otpauth://totp/Conduct:")
    assert "secret=" + enrollment["secret"] in enrollment["otpauth_uri"]
    assert client.get("/api/v1/audit/events").status_code in (401, 404)
    wrong = client.post("/api/v1/session/mfa", json={"otp": "123456"})
    assert wrong.status_code == 401
    code = pyotp.TOTP(enrollment["secret"]).now()
    confirmed = client.post("/api/v1/session/mfa", json={"otp": code})
    assert confirmed.status_code == 200, confirmed.get_json()
    codes = confirmed.get_json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        user = _user(app, user_id)
        assert user.has_mfa
        assert enrollment["secret"].encode() not in user.totp_secret_sealed
    # A recovery code logs in once, and only once.
    for expected in (200, 401):
        response = app.test_client().post(
            "/api/v1/session", json={"email": email, "password": PASSWORD, "otp": codes[3]}
        )
        assert response.status_code == expected


def test_lockout_after_the_configured_failures_and_its_end(app, client, user_factory, api_login):
    user_id, email = user_factory()
    attempts = app.extensions["conduct_settings"].lockout_attempts
    for _ in range(attempts):
        response = client.post(
            "/api/v1/session", json={"email": email, "password": "wrong-wrong-wrong", "otp": "1"}
        )
        assert response.status_code in (400, 401)
        client.post("/api/v1/session", json={"email": email, "password": "wrong-wrong-wrong"})
    assert _events(app, "login.locked"), "the account was not locked"
    locked = api_login(app.test_client(), user_id)
    assert locked.status_code == 401
    assert locked.get_json()["error"]["message"] == login.GENERIC_FAILURE
    with app.app_context(), unit_of_work():
        _user(app, user_id).locked_until = utcnow() - timedelta(seconds=1)
    assert api_login(app.test_client(), user_id).status_code == 200


def test_unknown_email_and_wrong_password_take_time_of_the_same_order(
    app, user_factory, monkeypatch
):
    """With the production hash costs, an unknown account costs one hash like a real one."""
    from conduct.auth.passwords import PRODUCTION_HASHER

    _, email = user_factory()
    monkeypatch.setattr(accounts, "current_hasher", lambda: PRODUCTION_HASHER)
    with app.app_context():
        with unit_of_work():
            _user_by_email(email).password_hash = PRODUCTION_HASHER.hash(PASSWORD)

        def timed(address):
            started = time.perf_counter()
            with unit_of_work():
                login.check_password_step(address, "wrong-password-here")
            return time.perf_counter() - started

        # Alternated, so that whatever else runs on the machine slows both alike.
        unknown_times, wrong_times = [], []
        for _ in range(7):
            unknown_times.append(timed("nobody@conduct.test"))
            wrong_times.append(timed(email))
        unknown, wrong = statistics.median(unknown_times), statistics.median(wrong_times)
    assert 0.5 < unknown / wrong < 2.0, (unknown, wrong)


def _user_by_email(email):
    return db.session.scalars(select(User).where(User.email == email)).one()


def _login_page(client):
    page = client.get("/login")
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1)


def test_page_login_rotates_the_session_id(app, client, user_factory):
    user_id, email = user_factory()
    token = _login_page(client)
    before = _cookie(client)
    assert before, "the login form needs a session for its CSRF token"
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and "/login/code" in response.headers["Location"]
    middle = _cookie(client)
    assert middle != before
    with app.app_context(), unit_of_work():
        code = fresh_code(_user(app, user_id))
    response = client.post("/login/code", data={"code": code, "csrf_token": token})
    assert response.status_code == 302
    after = _cookie(client)
    assert after not in (before, middle)
    with app.app_context():
        digests = set(db.session.scalars(select(WebSession.token_digest)))
    from conduct.auth.totp import token_digest

    assert token_digest(after) in digests
    assert token_digest(before) not in digests and token_digest(middle) not in digests
    assert client.get("/").status_code == 200


def test_a_form_without_csrf_token_is_refused(app, client, user_factory):
    _, email = user_factory()
    _login_page(client)
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert not _events(app, "login.failed") and not _events(app, "login.succeeded")


def test_an_old_session_is_dead_after_a_password_change(app, user_factory, api_login):
    user_id, _ = user_factory()
    old, current = app.test_client(), app.test_client()
    assert api_login(old, user_id).status_code == 200
    assert api_login(current, user_id).status_code == 200
    assert old.get("/").status_code == 200
    token = re.search(
        rb'name="csrf_token" type="hidden" value="([^"]+)"', current.get("/account/password").data
    ).group(1)
    new_password = "violet-harbour-compass-93"
    response = current.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new_password,
            "confirm": new_password,
            "csrf_token": token,
        },
    )
    assert response.status_code == 200 and b"was changed" in response.data
    assert old.get("/").status_code == 302
    assert current.get("/").status_code == 200
    assert api_login(app.test_client(), user_id, password=new_password).status_code == 200


def test_idle_sessions_expire(app, client, user_factory, api_login):
    user_id, _ = user_factory()
    assert api_login(client, user_id).status_code == 200
    idle = app.extensions["conduct_settings"].session_idle_minutes
    with app.app_context(), unit_of_work():
        for record in db.session.scalars(select(WebSession)):
            record.last_seen_at = utcnow() - timedelta(minutes=idle + 1)
    assert client.get("/api/v1/session-check-not-a-route").status_code == 404
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_api_refuses_cross_site_requests(client, user_factory):
    _, email = user_factory()
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post(
            "/api/v1/session", json={"email": email, "password": PASSWORD}, headers=headers
        )
        assert response.status_code == 403
    form = client.post("/api/v1/session", data={"email": email, "password": PASSWORD})
    assert form.status_code == 400


def test_logout_ends_the_session(app, client, user_factory, api_login):
    user_id, _ = user_factory()
    assert api_login(client, user_id).status_code == 200
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/").status_code == 302
    assert [e.action for e in _events(app, "logout")] == ["logout"]


def test_sessions_end_after_their_absolute_lifetime(app, client, user_factory, api_login):
    user_id, _ = user_factory()
    assert api_login(client, user_id).status_code == 200
    lifetime = app.extensions["conduct_settings"].session_max_hours
    with app.app_context(), unit_of_work():
        for record in db.session.scalars(select(WebSession)):
            record.created_at = utcnow() - timedelta(hours=lifetime, minutes=1)
    assert client.get("/").status_code == 302


def test_a_login_sweeps_out_expired_sessions(app, user_factory, api_login):
    user_id, _ = user_factory()
    stale = app.test_client()
    assert api_login(stale, user_id).status_code == 200
    idle = app.extensions["conduct_settings"].session_idle_minutes
    with app.app_context(), unit_of_work():
        for record in db.session.scalars(select(WebSession)):
            record.last_seen_at = utcnow() - timedelta(minutes=idle + 5)
    assert api_login(app.test_client(), user_id).status_code == 200
    with app.app_context():
        assert len(db.session.scalars(select(WebSession)).all()) == 1
