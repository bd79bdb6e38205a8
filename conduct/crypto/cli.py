"""`conduct keys ...`: make and inspect keys. Never prints key material."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from conduct.config import load_settings

from .keys import (
    add_kek,
    deployment_key_status,
    init_key_dir,
    kek_provider,
    rewrap_deployment_keys,
)

keys_cli = AppGroup("keys", help="Create, inspect and rotate the encryption keys.")


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


@keys_cli.command("rotate")
@click.option(
    "--new-kek",
    is_flag=True,
    help="First create the next KEK version in the key directory (key files only).",
)
@click.option(
    "--batch",
    default=500,
    show_default=True,
    type=click.IntRange(1),
    help="Case data keys rewrapped per transaction.",
)
def keys_rotate(new_kek: bool, batch: int) -> None:
    """Wrap every key again under the newest KEK; no sealed value changes.

    With key files, --new-kek adds the next KEK version first. With CONDUCT_KEK, add the new
    VERSION:BASE64 entry to the variable (the highest version is the current KEK) and run
    this without --new-kek. Interrupted, it continues where it stopped when run again. Restart
    the application servers after adding a KEK so that new cases are wrapped with it too, then
    run this until it reports nothing left. See docs/operations.md.
    """
    from flask import current_app

    from conduct.audit import record
    from conduct.core.db import unit_of_work

    from .rotation import data_keys_to_rewrap, kek_versions_in_use, rewrap_data_keys

    settings = current_app.extensions["conduct_settings"]
    if new_kek:
        if settings.kek:
            raise click.UsageError(
                "the KEK comes from CONDUCT_KEK: add the new version to it "
                "(VERSION:BASE64, comma-separated) and run `conduct keys rotate` without --new-kek"
            )
        click.echo(f"created KEK version {add_kek(settings.key_dir)}")
    provider = kek_provider(settings.key_dir, settings.kek)
    current = provider.current().version
    deployment = rewrap_deployment_keys(settings.key_dir, provider)
    click.echo(f"deployment keys rewrapped under KEK {current}: {len(deployment)}")
    with unit_of_work() as session:
        remaining = data_keys_to_rewrap(session, provider)
    done = 0
    with click.progressbar(length=remaining, label="rewrapping case data keys") as bar:
        while True:
            with unit_of_work() as session:
                count = rewrap_data_keys(session, provider, batch)
            if not count:
                break
            done += count
            bar.update(count)
    with unit_of_work() as session:
        record("keys.rotate", fields=["data_keys", *deployment])
        in_use = kek_versions_in_use(session)
    click.echo(f"case data keys rewrapped under KEK {current}: {done}")
    retired = [version for version in provider.versions() if version not in {current, *in_use}]
    if retired:
        listed = ", ".join(map(str, retired))
        click.echo(
            f"KEK versions {listed} wrap no key any more: keep them with the backups made "
            "before this rotation, and remove them from the running service"
        )
