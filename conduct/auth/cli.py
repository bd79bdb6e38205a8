"""`conduct users ...`: manage accounts from the command line.

Each command is one unit of work: its change and its audit event commit together, or neither
does. The acting user of these events is empty: whoever holds the server's shell and keys.
Bad input ends the command with one readable line and a non-zero exit.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from conduct.audit import record
from conduct.codes import ROLES
from conduct.core.db import unit_of_work
from conduct.core.errors import ConductError, NotFound
from conduct.core.permissions import PERMISSIONS, ROLE_PERMISSIONS, permission_table_markdown

from . import admin_services, login, services, totp
from .models import User

users_cli = AppGroup(
    "users",
    help="Manage accounts: create, disable or enable, reset the second factor, unlock, list.",
)

ROLE_HELP = "Role to give (repeat for several): " + ", ".join(ROLES.codes) + "."
NAME_LENGTH = 200


def one_line(error: ConductError) -> str:
    """The error's message and each field's problems, on one line."""
    parts = [error.message]
    for name, problems in sorted(error.fields.items()):
        detail = f"{name}: {'; '.join(problems)}"
        if detail not in error.message:
            parts.append(detail)
    return " — ".join(" ".join(part.split()) for part in parts)


@contextmanager
def _unit() -> Iterator:
    """One committed unit of work; a refused input becomes one line and exit status 1."""
    try:
        with unit_of_work() as session:
            yield session
    except ConductError as error:
        raise click.ClickException(one_line(error)) from None


def _account(email: str) -> User:
    user = services.find_user(email)
    if user is None:
        raise NotFound(f"no account with the email {services.normalise_email(email)}")
    return user


def _read_password(from_stdin: bool) -> str:
    if not from_stdin:
        return click.prompt("Password", hide_input=True, confirmation_prompt="Password again")
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("no password on standard input")
    return line.rstrip("\r\n")


def _check_name(_ctx, _param, value: str | None) -> str | None:
    if value is not None and len(value.strip()) > NAME_LENGTH:
        raise click.BadParameter(f"use at most {NAME_LENGTH} characters")
    return value


@users_cli.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, metavar="ROLE", help=ROLE_HELP)
@click.option(
    "--mission",
    "missions",
    multiple=True,
    metavar="CODE",
    help="Mission whose cases the account may see (repeat for several), as in MINUSCA.",
)
@click.option(
    "--name", callback=_check_name, help="Name shown to others (default: the email's local part)."
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from one line of standard input instead of asking twice.",
)
def create(
    email: str, roles: Sequence[str], missions: Sequence[str], name: str | None, password_stdin
) -> None:
    """Create the account EMAIL with its roles and missions.

    The password must pass the policy (at least 12 characters, hard to guess). The account
    sets up its second factor at its first login.

    \b
    Example:
      conduct users create ana@example.org --role officer --mission MINUSCA
    """
    password = _read_password(password_stdin)
    display_name = name if name is not None else email.split("@", 1)[0]
    with _unit():
        user = services.create_user(None, email, display_name, roles, missions, password)
        summary = f"roles: {', '.join(sorted(user.roles))}"
        if user.missions:
            summary += f"; missions: {', '.join(sorted(user.missions))}"
        click.echo(f"created {user.email} ({summary})")


@users_cli.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable EMAIL: no more logins, and its sessions end at once."""
    with _unit():
        user = _account(email)
        services.set_active(None, user, False)
        click.echo(f"disabled {user.email}")


@users_cli.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Enable EMAIL again after it was disabled."""
    with _unit():
        user = _account(email)
        services.set_active(None, user, True)
        click.echo(f"enabled {user.email}")


@users_cli.command("reset-mfa")
@click.argument("email")
def reset_mfa(email: str) -> None:
    """Forget the second factor of EMAIL (a lost phone, say).

    A new second factor is set up at the next login. The account's sessions and unused
    recovery codes end too.
    """
    with _unit():
        user = _account(email)
        services.reset_mfa(None, user)
        click.echo(f"second factor of {user.email} reset: it sets up a new one at next login")


@users_cli.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Unlock EMAIL after repeated failed logins.

    Also sets its count of failed logins back to zero.
    """
    with _unit():
        user = _account(email)
        services.unlock(None, user)
        click.echo(f"unlocked {user.email}")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, as a terminal shows them."""
    columns = zip(headers, *rows, strict=True)
    widths = [max(len(cell) for cell in column) for column in columns]
    lines = [headers, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _account_row(user: User) -> list[str]:
    last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
    return [
        user.email,
        user.display_name,
        ",".join(sorted(user.roles)),
        ",".join(sorted(user.missions)) or "-",
        _yes_no(user.active),
        _yes_no(user.has_mfa),
        _yes_no(login.is_locked(user)),
        last,
    ]


@users_cli.command("list")
def list_users() -> None:
    """List every account as a table.

    Shows roles, missions, whether it is active, has a second factor, is locked, and when it
    last logged in.
    """
    headers = ["EMAIL", "NAME", "ROLES", "MISSIONS", "ACTIVE", "MFA", "LOCKED", "LAST LOGIN"]
    with _unit():
        rows = [_account_row(user) for user in admin_services.list_accounts(None)]
    if not rows:
        click.echo("no accounts yet: add one with `conduct users create`")
        return
    click.echo(_table(headers, rows))


@users_cli.command("otp")
@click.argument("email")
def otp(email: str) -> None:
    """Print EMAIL's current second-factor code (development only).

    Works for an enrolled account and for one in the middle of enrolment, so a developer can
    log in to demo accounts without a phone. Refused unless CONDUCT_ENV=development.
    """
    if current_app.extensions["conduct_settings"].env != "development":
        raise click.ClickException("`conduct users otp` is for development only")
    with _unit():
        user = _account(email)
        secret = login.totp_secret_of(user)
        if secret is None:
            raise click.ClickException(
                f"{user.email} has no second factor yet: log in once to start enrolment"
            )
        record("mfa.code_shown", object_type="user", object_id=user.id)
        if user.last_totp_step is not None and user.last_totp_step >= totp.current_step():
            click.echo("note: this code was used already; wait for the next one", err=True)
        click.echo(totp.current_code(secret))


def _permission_table() -> str:
    roles = list(ROLE_PERMISSIONS)
    headers = ["PERMISSION", *(role.upper() for role in roles)]
    rows = [
        [permission, *("x" if permission in ROLE_PERMISSIONS[role] else "" for role in roles)]
        for permission in PERMISSIONS
    ]
    return _table(headers, rows)


@users_cli.command("permissions", with_appcontext=False)
@click.option(
    "--markdown", is_flag=True, help="Print docs/permissions.md (with the meaning of each)."
)
def permissions(markdown: bool) -> None:
    """Print which role holds which permission.

    The table is conduct/core/permissions.py. Regenerate the documentation with:

    \b
      conduct users permissions --markdown > docs/permissions.md
    """
    if markdown:
        click.echo(permission_table_markdown(), nl=False)
    else:
        click.echo(_permission_table())
