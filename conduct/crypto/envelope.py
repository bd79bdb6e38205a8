"""Sealing one database cell with AES-256-GCM, bound to where it is stored.

A sealed value is ``FORMAT (1 byte) | key id (16) | nonce (12) | ciphertext and tag``. The
associated data is built from the format, the table, the column, the row id and the case id, so
a value copied to another cell, row or case fails authentication. The key id names the data key
(or the statistics key) that sealed the value; the wrapped key record behind that id names the
KEK version, so rotating the KEK rewraps keys and never rewrites a value.

Plaintexts are padded (ISO/IEC 7816-4) to a multiple of a block, so that the length of a
ciphertext says little about what it holds and a missing value looks like a short one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import IntegrityError, KeyFormatError

FORMAT_V1 = 0x01
_HEADER = 1 + 16 + 12
_AAD_PREFIX = b"conduct/v1\x00"


@dataclass(frozen=True, slots=True)
class SealingKey:
    """An unwrapped AES-256 key with its id. Lives only as long as a unit of work needs it."""

    key_id: uuid.UUID
    _aead: AESGCM = field(repr=False)
    # The format byte and key id that start every value this key seals (made once, not per value).
    _header: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_header", bytes((FORMAT_V1,)) + self.key_id.bytes)

    @classmethod
    def from_bytes(cls, key_id: uuid.UUID, material: bytes) -> SealingKey:
        if len(material) != 32:
            raise KeyFormatError("a sealing key must be 32 bytes")
        return cls(key_id, AESGCM(material))


def cell_context(table: str, column: str) -> bytes:
    """The constant part of the associated data for one column of one table."""
    return _AAD_PREFIX + table.encode() + b"\x00" + column.encode() + b"\x00"


def row_binding(row_id: uuid.UUID, case_id: uuid.UUID) -> bytes:
    """The part of the associated data naming the row and the case; with a cell context in
    front (``context + row_binding(...)``) it is the whole associated data of one cell."""
    return row_id.bytes + case_id.bytes


def seal(
    key: SealingKey, plaintext: bytes, context: bytes, row_id: uuid.UUID, case_id: uuid.UUID
) -> bytes:
    """Encrypt ``plaintext`` for the cell (``context``, row, case) under ``key``."""
    return seal_cell(key, plaintext, context + row_binding(row_id, case_id))


def seal_cell(key: SealingKey, plaintext: bytes, associated_data: bytes) -> bytes:
    """:func:`seal` with the associated data already built (``context + row_binding``), for
    callers that seal several cells of one row. A fresh random nonce for every value."""
    nonce = os.urandom(12)
    return key._header + nonce + key._aead.encrypt(nonce, plaintext, associated_data)


def key_id_of(token: bytes) -> uuid.UUID:
    """The id of the key that sealed ``token``."""
    if len(token) < _HEADER + 16 or token[0] != FORMAT_V1:
        raise KeyFormatError("not a sealed value of a known format")
    return uuid.UUID(bytes=bytes(token[1:17]))


def open_sealed(
    key: SealingKey, token: bytes, context: bytes, row_id: uuid.UUID, case_id: uuid.UUID
) -> bytes:
    """Decrypt a value sealed by :func:`seal` for exactly this cell, or raise IntegrityError."""
    return open_cell(key, token, context + row_binding(row_id, case_id))


def open_cell(key: SealingKey, token: bytes, associated_data: bytes) -> bytes:
    """:func:`open_sealed` with the associated data already built (see :func:`seal_cell`)."""
    if token[:17] != key._header or len(token) < _HEADER + 16:
        key_id_of(token)  # raises KeyFormatError when the value is not of a known format
        raise IntegrityError("the value was sealed with another key (moved from another case?)")
    try:
        return key._aead.decrypt(token[17:_HEADER], token[_HEADER:], associated_data)
    except InvalidTag:
        raise IntegrityError(
            "a sealed value failed its integrity check: it was altered or moved to another cell"
        ) from None


def open_cells(key: SealingKey, context: bytes, cells) -> Iterator[bytes]:
    """:func:`open_cell` over many ``(row binding, token)`` cells of one column, for lists and
    statistics that open one value per row over thousands of rows."""
    header, decrypt = key._header, key._aead.decrypt
    for binding, token in cells:
        if token[:17] != header or len(token) < _HEADER + 16:
            open_cell(key, token, context + binding)  # raises the precise error
        try:
            yield decrypt(token[17:_HEADER], token[_HEADER:], context + binding)
        except InvalidTag:
            raise IntegrityError(
                "a sealed value failed its integrity check: it was altered or moved to another cell"
            ) from None


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 7816-4 padding: 0x80 then zeros up to a multiple of ``block``."""
    return data + b"\x80" + bytes(-(len(data) + 1) % block)


def unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end or end[-1] != 0x80:
        raise IntegrityError("a sealed value has broken padding")
    return end[:-1]


# Files (evidence attachments)
#
# A sealed file is ``FILE_FORMAT_V1 (1 byte) | key id (16) | nonce (12) | ciphertext and tag``,
# sealed with the case's data key. Its associated data names the file's id and the case's id,
# so a file copied over another attachment, or into another case, fails to open. The plaintext
# is padded (Padmé) so that the size on disk tells little about the size of the evidence.

FILE_FORMAT_V1 = 0x11
_FILE_AAD_PREFIX = b"conduct/file/v1\x00"
MIN_PADDED_FILE = 4096


def padded_file_length(length: int) -> int:
    """Padmé (Nikitin et al., 2019): round up so that only O(log log n) bits of the length
    show, at most about 12% more bytes; never below ``MIN_PADDED_FILE``."""
    length = max(length + 1, MIN_PADDED_FILE)  # one byte more for the padding's 0x80 marker
    exponent = length.bit_length() - 1
    low_bits = exponent - exponent.bit_length()
    mask = (1 << low_bits) - 1
    return (length + mask) & ~mask


def _file_binding(file_id: uuid.UUID, case_id: uuid.UUID) -> bytes:
    return _FILE_AAD_PREFIX + file_id.bytes + case_id.bytes


def seal_file(key: SealingKey, data: bytes, file_id: uuid.UUID, case_id: uuid.UUID) -> bytes:
    """Encrypt a whole file for (file id, case) under the case's data key."""
    padding = padded_file_length(len(data)) - len(data) - 1
    plaintext = b"".join((data, b"\x80", bytes(padding)))
    nonce = os.urandom(12)
    sealed = key._aead.encrypt(nonce, plaintext, _file_binding(file_id, case_id))
    return b"".join((bytes((FILE_FORMAT_V1,)), key.key_id.bytes, nonce, sealed))


def open_file(key: SealingKey, token: bytes, file_id: uuid.UUID, case_id: uuid.UUID) -> bytes:
    """Decrypt a file sealed by :func:`seal_file` for exactly this file and case, or raise
    IntegrityError (altered, truncated, moved, or sealed with another case's key)."""
    if len(token) < _HEADER + 16 or token[0] != FILE_FORMAT_V1:
        raise IntegrityError("a sealed file is damaged: it is not in a known format")
    if token[1:17] != key.key_id.bytes:
        raise IntegrityError("the file was sealed with another key (moved from another case?)")
    sealed = memoryview(token)[_HEADER:]  # a view: a slice would copy the whole file again
    try:
        plain = key._aead.decrypt(token[17:_HEADER], sealed, _file_binding(file_id, case_id))
    except InvalidTag:
        raise IntegrityError(
            "a sealed file failed its integrity check: it was altered or moved"
        ) from None
    end = plain.rstrip(b"\x00")
    if not end or end[-1] != 0x80:
        raise IntegrityError("a sealed file has broken padding")
    return end[:-1]
