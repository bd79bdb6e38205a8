"""`conduct dev ...`: what `make run` needs to bring a fresh checkout to a running service."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from flask_migrate import upgrade

dev_cli = AppGroup("dev", help="Development helpers used by `make run`.")


@dev_cli.command("prepare", with_appcontext=False)
@click.option("--cases", default=300, show_default=True, help="Demo cases to seed when empty.")
@click.pass_context
def prepare(ctx: click.Context, cases: int) -> None:
    """Make keys, migrate the database and seed demo data when it is empty."""
    from conduct.config import load_settings
    from conduct.crypto.keys import init_key_dir

    settings = load_settings()
    if settings.is_production:
        raise click.UsageError("`conduct dev prepare` is for development only")
    created = init_key_dir(settings.key_dir)
    if created:
        click.echo(f"keys created in {settings.key_dir}")
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        upgrade(directory=current_app.extensions["migrate"].directory)
        from conduct.cases.demo import print_welcome, seed_if_empty

        seed_if_empty(cases)
        print_welcome()
