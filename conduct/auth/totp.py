"""Time-based one-time codes (RFC 6238) with replay protection, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask_babel import gettext

ISSUER = "Conduct"
STEP_SECONDS = 30
# Accept the previous and next time step too: phones drift, links are slow.
WINDOW = 1
RECOVERY_CODES = 10
# RFC 4648 base32 letters: no 0, 1, 8 or 9 to confuse with O, I, B or g when read aloud.
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG QR code, made on the server."""
    title = gettext("Second factor QR")
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, title=title)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, last_step: int | None, now: float | None = None):
    """The time step ``code`` belongs to, if valid and newer than ``last_step``; else None.

    Every candidate step is compared, in constant time, so timing says nothing.
    """
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    found = None
    step = current_step(now)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        expected = totp.generate_otp(candidate)
        if hmac.compare_digest(expected, code) and (last_step is None or candidate > last_step):
            found = candidate
    return found


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits each, grouped for reading aloud: ABCD-EFGH-JKLM-NPQR."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_BASE32) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_digest(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)
