"""Where the sealed files of attachments live, written so that the database decides.

A file is ``<CONDUCT_ATTACHMENT_DIR>/<case id>/<attachment id>`` (hex ids; mode 0600 in 0700
folders), sealed with the case's data key before it reaches the disk. It is written under a
temporary name and renamed into place during the request; the session remembers it, and if
the transaction ends without a commit the file is removed, so a rolled-back upload leaves no
file behind. Removing a case's files (when it is shredded) waits for the commit in the same
way, so a shredding that rolls back keeps them.

A process killed between the rename and the commit can leave a file that no row names, or a
temporary file; one killed between a shredding's commit and the removal can leave the folder of
a case whose key is gone. :func:`find_leftovers` finds them and :func:`remove_leftovers` removes
them (``conduct attachments sweep``), leaving alone anything younger than a grace period (an
upload may be between its rename and its commit) and any name Conduct never writes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from conduct.crypto.models import DataKey

from .models import Attachment

_WRITTEN = "conduct_written_files"
_UPLOAD_PREFIX = ".upload-"
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
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
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=_UPLOAD_PREFIX)
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


# Leftovers


@dataclass
class Leftovers:
    """What the attachment folder holds that no committed row needs."""

    files: list[Path] = field(default_factory=list)  # sealed files no attachment row names
    partial: list[Path] = field(default_factory=list)  # temporary files of unfinished uploads
    folders: list[Path] = field(default_factory=list)  # folders of cases whose key is gone
    unknown: list[Path] = field(default_factory=list)  # names Conduct never writes: kept

    @property
    def removable(self) -> list[Path]:
        return [*self.files, *self.partial, *self.folders]


def find_leftovers(session: Session, grace: timedelta) -> Leftovers:
    """Files and folders older than ``grace`` that no committed row needs (reads ids only)."""
    found = Leftovers()
    root = attachment_dir()
    if not root.is_dir():
        return found
    cutoff = time.time() - grace.total_seconds()
    folders = {}
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and _HEX_ID.match(folder.name):
            folders[uuid.UUID(hex=folder.name)] = folder
        else:
            found.unknown.append(folder)
    live = set(session.scalars(select(DataKey.case_id).where(DataKey.case_id.in_(folders))))
    named: dict[uuid.UUID, set[str]] = {}
    rows = select(Attachment.case_id, Attachment.id).where(Attachment.case_id.in_(live))
    for case_id, attachment_id in session.execute(rows):
        named.setdefault(case_id, set()).add(attachment_id.hex)
    for case_id, folder in folders.items():
        if case_id not in live:
            if _newest_change(folder) < cutoff:
                found.folders.append(folder)
            continue
        for path in sorted(folder.iterdir()):
            old = path.lstat().st_mtime < cutoff
            if path.name.startswith(_UPLOAD_PREFIX) and path.is_file():
                if old:
                    found.partial.append(path)
            elif _HEX_ID.match(path.name) and path.is_file():
                if old and path.name not in named.get(case_id, ()):
                    found.files.append(path)
            else:
                found.unknown.append(path)
    return found


def remove_leftovers(leftovers: Leftovers) -> int:
    """Remove what :func:`find_leftovers` found; returns how many paths went."""
    for path in [*leftovers.files, *leftovers.partial]:
        path.unlink(missing_ok=True)
    for folder in leftovers.folders:
        shutil.rmtree(folder, ignore_errors=True)
    return len(leftovers.removable)


def _newest_change(folder: Path) -> float:
    """The latest modification time of a folder and of what it holds."""
    times = [folder.lstat().st_mtime]
    times += [path.lstat().st_mtime for path in folder.iterdir()]
    return max(times)
