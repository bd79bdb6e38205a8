"""HTML pages of evidence attachments: a page with the case's files and the upload form, the
upload, and the download. The form itself is the partial ``cases/_attachments.html``, which
the case page includes too.

Like the API, only the case team (``case:attach``) reaches these routes; the guard checks the
CSRF token of the upload. Bad input shows the page again with the problem next to the field,
after rolling back, so that nothing is stored but the refusal's audit event.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError

from conduct.core.errors import ConductError
from conduct.core.i18n import translate_problems
from conduct.core.permissions import has_permission, requires
from conduct.core.web import record_refusal

from . import attachments, filetypes, services
from .access import can_change_case
from .attachments_api import AttachmentFields, download_response, max_bytes, read_upload
from .schemas import AttachmentOut

blueprint = Blueprint("attachments", __name__, url_prefix="/cases")
PAGE = "cases/attachments.html"


@blueprint.app_context_processor
def _attachment_helpers() -> dict:
    """What the attachments partial needs on any page that includes it."""
    return {
        "can_attach": _can_attach,
        "attachment_accept": ",".join(
            extension for file_type in filetypes.ACCEPTED for extension in file_type.extensions
        ),
        "attachment_types": ", ".join(gettext(file_type.label) for file_type in filetypes.ACCEPTED),
        "attachment_max_bytes": max_bytes,
    }


def _can_attach(case) -> bool:
    """Whether the user may upload to and download from ``case`` (a Case, or a case read as
    dumped for a page, which names its reference)."""
    user = current_user if current_user.is_authenticated else None
    if not has_permission(user, "case:attach"):
        return False
    if isinstance(case, Mapping):
        case = services.case_by_reference(str(case.get("reference", "")))
    return case is not None and can_change_case(user, case)


def _safe_next(value: str | None, reference: str) -> str:
    """Back to the page the form was on, if it is a case page of this site."""
    if value and value.startswith("/cases/") and "//" not in value and "\\" not in value:
        return value
    return url_for("attachments.list_attachments", reference=reference)


def _page(case, status: int = 200, errors: dict | None = None):
    shown = AttachmentOut(many=True).dump(attachments.list_attachments(g.actor, case))
    page = render_template(PAGE, case=case, attachments=shown, attachment_errors=errors or {})
    return page, status


@blueprint.get("/<reference>/attachments")
@requires("case:attach")
def list_attachments(reference: str):
    """The case's evidence files and the upload form."""
    return _page(attachments.find_case_for_files(g.actor, reference))


@blueprint.post("/<reference>/attachments")
@requires("case:attach")
def upload(reference: str):
    """Upload an evidence file from the form, then go back to the page it came from."""
    case = attachments.find_case_for_files(g.actor, reference)
    try:
        upload = read_upload(AttachmentFields(unknown=EXCLUDE))
        attachments.add_attachment(g.actor, case, upload, max_bytes())
    except ValidationError as error:
        return _refused(reference, 400, error.normalized_messages())
    except ConductError as error:
        if error.status not in (400, 413):
            raise
        return _refused(reference, error.status, error.fields)
    flash(gettext("File added."))
    return redirect(_safe_next(request.form.get("next"), reference))


def _refused(reference: str, status: int, problems: dict):
    record_refusal("invalid", problems)
    case = attachments.find_case_for_files(g.actor, reference)
    return _page(case, status, translate_problems(problems))


@blueprint.get("/<reference>/attachments/<attachment_id>")
@requires("case:attach")
def download(reference: str, attachment_id: str):
    """Download an evidence file; every download is audited."""
    case = attachments.find_case_for_files(g.actor, reference)
    attachment, data = attachments.open_attachment(g.actor, case, attachment_id)
    return download_response(attachment, data)
