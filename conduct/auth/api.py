"""The session API: log in with email, password and code; enrol the second factor; log out.

A failed login answers 401 with one generic message and sets no cookie.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, session
from flask_login import current_user, logout_user

from conduct.core.api_docs import documented
from conduct.core.errors import error_body

from . import login, totp
from .limits import throttled
from .schemas import (
    MfaConfirmedOut,
    MfaConfirmSchema,
    MfaEnrollmentOut,
    SessionCreateSchema,
    SessionOut,
)
from .views import begin_second_step, finish_login, pending_user

blueprint = Blueprint("auth_api", __name__, url_prefix="/api/v1")

LOGIN_ERRORS = {
    401: "the login failed (code `login_failed`, one generic message, no cookie)",
    429: "too many attempts from this address or on this account",
}


def _login_failed():
    return jsonify(error_body("login_failed", login.GENERIC_FAILURE)), 401


@blueprint.post("/session")
@documented(body=SessionCreateSchema, answer=[SessionOut, MfaEnrollmentOut], errors=LOGIN_ERRORS)
@throttled
def create_session():
    """Log in. Without an enrolled second factor, answers the seed to enrol instead.

    ``otp`` is the current six-digit code or an unused recovery code; a code is never accepted
    twice. The answer sets the session cookie.
    """
    body = SessionCreateSchema().load(request.get_json(silent=True) or {})
    step = login.check_password_step(body["email"], body["password"])
    if step.user is None:
        return _login_failed()
    user = step.user
    if step.needs_enrollment:
        begin_second_step(user)
        secret = login.start_enrollment(user)
        uri = totp.provisioning_uri(secret, user.email)
        enrollment = {"secret": secret, "otpauth_uri": uri}
        return jsonify(MfaEnrollmentOut().dump({"mfa_enrollment": enrollment}))
    if not login.check_second_factor(user, body.get("otp") or ""):
        return _login_failed()
    finish_login(user)
    return jsonify(SessionOut().dump({"user": user}))


@blueprint.post("/session/mfa")
@documented(body=MfaConfirmSchema, answer=MfaConfirmedOut, errors=LOGIN_ERRORS)
@throttled
def confirm_mfa():
    """Confirm enrolment with a first code; answers the one-time recovery codes."""
    body = MfaConfirmSchema().load(request.get_json(silent=True) or {})
    user = pending_user()
    if user is None or user.has_mfa:
        return _login_failed()
    codes = login.confirm_enrollment(user, body["otp"])
    if codes is None:
        return _login_failed()
    finish_login(user)
    return jsonify(MfaConfirmedOut().dump({"user": user, "recovery_codes": codes}))


@blueprint.delete("/session")
@documented(status=204)
def delete_session():
    """Log out: the session is deleted on the server."""
    login.record_logout(current_user if current_user.is_authenticated else None)
    logout_user()
    session.end()
    return "", 204
