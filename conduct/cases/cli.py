"""`conduct demo ...` (generated demo data), `conduct cases import` (cases from a CSV file) and
`conduct retention apply` (shredding closed cases whose retention period has passed)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from conduct.auth.cli import one_line
from conduct.config import ConfigurationError
from conduct.core.db import unit_of_work
from conduct.core.errors import ConductError

from . import importing
from .demo import seed_demo, seed_demo_accounts
from .import_csv import Problem, read_file

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


cases_cli = AppGroup("cases", help="Cases from the command line: import a CSV file.")


@cases_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--as",
    "email",
    metavar="EMAIL",
    help="The account the import is recorded as: active, holding case:import, with every "
    "mission of the file among its missions. Required unless --dry-run.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid cases and list the rows with problems (their cases are skipped).",
)
def import_command(file, email: str | None, dry_run: bool, skip_invalid: bool) -> None:
    """Import cases and their persons from FILE.csv (columns: docs/import.md).

    Every row is checked first, with the rules of the API. Problems are listed as
    `row N, field F: problem` (N is the line in the file), never with the values. If any
    row has a problem nothing is imported, unless --skip-invalid. Each case gets its
    reference and its audit events as if recorded by the --as account, who joins its team.

    \b
    Exit status: 0 when every row was imported (or is valid, with --dry-run); 1 when a row
    has a problem, the file cannot be read or the account is refused; 2 for wrong usage.

    \b
    Example:
      conduct cases import legacy.csv --as ana@example.org --dry-run
    """
    if email is None and not dry_run:
        raise click.UsageError("name the account the import is recorded as: --as EMAIL")
    status = run_import(file.read(), email, dry_run=dry_run, skip_invalid=skip_invalid)
    if status:
        raise click.exceptions.Exit(status)


def _on_terminal() -> bool:
    return sys.stderr.isatty()


def _bar(length: int, label: str):
    """A progress bar on standard error, drawn only on a terminal (not into logs or pipes)."""
    return click.progressbar(length=length, label=label, file=sys.stderr, hidden=not _on_terminal())


def _check(data: bytes, email: str | None, dry_run: bool):
    """Read and check the file, and the account when named. Writes nothing but a refusal."""
    actor = None
    try:
        with unit_of_work():
            actor = importing.find_importer(email) if email else None
            parsed = read_file(data)
            with _bar(len(parsed.rows), "checking rows") as bar:
                plan = importing.plan_import(parsed, bar.update)
            if actor is not None:
                importing.check_scope(actor, plan)
    except ConductError as error:
        if not dry_run:
            refused = isinstance(error, importing.ImportRefused)
            with unit_of_work():
                importing.record_import(
                    getattr(error, "actor", actor), "denied" if refused else "invalid", {}
                )
        raise click.ClickException(one_line(error)) from None
    return actor, plan


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _counts(plan, cases: int, persons: int) -> dict[str, int]:
    return {
        "rows": plan.rows,
        "invalid_rows": plan.invalid_rows,
        "cases": cases,
        "persons": persons,
        "skipped_cases": len(plan.cases) - cases,
    }


def _import_one(actor, planned) -> tuple[int, str, int]:
    case = importing.import_case(actor, planned)
    return planned.line, case.reference, len(planned.persons)


def _write_all(actor, plan, bar) -> list[tuple[int, str, int]]:
    """Every valid case and the import's event in one transaction: all or nothing."""
    done: list[tuple[int, str, int]] = []
    planned = None
    try:
        with unit_of_work():
            for planned in plan.valid_cases:
                done.append(_import_one(actor, planned))
                bar.update(1)
            persons = sum(count for _, _, count in done)
            importing.record_import(actor, "success", _counts(plan, len(done), persons))
    except ConductError as error:
        with unit_of_work():
            importing.record_import(actor, "failed", _counts(plan, 0, 0))
        line = f"row {planned.line}: " if planned is not None else ""
        raise click.ClickException(f"{line}{one_line(error)}; nothing imported") from None
    return done


def _write_each(actor, plan, bar) -> list[tuple[int, str, int]]:
    """Each valid case in a transaction of its own (--skip-invalid); a refused one is listed."""
    done: list[tuple[int, str, int]] = []
    for planned in plan.valid_cases:
        try:
            with unit_of_work():
                done.append(_import_one(actor, planned))
        except ConductError as error:
            planned.problems.append(Problem(planned.line, None, one_line(error)))
            click.echo(str(planned.problems[-1]), err=True)
        bar.update(1)
    with unit_of_work():
        persons = sum(count for _, _, count in done)
        importing.record_import(actor, "success", _counts(plan, len(done), persons))
    return done


