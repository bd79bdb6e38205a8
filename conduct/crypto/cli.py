"""`conduct keys ...`: make and inspect keys. Never prints key material."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from conduct.config import load_settings

from .keys import deployment_key_status, init_key_dir, kek_provider

keys_cli = AppGroup("keys", help="Create and inspect the encryption keys.")


@keys_cli.command("init", with_appcontext=False)
def keys_init() -> None:
    """Create the KEK and the deployment keys in the key directory, if missing.

    Existing keys are never overwritten. In production, prefer a KEK from CONDUCT_KEK or a key
    service; see docs/operations.md.
    """
    settings = load_settings()
    created = init_key_dir(settings.key_dir)
    if created:
        click.echo(f"created in {settings.key_dir}: {', '.join(created)}")
    else:
        click.echo(f"all keys already present in {settings.key_dir}")


@keys_cli.command("status")
def keys_status() -> None:
    """Show KEK versions and which KEK version wraps the deployment and case keys."""
    from flask import current_app

    from conduct.core.db import db

    from .models import DataKey

    settings = current_app.extensions["conduct_settings"]
    provider = kek_provider(settings.key_dir, settings.kek)
    click.echo(f"KEK versions available: {', '.join(map(str, provider.versions()))}")
    click.echo(f"current KEK version: {provider.current().version}")
    for purpose, version in deployment_key_status(settings.key_dir, provider).items():
        click.echo(f"{purpose} key: wrapped by KEK {version}")
    rows = db.session.execute(
        select(DataKey.kek_version, func.count()).group_by(DataKey.kek_version)
    ).all()
    for version, count in sorted(rows):
        click.echo(f"case data keys wrapped by KEK {version}: {count}")
    if not rows:
        click.echo("case data keys: none yet")
