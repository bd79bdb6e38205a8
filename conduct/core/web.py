"""Request plumbing: request ids, the vault, one commit per request, errors, headers."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, current_app, g, jsonify, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from conduct.crypto.vault import open_vault

from .assets import cache_static
from .assets import init_app as init_assets
from .db import db
from .errors import ConductError, ValidationFailed, error_body
from .i18n import N_, translate_problem, translate_problems

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cache-Control": "no-store",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _begin_request() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
    g.vault_scope = open_vault()
    g.vault_scope.__enter__()


def _commit_request(response):
    """Commit the request's one transaction. A failure here becomes a 500, not a lost write.

    Then run the after-commit hooks (sealing the audit log): they see the request's writes
    and must never fail it.
    """
    db.session.commit()
    for hook in current_app.extensions.get("conduct_after_commit", ()):
        hook()
    cache_static(response)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def _end_request(_exc) -> None:
    scope = g.pop("vault_scope", None)
    if scope is not None:
        scope.__exit__(None, None, None)


# What an error page says for an HTTP error, in the page's language (the API keeps the
# framework's English description).
HTTP_MESSAGES = {
    400: N_("The request was not understood: reload the page and try again."),
    403: N_("You are not allowed to do this."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not take this kind of request."),
    413: N_("What was sent is too large."),
    429: N_("Too many attempts: wait a little, then try again."),
}


def _respond(status: int, code: str, message: str, fields=None):
    if is_api_request():
        return jsonify(error_body(code, message, fields)), status
    fields = translate_problems(fields or {})
    page = render_template(
        "error.html", status=status, message=translate_problem(message), fields=fields
    )
    return page, status


def record_refusal(outcome: str, fields=(), case=None) -> None:
    """Roll back the request's work and keep only the audit event of the refusal.

    Views that answer bad input themselves (HTML forms shown again) call this too.
    """
    from conduct.audit import record
    from conduct.audit.events import is_name
    from conduct.core.access import current_actor

    db.session.rollback()
    record(
        "request.refused",
        actor=current_actor(),
        outcome=outcome,
        object_type="endpoint",
        object_id=(request.endpoint or "unknown").replace("/", "."),
        case=case,
        # Field names of bad input can come from the client: keep only names we know.
        fields=sorted(name if is_name(name) else "unknown_field" for name in fields),
    )


def handle_conduct_error(error: ConductError):
    outcome = error.audit_outcome or {
        403: "denied",
        401: "denied",
        400: "invalid",
        413: "invalid",
    }.get(error.status, "failed")
    record_refusal(outcome, [*error.fields, *error.audit_fields], error.case)
    return _respond(error.status, error.code, error.message, error.fields)


def handle_validation_error(error: ValidationError):
    fields = error.normalized_messages()
    if not isinstance(fields, dict):
        fields = {"_schema": fields}
    flat: dict[str, list[str]] = {}
    for name, messages in fields.items():
        messages = messages if isinstance(messages, list) else [str(messages)]
        # A key the schema does not know is the client's text: never echo it into the log.
        key = "unknown_field" if messages == ["Unknown field."] else name
        flat.setdefault(key, []).extend(messages)
    return handle_conduct_error(ValidationFailed.of(flat))


def handle_http_error(error: HTTPException):
    db.session.rollback()
    if error.code in (400, 429):
        from conduct.audit import record
        from conduct.core.access import current_actor

        record(
            "request.throttled" if error.code == 429 else "request.refused",
            actor=current_actor(),
            outcome="denied" if error.code == 429 else "invalid",
            object_type="endpoint",
            object_id=(request.endpoint or "unknown"),
        )
    code = (error.name or "error").lower().replace(" ", "_")
    message = error.description or error.name
    if not is_api_request() and error.code in HTTP_MESSAGES:
        message = HTTP_MESSAGES[error.code]
    return _respond(error.code or 500, code, message)


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    log.exception("unhandled error in request %s", g.get("request_id"))
    return _respond(500, "internal_error", N_("something went wrong; the change was not saved"))


def init_app(app: Flask) -> None:
    init_assets(app)
    app.before_request(_begin_request)
    app.after_request(_commit_request)
    app.teardown_request(_end_request)
    app.register_error_handler(ConductError, handle_conduct_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
