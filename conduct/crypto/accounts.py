"""Sealing account secrets (second-factor seeds) with the accounts key.

A copy of the database must not be enough to produce someone's one-time codes, so TOTP seeds
are sealed like case fields, bound to the users table, the column and the user id.
"""

from __future__ import annotations

import uuid

from .envelope import cell_context, open_sealed, pad, seal, unpad
from .vault import current_vault

_BLOCK = 16


def seal_account_secret(user_id: uuid.UUID, column: str, secret: str) -> bytes:
    key = current_vault().keyring.accounts
    return seal(key, pad(secret.encode(), _BLOCK), cell_context("users", column), user_id, user_id)


def open_account_secret(user_id: uuid.UUID, column: str, token: bytes) -> str:
    key = current_vault().keyring.accounts
    plain = open_sealed(key, bytes(token), cell_context("users", column), user_id, user_id)
    return unpad(plain).decode()
