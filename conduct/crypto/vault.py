"""The vault: the keys one unit of work (a request, a CLI command) may use, and nothing longer.

A vault holds the deployment keyring and the case data keys unwrapped so far. It is opened at
the start of a request and closed at its end, when every data key is forgotten: no plaintext
key, identity or per-case value ever sits in a process-wide cache.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from .blind import BlindIndexer
from .envelope import SealingKey, open_file, seal_file
from .errors import NoVaultError, ShreddedError
from .keys import Keyring, new_wrapped_key, unwrap_key, wrapped_kek_version
from .models import DataKey

_current: ContextVar[Vault | None] = ContextVar("conduct_vault", default=None)
_PRELOAD_CHUNK = 1000


def data_key_purpose(case_id: uuid.UUID) -> str:
    return f"data:{case_id}"


class Vault:
    def __init__(self, keyring: Keyring):
        self.keyring = keyring
        # Keyed by the case id's integer: hashing and comparing it is cheap, a UUID's is not,
        # and sealed fields look their key up once per value read.
        self._data_keys: dict[int, SealingKey] = {}

    @property
    def statistics_key(self) -> SealingKey:
        return self.keyring.statistics

    @property
    def blind_indexer(self) -> BlindIndexer:
        return self.keyring.blind_index

    def create_data_key(self, session: Session, case_id: uuid.UUID) -> SealingKey:
        """Make, wrap and stage a new data key for a new case."""
        if case_id.int in self._data_keys:
            return self._data_keys[case_id.int]
        purpose = data_key_purpose(case_id)
        key_id, material, wrapped = new_wrapped_key(self.keyring.provider, purpose)
        session.add(
            DataKey(
                case_id=case_id,
                key_id=key_id,
                kek_version=wrapped_kek_version(wrapped),
                wrapped=wrapped,
            )
        )
        key = self._data_keys[case_id.int] = SealingKey.from_bytes(key_id, material)
        return key

    def loaded_data_key(self, case_id: uuid.UUID) -> SealingKey | None:
        """The case's data key if this unit of work has unwrapped it already, else None."""
        return self._data_keys.get(case_id.int)

    def data_key(self, session: Session, case_id: uuid.UUID) -> SealingKey:
        """The case's data key, unwrapped once per unit of work; ShreddedError if destroyed."""
        key = self._data_keys.get(case_id.int)
        if key is None:
            with session.no_autoflush:
                record = session.get(DataKey, case_id)
            if record is None:
                raise ShreddedError(
                    "this case's data key was destroyed: its identifying fields are gone"
                )
            key = self._remember(record)
        return key

    def preload(self, session: Session, case_ids: Iterable[uuid.UUID]) -> None:
        """Unwrap the data keys of many cases with one query (lists, exports, benchmarks)."""
        known = self._data_keys
        missing = list({case_id for case_id in case_ids if case_id.int not in known})
        if not missing:
            return
        columns = select(DataKey.case_id, DataKey.wrapped)
        with session.no_autoflush:
            # Plain rows, not DataKey objects: the session need not track them. Chunks keep
            # each statement under the databases' limits on bound parameters.
            for start in range(0, len(missing), _PRELOAD_CHUNK):
                chunk = missing[start : start + _PRELOAD_CHUNK]
                for record in session.execute(columns.where(DataKey.case_id.in_(chunk))):
                    self._remember(record)

    def seal_file(
        self, session: Session, case_id: uuid.UUID, file_id: uuid.UUID, data: bytes
    ) -> bytes:
        """A case's file (an attachment) encrypted with the case's data key, bound to its id."""
        return seal_file(self.data_key(session, case_id), data, file_id, case_id)

    def open_file(
        self, session: Session, case_id: uuid.UUID, file_id: uuid.UUID, token: bytes
    ) -> bytes:
        """The plain bytes of a file sealed by :meth:`seal_file`; IntegrityError if it was
        altered or moved, ShreddedError if the case's key was destroyed."""
        return open_file(self.data_key(session, case_id), token, file_id, case_id)

    def forget_case(self, case_id: uuid.UUID) -> None:
        self._data_keys.pop(case_id.int, None)

    def forget(self) -> None:
        self._data_keys.clear()

    def _remember(self, record: DataKey | Row) -> SealingKey:
        purpose = data_key_purpose(record.case_id)
        key_id, material = unwrap_key(self.keyring.provider, purpose, bytes(record.wrapped))
        key = SealingKey.from_bytes(key_id, material)
        self._data_keys[record.case_id.int] = key
        return key


def current_vault() -> Vault:
    vault = _current.get()
    if vault is None:
        raise NoVaultError(
            "sealed fields can only be read or written inside a request or unit_of_work()"
        )
    return vault


@contextmanager
def open_vault(keyring: Keyring | None = None) -> Iterator[Vault]:
    """Make a vault current for the block; forget its data keys when the block ends."""
    if keyring is None:
        from flask import current_app

        keyring = current_app.extensions["conduct_keyring"]
    vault = Vault(keyring)
    token = _current.set(vault)
    try:
        yield vault
    finally:
        vault.forget()
        _current.reset(token)
