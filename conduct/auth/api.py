"""The session API: log in with email, password and code; enrol the second factor; log out.

A failed login answers 401 with one generic message and sets no cookie.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, session
from flask_login import current_user, logout_user

from conduct.core.errors import error_body

from . import login, totp
from .limits import throttled
from .schemas import MfaConfirmSchema, SessionCreateSchema
from .views import begin_second_step, finish_login, pending_user, user_summary

blueprint = Blueprint("auth_api", __name__, url_prefix="/api/v1")


def _login_failed():
    return jsonify(error_body("login_failed", login.GENERIC_FAILURE)), 401


@blueprint.post("/session")
@throttled
def create_session():
    """Log in. Without an enrolled second factor, answers the seed to enrol instead."""
    body = SessionCreateSchema().load(request.get_json(silent=True) or {})
    step = login.check_password_step(body["email"], body["password"])
    if step.user is None:
        return _login_failed()
    user = step.user
    if step.needs_enrollment:
        begin_second_step(user)
        secret = login.start_enrollment(user)
        uri = totp.provisioning_uri(secret, user.email)
        return jsonify(mfa_enrollment={"secret": secret, "otpauth_uri": uri})
    if not login.check_second_factor(user, body.get("otp") or ""):
        return _login_failed()
    finish_login(user)
    return jsonify(user=user_summary(user))


@blueprint.post("/session/mfa")
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
    return jsonify(user=user_summary(user), recovery_codes=codes)


@blueprint.delete("/session")
def delete_session():
    login.record_logout(current_user if current_user.is_authenticated else None)
    logout_user()
    session.end()
    return "", 204
