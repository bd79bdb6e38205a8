"""Production behaviour of sessions and throttling: Secure cookies, shared rate-limit state."""

from __future__ import annotations

import os
import uuid

import pytest

from conduct.core.db import db, unit_of_work
from conduct.core.missions import seed_missions
from tests.factories import make_user

REDIS_URL = os.environ.get("CONDUCT_TEST_REDIS_URL")


def _ready(app):
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            seed_missions(session)
    return app


def test_production_session_cookies_are_secure(make_app, api_login):
    app = _ready(
        make_app(CONDUCT_ENV="production", CONDUCT_ALLOW_SQLITE="1", CONDUCT_SECRET_KEY="q" * 48)
    )
    with app.app_context(), unit_of_work():
        user_id = make_user().id
    client = app.test_client()
    response = api_login(client, user_id)
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.skipif(REDIS_URL is None, reason="set CONDUCT_TEST_REDIS_URL (.ci/run does)")
def test_throttling_counts_are_shared_through_redis(make_app):
    """Two application servers with one Redis see one count per address."""
    settings = {
        "CONDUCT_REDIS_URL": REDIS_URL,
        "CONDUCT_LOGIN_RATE_LIMIT": "3 per minute",
    }
    first = _ready(make_app(**settings))
    second = make_app(**settings)
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    email = f"{uuid.uuid4().hex}@conduct.test"
    answers = []
    for app in (first, second, first, second):
        response = app.test_client().post(
            "/api/v1/session",
            json={"email": email, "password": "wrong"},
            environ_base={"REMOTE_ADDR": address},
        )
        answers.append(response.status_code)
    assert answers == [401, 401, 401, 429]
