"""Everything that touches keys or ciphertext. Nothing outside this package sees a key.

- :mod:`.keys`: KEK providers, wrapped keys, the deployment keyring, key files.
- :mod:`.envelope`: AES-256-GCM sealing of one cell, bound to table, column, row and case.
- :mod:`.vault`: the keys of one unit of work; case data keys are forgotten at its end.
- :mod:`.columns`: sealed model attributes that read and write plain Python values.
- :mod:`.blind`: keyed blind indexes for exact-match look-ups.
"""

from .columns import DATE, INTEGER, TEXT, SealedRow, list_of, member_of, open_coded
from .errors import (
    CryptoError,
    IntegrityError,
    KeyFormatError,
    MissingKeyError,
    NoVaultError,
    ShreddedError,
    WrongKeyError,
)
from .vault import Vault, current_vault, open_vault

__all__ = [
    "DATE",
    "INTEGER",
    "TEXT",
    "CryptoError",
    "IntegrityError",
    "KeyFormatError",
    "MissingKeyError",
    "NoVaultError",
    "SealedRow",
    "ShreddedError",
    "Vault",
    "WrongKeyError",
    "current_vault",
    "list_of",
    "member_of",
    "open_coded",
    "open_vault",
]
