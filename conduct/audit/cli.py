"""`conduct audit ...`: seal the audit log, verify it, export it for offline verification.

Progress bars go to standard error, so standard output holds only the result. A failed check
ends with one line naming the first bad leaf index and exit status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from conduct.core.db import db, unit_of_work
from conduct.crypto.audit_signing import audit_public_key

from .checkpoints import log_origin
from .leafcheck import leaves_stored, snapshot_connection
from .logformat import NoteError, parse_note
from .sealer import SealError, seal
from .verify import TrustedCheckpointError, verify_log

audit_cli = AppGroup(
    "audit", help="The tamper-evident audit log: seal it, verify it, export it for auditors."
)


def snapshot():
    """A read-only connection that sees one consistent state of the log."""
    return snapshot_connection(db.engine)


def seal_now() -> None:
    """Seal every unsealed event, waiting for any other sealer; one line of result."""
    try:
        with db.engine.begin() as connection:
            result = seal(connection, wait=True, thorough=True)
    except SealError as error:
        raise click.ClickException(str(error)) from None
    if result.sealed:
        click.echo(f"sealed {result.sealed} events: the tree has {result.tree_size} leaves")
    else:
        click.echo(f"nothing to seal: the tree has {result.tree_size} leaves")


@audit_cli.command("seal")
def seal_command() -> None:
    """Give every unsealed event its leaf and sign a checkpoint of the new tree.

    Requests do this on their own every CONDUCT_AUDIT_SEAL_SECONDS; run it from a timer when
    the service is quiet, or before an export.
    """
    seal_now()


@audit_cli.command("verify")
@click.option(
    "--from",
    "trusted",
    type=click.File("r", encoding="utf-8"),
    help="A signed checkpoint you trust (from an earlier check or export): check only what "
    "was added since, and that the stored tree still has its root.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help="How many processes share the recomputing of a long log's leaves (default: one per "
    "CPU; 1 keeps the check in this process). The result is the same with any number.",
)
def verify_command(trusted, processes) -> None:
    """Recompute every leaf and the tree; check every checkpoint's signature and root.

    Exits with status 1 naming the first leaf index that does not match.
    """
    trusted_note = None if trusted is None else trusted.read()
    start = 0 if trusted_note is None else _trusted_size(trusted_note)
    with snapshot() as connection:
        progress = click.progressbar(
            length=max(leaves_stored(connection) - start, 1),
            label="verifying the audit log",
            file=sys.stderr,
        )
        try:
            with progress as bar:
                report = verify_log(
                    connection,
                    audit_public_key(),
                    log_origin(),
                    trusted_note=trusted_note,
                    progress=bar.update,
                    processes=processes,
                )
        except TrustedCheckpointError as error:
            raise click.ClickException(str(error)) from None
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if not report.ok:
        raise click.ClickException(
            f"the audit log does not verify, first bad leaf index {report.problem.index}: "
            f"{report.problem.message}"
        )
    _print_report(report)


def _trusted_size(note_text: str) -> int:
    try:
        return parse_note(note_text).checkpoint.size
    except NoteError as error:
        raise click.ClickException(f"the trusted checkpoint cannot be read: {error}") from None


def _print_report(report) -> None:
    checked = report.tree_size - report.started_at
    where = f"leaves {report.started_at} to {report.tree_size - 1}" if checked else "no leaves"
    click.echo(
        f"audit log verified: {report.tree_size} leaves ({checked} recomputed: {where}), "
        f"{report.checkpoints_checked} signed checkpoints match"
    )
    if report.unsealed:
        line = f"{report.unsealed} events not sealed yet (they join the next checkpoint)"
        if report.unsealed_ids:
            more = " ..." if report.unsealed > len(report.unsealed_ids) else ""
            line += ": ids " + ", ".join(map(str, report.unsealed_ids)) + more
        click.echo(line)


@audit_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Seal, then write the log to DIRECTORY for offline verification.

    DIRECTORY gets the events as JSON lines, every signed checkpoint, the public key and a
    verifier needing only Python and the `cryptography` package (see its README.txt).
    """
    from .export import ExportError, export_log, prepare_directory, record_export

    try:
        prepare_directory(directory)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    with unit_of_work():
        record_export(None)
    seal_now()
    try:
        with snapshot() as connection:
            progress = click.progressbar(
                length=max(leaves_stored(connection), 1),
                label="exporting the audit log",
                file=sys.stderr,
            )
            with progress as bar:
                summary = export_log(connection, directory, progress=bar.update)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"exported {summary.events} events and {summary.checkpoints} checkpoints to "
        f"{directory}; check them with: python3 {directory / 'verify.py'} {directory}"
    )
    sys.stdout.flush()
