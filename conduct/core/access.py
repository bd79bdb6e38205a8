"""Who is acting in the current request. The accounts feature sets it; everything reads it."""

from __future__ import annotations

from flask import g, has_request_context


def current_actor():
    """The logged-in user of this request, or None (anonymous, CLI)."""
    return g.get("actor") if has_request_context() else None
