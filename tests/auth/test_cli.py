"""`conduct users ...`: accounts from the command line."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.auth.cli import users_cli
from conduct.auth.models import User
from conduct.core.db import db, unit_of_work, utcnow
from conduct.core.permissions import PERMISSIONS, permission_table_markdown
from tests.factories import PASSWORD

EMAIL = "amina.sow@conduct.test"


def _create(runner, *options, password=PASSWORD, email=EMAIL):
    return runner.invoke(
        args=["users", "create", email, *options, "--password-stdin"], input=password + "\n"
    )


def _find(app, email=EMAIL) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            db.session.expunge(user)
        return user


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _one_line_error(result) -> str:
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_create_with_password_from_stdin_then_list_shows_it(app, runner):
    result = _create(runner, "--role", "officer", "--mission", "MINUSCA", "--name", "Amina Sow")
    assert result.exit_code == 0, result.output
    assert result.output == f"created {EMAIL} (roles: officer; missions: MINUSCA)\n"
    user = _find(app)
    assert (user.display_name, user.roles, user.missions) == ("Amina Sow", {"officer"}, {"MINUSCA"})
    listing = runner.invoke(args=["users", "list"])
    assert listing.exit_code == 0
    header, rule, row = listing.output.splitlines()
    assert header.split() == [
        "EMAIL", "NAME", "ROLES", "MISSIONS", "ACTIVE", "MFA", "LOCKED", "LAST", "LOGIN"
    ]  # fmt: skip
    assert set(rule) <= {"-", " "}
    assert row.split() == [EMAIL, "Amina", "Sow", "officer", "MINUSCA", "yes", "no", "no", "never"]
    assert _actions(app) == ["user.create", "user.list"]


def test_create_asks_for_the_password_twice_without_stdin(app, runner):
    result = runner.invoke(
        args=["users", "create", EMAIL, "--role", "auditor"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Password again" in result.output
    user = _find(app)
    assert user.display_name == "amina.sow" and user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("options", "password", "named"),
    [
        (["--role", "chief"], PASSWORD, "roles: unknown role: chief"),
        ([], PASSWORD, "roles: at least one role is needed"),
        (["--role", "officer", "--mission", "ATLANTIS"], PASSWORD, "unknown mission: ATLANTIS"),
        (["--role", "officer"], "short", "password: use at least 12 characters"),
        (["--role", "officer"], "", "password: use at least 12 characters"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line_and_stores_nothing(
    app, runner, options, password, named
):
    line = _one_line_error(_create(runner, *options, password=password))
    assert line.startswith("Error: ") and named in line
    assert _find(app) is None
    assert _actions(app) == []


def test_a_taken_email_is_one_line(app, runner, user_factory):
    _, email = user_factory()
    line = _one_line_error(_create(runner, "--role", "officer", email=email.upper()))
    assert "an account with this email exists" in line


def test_an_unknown_email_is_one_line(runner):
    for command in ("disable", "enable", "reset-mfa", "unlock"):
        line = _one_line_error(runner.invoke(args=["users", command, "nobody@conduct.test"]))
        assert line == "Error: no account with the email nobody@conduct.test"


def test_disable_enable_reset_mfa_and_unlock(app, runner, user_factory):
    user_id, email = user_factory()
    with app.app_context(), unit_of_work():
        db.session.get(User, user_id).locked_until = utcnow() + timedelta(minutes=5)
    for command in ("disable", "enable", "reset-mfa", "unlock"):
        result = runner.invoke(args=["users", command, email])
        assert result.exit_code == 0, result.output
        assert email in result.output
        if command == "disable":
            assert _find(app, email).active is False
    user = _find(app, email)
    assert user.active and not user.has_mfa and user.totp_secret_sealed is None
    assert user.locked_until is None
    assert _actions(app)[-4:] == ["user.disable", "user.enable", "mfa.reset", "user.unlock"]


def test_otp_is_refused_outside_development(app, runner, user_factory):
    _, email = user_factory()
    line = _one_line_error(runner.invoke(args=["users", "otp", email]))
    assert "for development only" in line
    assert "mfa.code_shown" not in _actions(app)


def _api_login(client, email, otp=None):
    body = {"email": email, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/session", json=body)


def test_otp_prints_a_code_the_real_login_accepts_in_development(app, make_app, user_factory):
    development = make_app(CONDUCT_ENV="development")
    runner, client = development.test_cli_runner(), development.test_client()
    assert _create(runner, "--role", "officer", "--mission", "MINUSCA").exit_code == 0
    # No seed until the first login starts enrolment.
    line = _one_line_error(runner.invoke(args=["users", "otp", EMAIL]))
    assert "log in once to start enrolment" in line
    assert "mfa_enrollment" in _api_login(client, EMAIL).get_json()
    code = runner.invoke(args=["users", "otp", EMAIL]).output.strip()
    assert re.fullmatch(r"\d{6}", code)
    confirmed = client.post("/api/v1/session/mfa", json={"otp": code})
    assert confirmed.status_code == 200, confirmed.get_json()
    # An enrolled account: the printed code completes a normal login.
    _, enrolled = user_factory()
    code = runner.invoke(args=["users", "otp", enrolled]).output.strip()
    answer = _api_login(development.test_client(), enrolled, otp=code)
    assert answer.status_code == 200 and answer.get_json()["user"]["email"] == enrolled
    assert _actions(development).count("mfa.code_shown") == 2


def test_permissions_prints_the_table(runner):
    table = runner.invoke(args=["users", "permissions"])
    assert table.exit_code == 0
    for permission in PERMISSIONS:
        assert permission in table.output
    markdown = runner.invoke(args=["users", "permissions", "--markdown"])
    assert markdown.output == permission_table_markdown()


@pytest.mark.parametrize("name", sorted(users_cli.commands))
def test_every_command_explains_itself(runner, name):
    result = runner.invoke(args=["users", name, "--help"])
    assert result.exit_code == 0
    assert users_cli.commands[name].get_short_help_str(200) in " ".join(result.output.split())
    assert len(users_cli.commands[name].get_short_help_str(200)) > 20
