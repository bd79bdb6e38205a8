"""The JSON API of evidence attachments: upload (multipart) and download, case team only."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, g, jsonify, request, send_file, url_for
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import RequestEntityTooLarge

from conduct.core.api_docs import documented
from conduct.core.errors import PayloadTooLarge
from conduct.core.permissions import requires

from . import attachments
from .models import Attachment
from .schemas import AttachmentOut

blueprint = Blueprint("cases_attachments_api", __name__, url_prefix="/api/v1/cases")


class AttachmentFields(Schema):
    """The form fields sent with the file."""

    description = fields.String(
        validate=validate.Length(max=attachments.MAX_DESCRIPTION_LENGTH), allow_none=True
    )


class AttachmentPath(Schema):
    attachment_id = fields.UUID(
        metadata={"description": "the id of the attachment, as the case read lists it"}
    )


def max_bytes() -> int:
    return current_app.extensions["conduct_settings"].attachment_max_bytes


def read_upload(form_schema: Schema) -> attachments.Upload:
    """The request's upload; a body over the size limit is a 413 naming ``file``."""
    limit = max_bytes()
    try:
        form = form_schema.load(request.form.to_dict())
        return attachments.upload_from_request(request.files, form.get("description"), limit)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(
            "the file is too large", {"file": [f"larger than the limit of {limit} bytes"]}
        ) from None


def download_response(attachment: Attachment, data: bytes):
    """The file as a download that no browser renders or guesses the type of."""
    mimetype = attachment.content_type
    if mimetype.startswith("text/"):
        mimetype += "; charset=utf-8"
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blueprint.post("/<reference>/attachments")
@documented(
    form=AttachmentFields,
    files=("file",),
    answer=AttachmentOut,
    status=201,
    errors={
        400: "no file, an empty file, a type not accepted or not the one declared, or a bad "
        "description: `fields` names `file` or `description`",
        413: "the file is over CONDUCT_ATTACHMENT_MAX_BYTES: `fields` names `file`",
    },
    headers={"Location": "the URL that downloads the file"},
)
@requires("case:attach")
def upload_attachment(reference: str):
    """Add an evidence file (multipart: ``file``, optional ``description``)."""
    case = attachments.find_case_for_files(g.actor, reference)
    upload = read_upload(AttachmentFields())
    attachment = attachments.add_attachment(g.actor, case, upload, max_bytes())
    response = jsonify(AttachmentOut().dump(attachment))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "cases_attachments_api.download_attachment",
        reference=reference,
        attachment_id=attachment.id,
    )
    return response


@blueprint.get("/<reference>/attachments/<attachment_id>")
@documented(
    path=AttachmentPath,
    answer={"type": "string", "format": "binary", "description": "the file, as its own type"},
    media_type="*/*",
    errors={500: "the stored file is missing, altered or moved (`code` `integrity_error`)"},
)
@requires("case:attach")
def download_attachment(reference: str, attachment_id: str):
    """Download an evidence file, decrypted; every download is audited."""
    case = attachments.find_case_for_files(g.actor, reference)
    attachment, data = attachments.open_attachment(g.actor, case, attachment_id)
    return download_response(attachment, data)
