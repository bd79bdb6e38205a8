"""Blind indexes: keyed HMAC-SHA256 of normalised identifiers, for exact-match look-ups.

The blind-index key is its own deployment key, so neither the statistics key nor a case's data
key can compute or test an index value. Normalisation makes trivially different spellings of
the same identifier meet: case, accents, spacing, punctuation and the order of name parts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_NOT_LETTER = re.compile(r"[^\w]+")


def normalise_personnel_number(value: str) -> str:
    return _NOT_ALNUM.sub("", value.upper())


def normalise_name(value: str) -> str:
    if value.isascii():
        bare = value.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", value)
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    parts = _NOT_LETTER.sub(" ", bare).split()
    parts.sort()
    return " ".join(parts)


class BlindIndexer:
    """Blind-index values under one key: HMAC-SHA256 of ``purpose NUL normalised value``.

    The keyed HMAC state is made once and copied for each value, which is what ``hmac`` does
    inside every one-shot call, without redoing the key set-up each time.
    """

    def __init__(self, key: bytes):
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def index(self, purpose: str, normalised: str) -> bytes:
        mac = self._keyed.copy()
        mac.update(purpose.encode() + b"\x00" + normalised.encode())
        return mac.digest()

    def personnel_number(self, personnel_number: str | None) -> bytes | None:
        normalised = normalise_personnel_number(personnel_number or "")
        return self.index("personnel_number", normalised) if normalised else None

    def name_dob(self, full_name: str | None, date_of_birth: date | None) -> bytes | None:
        normalised = normalise_name(full_name or "")
        if not normalised or date_of_birth is None:
            return None
        return self.index("name_dob", f"{normalised}|{date_of_birth.isoformat()}")
