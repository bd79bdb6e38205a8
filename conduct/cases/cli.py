"""`conduct demo ...`: generated demo data for development, demonstrations and benchmarks."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .demo import seed_demo, seed_demo_accounts

demo_cli = AppGroup("demo", help="Generated demo data (never real people).")


@demo_cli.command("seed")
@click.option(
    "--cases",
    "count",
    default=300,
    show_default=True,
    type=click.IntRange(1),
    help="How many cases to generate.",
)
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
def seed(count: int, seed: int) -> None:
    """Add generated cases across missions, years and categories, with people and referrals.

    Also creates the demo accounts (one per role) if they do not exist yet.
    """
    from flask import current_app

    if current_app.extensions["conduct_settings"].is_production:
        raise click.UsageError("demo data is refused in production")
    with click.progressbar(length=count, label="seeding demo cases") as bar:
        seed_demo(count, seed=seed, progress=bar.update)
    accounts = seed_demo_accounts()
    click.echo(f"added {count} demo cases" + (f" and {accounts} demo accounts" if accounts else ""))