def run_import(data: bytes, email: str | None, *, dry_run: bool, skip_invalid: bool) -> int:
    """The import command's work; returns its exit status."""
    actor, plan = _check(data, email, dry_run)
    for problem in plan.problems:
        click.echo(str(problem), err=True)
    valid = plan.valid_cases
    checked = f"{_plural(plan.rows, 'row')} checked, {plan.invalid_rows} with problems"
    if dry_run:
        persons = sum(len(case.persons) for case in valid)
        click.echo(
            f"dry run: {checked}; {len(valid)} of {_plural(len(plan.cases), 'case')} valid, "
            f"with {_plural(persons, 'person')}; nothing was written"
        )
        return 1 if plan.problems else 0
    if plan.problems and not skip_invalid:
        with unit_of_work():
            importing.record_import(actor, "invalid", _counts(plan, 0, 0))
        click.echo(
            f"{checked}: nothing imported (correct them, or use --skip-invalid to import "
            f"the valid {_plural(len(valid), 'case')})"
        )
        return 1
    with _bar(len(valid), "importing cases") as bar:
        write = _write_each if skip_invalid else _write_all
        done = write(actor, plan, bar)
    for line, reference, _ in done:
        click.echo(f"row {line} imported as {reference}")
    persons = sum(count for _, _, count in done)
    summary = (
        f"imported {_plural(len(done), 'case')} with {_plural(persons, 'person')} "
        f"from {_plural(plan.rows, 'row')}"
    )
    skipped = len(plan.cases) - len(done)
    if skipped:
        summary += (
            f"; skipped {_plural(skipped, 'case')} "
            f"({_plural(plan.invalid_rows, 'row')} with problems)"
        )
    click.echo(summary)
    return 1 if skipped else 0


attachments_cli = AppGroup("attachments", help="The sealed evidence files on disk.")


@attachments_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--list", "listing", is_flag=True, help="List the paths (ids only).")
@click.option(
    "--older-than",
    "minutes",
    default=60,
    show_default=True,
    type=click.IntRange(5),
    help="Leave alone files changed in the last MINUTES (an upload may still be committing).",
)
def sweep_files(dry_run: bool, listing: bool, minutes: int) -> None:
    """Remove evidence files that no case needs any more.

    A server killed in the middle of an upload can leave a sealed file that no attachment
    names, or a temporary file; one killed in the middle of a shredding can leave the folder of
    a case whose key is destroyed. Names Conduct never writes are listed and left alone.
    """
    from datetime import timedelta

    from conduct.audit import record

    from . import attachment_files

    with unit_of_work() as session:
        found = attachment_files.find_leftovers(session, timedelta(minutes=minutes))
        removed = 0 if dry_run else attachment_files.remove_leftovers(found)
        if removed:
            record("attachment.sweep", object_type="attachment")
    click.echo(
        f"files no attachment names: {len(found.files)}; unfinished uploads: "
        f"{len(found.partial)}; folders of shredded cases: {len(found.folders)}; "
        f"unknown names left alone: {len(found.unknown)}"
    )
    if listing:
        for path in [*found.removable, *found.unknown]:
            click.echo(f"  {path}")
    if not dry_run:
        click.echo(f"removed {_plural(removed, 'path')}")


retention_cli = AppGroup("retention", help="Destroy the identities of cases kept long enough.")


@retention_cli.command("apply")
@click.option("--dry-run", is_flag=True, help="Say what is due; destroy nothing.")
@click.option("--list", "listing", is_flag=True, help="List the due cases by reference.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scheduled runs).")
@click.option(
    "--batch",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Cases shredded per transaction (a stopped run resumes where it stopped).",
)
def retention_apply(dry_run: bool, listing: bool, yes: bool, batch: int) -> None:
    """Crypto-shred the closed cases whose retention period has passed.

    A closed case is due CONDUCT_RETENTION_YEARS years after the day it was closed; one with
    a substantiated finding after CONDUCT_RETENTION_SUBSTANTIATED_YEARS, or never when that
    is unset (screening needs it). Shredding destroys the case's data key: its identities,
    narratives and evidence files can never be read again, and its persons stop answering
    screening; its coded facts stay for the statistics. Only references and dates are shown.

    \b
    Exit status: 0 when done (or nothing is due); 1 when no retention period is set or the
    run is not confirmed; 2 for wrong usage.
    """
    from flask import current_app

    from conduct.core.db import utcnow

    from . import retention

    try:
        policy = retention.RetentionPolicy.from_settings(current_app.extensions["conduct_settings"])
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    today = utcnow().date()
    with unit_of_work():
        found = retention.review(None, policy, today)
    _print_review(found, policy, listing)
    if dry_run or not found.due:
        return
    if not yes:
        click.confirm(
            f"Destroy the identities of {_plural(len(found.due), 'case')} for ever?", abort=True
        )
    shredded = 0
    with _bar(len(found.due), "shredding cases") as bar:
        for start in range(0, len(found.due), batch):
            with unit_of_work():
                chunk = found.due[start : start + batch]
                shredded += retention.shred_due(None, policy, today, chunk, bar.update)
    click.echo(f"shredded {_plural(shredded, 'case')}")


def _print_review(found, policy, listing: bool) -> None:
    substantiated = (
        "kept for screening"
        if policy.substantiated_years is None
        else f"{policy.substantiated_years} years"
    )
    click.echo(
        f"retention: {policy.years} years after closing; with a substantiated finding: "
        f"{substantiated}"
    )
    click.echo(
        f"closed cases with identities: {len(found.due) + len(found.kept)}; due now: "
        f"{len(found.due)}; not yet due: {len(found.kept) - len(found.held_for_screening)}; "
        f"kept for screening: {len(found.held_for_screening)}"
    )
    by_mission: dict[str, int] = {}
    for item in found.due:
        by_mission[item.mission] = by_mission.get(item.mission, 0) + 1
    for mission, count in sorted(by_mission.items()):
        click.echo(f"  {mission}: {_plural(count, 'case')} due")
    if listing:
        for item in found.due:
            mark = " (substantiated)" if item.substantiated else ""
            click.echo(f"  {item.reference} closed {item.closed_on} due {item.due_on}{mark}")
