"""Server-side sessions: the cookie carries a random token, the database its SHA-256 digest.

Server-side state makes what a signed cookie cannot: a new session id at login (rotation),
logout that really ends the session, expiry when idle and after an absolute lifetime, and
invalidation of every session of an account when its password changes, its second factor is
reset or it is disabled.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete
from werkzeug.datastructures import CallbackDict

from conduct.core.db import db, utcnow

from .models import WebSession
from .totp import new_token, token_digest

COOKIE_NAME = "conduct_session"
# Writing last_seen_at on every request would make every read a write; a minute is precise
# enough for an idle timeout counted in minutes.
TOUCH_EVERY = timedelta(seconds=60)


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, token: str | None = None, record: WebSession | None = None):
        def on_update(_self):
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.record = record
        self.modified = False
        self.rotate_requested = False
        self.ended = False

    def rotate(self) -> None:
        """Give this session a new id, keeping its data (at login)."""
        self.rotate_requested = True
        self.modified = True

    def end(self) -> None:
        """Forget this session entirely (logout)."""
        self.clear()
        self.ended = True
        self.modified = True


def end_sessions_of(user_id, keep: ServerSession | None = None) -> None:
    """Invalidate every session of an account (password change, MFA reset, disabling)."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None and keep.token:
        statement = statement.where(WebSession.token_digest != token_digest(keep.token))
    db.session.execute(statement)


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, idle: timedelta, lifetime: timedelta):
        self.idle = idle
        self.lifetime = lifetime

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(COOKIE_NAME)
        if not token or len(token) > 100:
            return ServerSession()
        record = db.session.get(WebSession, token_digest(token))
        now = utcnow()
        if record is None:
            return ServerSession()
        if now - record.last_seen_at > self.idle or now - record.created_at > self.lifetime:
            db.session.delete(record)
            expired = ServerSession()
            expired.ended = True
            return expired
        return ServerSession(json.loads(record.data), token=token, record=record)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        """Persist the session in its own short transaction (the request's has committed)."""
        cookie = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "httponly": True,
            "samesite": self.get_cookie_samesite(app),
        }
        try:
            self._save(session, response, cookie)
        finally:
            db.session.commit()

    def _save(self, session: ServerSession, response: Response, cookie: dict) -> None:
        now = utcnow()
        if session.ended or (not session and session.record is not None):
            _forget(session)
            response.delete_cookie(COOKIE_NAME, **cookie)
        if not session:
            return
        if not session.modified:
            if now - session.record.last_seen_at > TOUCH_EVERY:
                session.record.last_seen_at = now
            return
        if session.record is None or session.rotate_requested:
            _forget(session)
            session.token = new_token()
            session.record = WebSession(token_digest=token_digest(session.token), created_at=now)
            db.session.add(session.record)
            response.set_cookie(COOKIE_NAME, session.token, **cookie)
        session.record.data = json.dumps(dict(session), separators=(",", ":"))
        session.record.user_id = _user_id_of(session)
        session.record.last_seen_at = now


def _forget(session: ServerSession) -> None:
    if session.record is not None:
        digest = session.record.token_digest
        db.session.execute(delete(WebSession).where(WebSession.token_digest == digest))
    session.record = None
    session.token = None


def _user_id_of(session: ServerSession) -> uuid.UUID | None:
    value = session.get("_user_id") or session.get("mfa_user")
    return uuid.UUID(value) if value else None
