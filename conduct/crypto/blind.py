"""Blind indexes: keyed HMAC-SHA256 of normalised identifiers, for exact-match look-ups.

The blind-index key is its own deployment key, so neither the statistics key nor a case's data
key can compute or test an index value. Normalisation makes trivially different spellings of
the same identifier meet: case, accents, spacing, punctuation and the order of name parts.
"""

from __future__ import annotations

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
    parts = [part for part in _NOT_LETTER.split(bare) if part]
    return " ".join(sorted(parts))


def blind_index(key: bytes, purpose: str, normalised: str) -> bytes:
    return hmac.digest(key, purpose.encode() + b"\x00" + normalised.encode(), "sha256")


def personnel_number_index(key: bytes, personnel_number: str | None) -> bytes | None:
    normalised = normalise_personnel_number(personnel_number or "")
    return blind_index(key, "personnel_number", normalised) if normalised else None


def name_dob_index(key: bytes, full_name: str | None, date_of_birth: date | None) -> bytes | None:
    normalised = normalise_name(full_name or "")
    if not normalised or date_of_birth is None:
        return None
    return blind_index(key, "name_dob", f"{normalised}|{date_of_birth.isoformat()}")
