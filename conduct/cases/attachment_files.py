"""Where the sealed files of attachments live, written so that the database decides.

A file is ``<CONDUCT_ATTACHMENT_DIR>/<case id>/<attachment id>`` (hex ids; mode 0600 in 0700
folders), sealed with the case's data key before it reaches the disk. It is written under a
temporary name and renamed into place during the request; the session remembers it, and if
the transaction ends without a commit the file is removed, so a rolled-back upload leaves no
file behind. Removing a case's files (when it is shredded) waits for the commit in the same
way, so a shredding that rolls back keeps them.

A process killed between the rename and the commit can leave a file that no row names; it can
never be opened without its row's ids and the case's key.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_WRITTEN = "conduct_written_files"
_TO_REMOVE = "conduct_folders_to_remove"


def attachment_dir() -> Path:
    return current_app.extensions["conduct_settings"].attachment_dir


def case_folder(case_id: uuid.UUID) -> Path:
    return attachment_dir() / case_id.hex


def file_path(case_id: uuid.UUID, attachment_id: uuid.UUID) -> Path:
    return case_folder(case_id) / attachment_id.hex


def write_file(
    session: Session, case_id: uuid.UUID, attachment_id: uuid.UUID, sealed: bytes
) -> Path:
    """Write a sealed file atomically; it is removed again unless the transaction commits."""
    folder = case_folder(case_id)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = folder / attachment_id.hex
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(sealed)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    session.info.setdefault(_WRITTEN, []).append(final)
    _sync_folder(folder)
    return final


def read_file(case_id: uuid.UUID, attachment_id: uuid.UUID) -> bytes | None:
    """The sealed bytes of an attachment's file, or None when the file is missing."""
    try:
        return file_path(case_id, attachment_id).read_bytes()
    except FileNotFoundError:
        return None


def remove_case_files(session: Session, case_id: uuid.UUID) -> None:
    """Remove every file of the case once the transaction commits."""
    session.info.setdefault(_TO_REMOVE, []).append(case_folder(case_id))


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (a no-op where folders cannot be opened, as on Windows)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@event.listens_for(Session, "after_commit")
def _keep_written_files(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for folder in session.info.pop(_TO_REMOVE, ()):
        shutil.rmtree(folder, ignore_errors=True)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint or subtransaction: the outer transaction decides
    for path in session.info.pop(_WRITTEN, ()):
        path.unlink(missing_ok=True)
    session.info.pop(_TO_REMOVE, None)
