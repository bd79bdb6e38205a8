"""Evidence attachments: files sealed with the case's data key, described by a sealed row.

Only the case team (``case:attach``) uploads and downloads them. An upload is checked before
anything is stored: not empty, not over the size limit, its bytes one of the accepted types
(:mod:`.filetypes`), agreeing with the type the client declared. Every upload and every
download is an audit event naming the fields, never a filename or a description.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from conduct.audit import record
from conduct.core.db import db
from conduct.core.errors import ConductError, Forbidden, PayloadTooLarge, ValidationFailed
from conduct.core.permissions import has_permission
from conduct.crypto import IntegrityError, current_vault

from . import attachment_files, filetypes, services
from .access import can_change_case
from .items import _item
from .models import Attachment, Case

log = logging.getLogger(__name__)

MAX_DESCRIPTION_LENGTH = 2000
UPLOAD_FIELDS = ("byte_size", "content_type", "description", "file", "filename")
DOWNLOAD_FIELDS = ("content_type", "file", "filename")


class DamagedFileError(ConductError):
    """An attachment's stored file is missing, altered or moved: it will not be served."""

    status = 500
    code = "integrity_error"


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the request gave it (at most the size limit plus one byte)."""

    data: bytes
    filename: str | None
    declared_type: str | None
    description: str | None = None


def check_may_attach(actor, case: Case) -> None:
    if not (can_change_case(actor, case) and has_permission(actor, "case:attach")):
        raise Forbidden(gettext("only the case team may add or open attachments"), case=case)


def find_case_for_files(actor, reference: str) -> Case:
    """:func:`services.find_case`, then the team rule for attachments (403 off the team)."""
    case = services.find_case(actor, reference)
    check_may_attach(actor, case)
    return case


def check_upload(upload: Upload, max_bytes: int) -> filetypes.FileType:
    """The accepted type of the upload's bytes, or a 400/413 naming the field."""
    if len(upload.data) > max_bytes:
        raise PayloadTooLarge(
            gettext("the file is too large"),
            {"file": [gettext("larger than the limit of %(count)d bytes", count=max_bytes)]},
        )
    if not upload.data:
        raise ValidationFailed.of({"file": [gettext("the file is empty")]})
    found = filetypes.detect(upload.data)
    if found is None:
        accepted = ", ".join(gettext(file_type.label) for file_type in filetypes.ACCEPTED)
        problem = gettext("not an accepted type of file (%(accepted)s)", accepted=accepted)
        raise ValidationFailed.of({"file": [problem]})
    declared = upload.declared_type
    if filetypes.is_declared(declared) and filetypes.declared_type(declared) is not found:
        raise ValidationFailed.of(
            {
                "file": [
                    gettext(
                        "the content is %(found)s, not the type the upload declared",
                        found=gettext(found.label),
                    )
                ]
            }
        )
    description = upload.description or ""
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed.of(
            {
                "description": [
                    gettext("longer than %(count)d characters", count=MAX_DESCRIPTION_LENGTH)
                ]
            }
        )
    return found


def add_attachment(actor, case: Case, upload: Upload, max_bytes: int) -> Attachment:
    """Store an evidence file sealed with the case's key, and its sealed description. Audited.

    The file is written during the request and removed again if the request does not commit.
    """
    check_may_attach(actor, case)
    file_type = check_upload(upload, max_bytes)
    session = db.session
    attachment = Attachment(case=case, uploaded_by=getattr(actor, "id", None))
    attachment.filename = filetypes.safe_filename(upload.filename, file_type)
    attachment.content_type = file_type.content_type
    attachment.byte_size = len(upload.data)
    attachment.description = (upload.description or "").strip() or None
    session.add(attachment)
    session.flush()
    sealed = current_vault().seal_file(session, case.id, attachment.id, upload.data)
    attachment_files.write_file(session, case.id, attachment.id, sealed)
    record(
        "attachment.create",
        actor=actor,
        object_type="attachment",
        object_id=attachment.id,
        case=case,
        fields=UPLOAD_FIELDS,
    )
    return attachment


def open_attachment(actor, case: Case, attachment_id: Any) -> tuple[Attachment, bytes]:
    """An attachment and its plain bytes, for the case team. Audited.

    A missing, altered or moved file is refused (DamagedFileError, audited as a failure).
    """
    check_may_attach(actor, case)
    attachment: Attachment = _item(case, Attachment, attachment_id, "attachment")
    sealed = attachment_files.read_file(case.id, attachment.id)
    try:
        if sealed is None:
            raise IntegrityError("the file is missing")
        data = current_vault().open_file(db.session, case.id, attachment.id, sealed)
    except IntegrityError:
        log.error("attachment %s of case %s failed its integrity check", attachment.id, case.id)
        raise DamagedFileError(
            "the stored file is missing or failed its integrity check (altered or moved)",
            case=case,
        ) from None
    record(
        "attachment.read",
        actor=actor,
        object_type="attachment",
        object_id=attachment.id,
        case=case,
        fields=DOWNLOAD_FIELDS,
    )
    return attachment, data


def list_attachments(actor, case: Case) -> list[Attachment]:
    """The case's attachments with their descriptions, for the case team. Audited."""
    check_may_attach(actor, case)
    record(
        "attachment.list",
        actor=actor,
        object_type="case",
        object_id=case.id,
        case=case,
        fields=("byte_size", "content_type", "description", "filename"),
    )
    return list(case.attachments)


def upload_from_request(files: Mapping, description: str | None, max_bytes: int) -> Upload:
    """The upload of a multipart request (field ``file``); 400 when there is no file.

    At most ``max_bytes + 1`` bytes are read: enough to tell that a file is too large.
    """
    storage = files.get("file")
    data = storage.stream.read(max_bytes + 1) if storage is not None else b""
    if storage is None or not (storage.filename or data):
        raise ValidationFailed.of(
            {"file": [gettext("required: send the file as the multipart field file")]}
        )
    return Upload(
        data=data,
        filename=storage.filename,
        declared_type=storage.mimetype,
        description=description,
    )
