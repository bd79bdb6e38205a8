"""Throttling of login attempts, per client address and per account (Flask-Limiter).

In memory by default; through Redis (CONDUCT_REDIS_URL) when several servers must share the
counts. Lockout after repeated failures is kept on the account itself (services.py).
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(get_remote_address, storage_uri="memory://", headers_enabled=True)


def login_rate() -> str:
    return current_app.extensions["conduct_settings"].login_rate_limit


def submitted_account() -> str:
    """The account a login attempt names, so attempts on one account count together."""
    if request.is_json:
        email = (request.get_json(silent=True) or {}).get("email", "")
    else:
        email = request.form.get("email", "")
    return "account:" + str(email).strip().lower()[:254]


def throttled(view):
    """Limit a login step per address and per named account (POST only)."""
    view = limiter.limit(login_rate, methods=["POST"])(view)
    return limiter.limit(login_rate, key_func=submitted_account, methods=["POST"])(view)


def init_app(app: Flask) -> None:
    settings = app.extensions["conduct_settings"]
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "conduct"
    limiter.init_app(app)
