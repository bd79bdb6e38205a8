"""The `conduct` command: a FlaskGroup gathering each feature's commands.

Also reachable as ``flask --app conduct``. A missing key or unsafe setting ends the command with
one readable line and a non-zero exit.
"""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from conduct import create_app
from conduct.config import ConfigurationError


def _register(group: click.Group) -> None:
    from conduct.audit.cli import audit_cli
    from conduct.auth.cli import users_cli
    from conduct.cases.cli import attachments_cli, cases_cli, demo_cli, retention_cli
    from conduct.core.cli import dev_cli
    from conduct.crypto.cli import keys_cli

    for command in (
        keys_cli,
        users_cli,
        cases_cli,
        attachments_cli,
        demo_cli,
        retention_cli,
        dev_cli,
        audit_cli,
    ):
        group.add_command(command)


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def cli() -> None:
    """Conduct: case tracking for misconduct and sexual exploitation and abuse."""


_register(cli)


def main() -> None:
    try:
        cli.main(prog_name="conduct")
    except ConfigurationError as error:
        click.echo(f"conduct: {error}", err=True)
        sys.exit(1)


def register_app_commands(app) -> None:
    """Make the feature commands reachable through ``flask --app conduct`` as well."""
    _register(app.cli)
