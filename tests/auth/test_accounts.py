"""Account rules: passwords, checks before changes, administrators, throttling."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.auth import login
from conduct.auth import services as accounts
from conduct.auth.models import User
from conduct.auth.passwords import (
    TESTING_HASHER,
    PasswordPolicyError,
    check_password_policy,
    hash_password,
    needs_rehash,
)
from conduct.core.db import db, unit_of_work
from conduct.core.errors import ValidationFailed
from tests.factories import PASSWORD, make_user


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-one", "at least 12"),
        ("jean.dupont-secret", "email"),
        ("password1234", "common"),
        ("aaaaaaaaaaaaaaaa", "too easy"),
        ("qwertyuiopasdf", "too easy"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, reason):
    with pytest.raises(PasswordPolicyError, match=reason):
        check_password_policy(password, "jean.dupont@un.org")


def test_a_strong_passphrase_is_accepted():
    check_password_policy("amber-quarry-lantern-47", "jean.dupont@un.org")


def test_hashes_made_with_other_costs_are_replaced_at_login(app):
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    with app.app_context(), unit_of_work():
        user = make_user()
        user.password_hash = hash_password(old, PASSWORD)
        user_id, email = user.id, user.email
    assert needs_rehash(TESTING_HASHER, hash_password(old, PASSWORD))
    with app.app_context(), unit_of_work():
        step = login.check_password_step(email, PASSWORD)
        assert step.user is not None
    with app.app_context():
        stored = db.session.get(User, user_id).password_hash
    assert not needs_rehash(TESTING_HASHER, stored)


def test_an_update_checks_everything_before_changing_anything(app):
    with app.app_context(), unit_of_work():
        user = make_user(("officer",), ("MINUSCA",))
        with pytest.raises(ValidationFailed) as caught:
            accounts.update_user(None, user, display_name="New name", missions=["NOWHERE"])
        assert set(caught.value.fields) == {"missions"}
        assert user.display_name != "New name"
        with pytest.raises(ValidationFailed):
            accounts.update_user(None, user, display_name="x" * 201)


def test_the_last_administrator_keeps_the_role(app):
    with app.app_context(), unit_of_work():
        admin = make_user(("admin",), ())
        with pytest.raises(ValidationFailed, match="roles"):
            accounts.update_user(admin, admin, roles=["admin", "officer"][1:])
        with pytest.raises(ValidationFailed, match="roles"):
            accounts.update_user(None, admin, roles=["auditor"])
        second = make_user(("admin",), ())
        accounts.update_user(second, admin, roles=["auditor"])
        assert admin.roles == {"auditor"}


def test_login_attempts_are_throttled_per_address_and_audited(make_app):
    from conduct.core.missions import seed_missions

    app = make_app(CONDUCT_LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            seed_missions(session)
    client = app.test_client()
    answers = [
        client.post("/api/v1/session", json={"email": f"u{n}@x.org", "password": "p"}).status_code
        for n in range(5)
    ]
    assert answers == [401, 401, 401, 429, 429]
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("request.throttled") == 2


def test_a_bad_csrf_token_is_refused_and_audited(app, client):
    response = client.post("/login", data={"email": "a@b.org", "password": "x", "csrf_token": "x"})
    assert response.status_code == 400
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.outcome, event.object_id) == (
        "request.refused",
        "invalid",
        "auth.login",
    )
