"""Sealed model attributes: code that may read an encrypted attribute sees a plain value.

A model lists its identifying fields in ``__identifying__`` (name -> codec) and its coded
facts in ``__coded__`` (name -> code list or check). :class:`SealedRow` turns each identifying
field into a ``LargeBinary`` column of the same name, sealed with the case's data key, and all
coded facts of a row into one ``coded`` column sealed with the statistics key, so statistics and
list filters decrypt once per row.

Values are sealed just before flush (``before_flush``), when the row id and case id are known:
ids are UUIDs made in Python, so the associated data can bind each value to its cell. Every
identifying column of a new row is sealed, unset ones as "no value", so the raw database does
not even show which fields are filled in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import LargeBinary, event
from sqlalchemy.orm import Session, mapped_column, object_session
from sqlalchemy.orm.attributes import flag_modified

from .envelope import cell_context, open_sealed, pad, seal, unpad
from .errors import IntegrityError
from .vault import Vault, current_vault

IDENTIFYING_BLOCK = 16
CODED_BLOCK = 256
CODED_COLUMN = "coded"

_PENDING = "_conduct_pending"
_PLAIN = "_conduct_plain"
_CODED = "_conduct_coded"
_CODED_DIRTY = "_conduct_coded_dirty"

_NONE, _TEXT, _DATE, _INT = b"\x00", b"\x01", b"\x02", b"\x03"


class Codec:
    """How a Python value of an identifying field becomes bytes and back."""

    def __init__(self, kind: type, tag: bytes, encode: Callable, decode: Callable):
        self.kind, self.tag, self._encode, self._decode = kind, tag, encode, decode

    def check(self, name: str, value: Any) -> None:
        if value is not None and not isinstance(value, self.kind):
            raise TypeError(f"{name} takes {self.kind.__name__}, not {type(value).__name__}")

    def encode(self, value: Any) -> bytes:
        return _NONE if value is None else self.tag + self._encode(value)

    def decode(self, data: bytes) -> Any:
        tag, body = data[:1], data[1:]
        if tag == _NONE:
            return None
        if tag != self.tag:
            raise IntegrityError("a sealed value holds another kind of data than its column")
        return self._decode(body)


TEXT = Codec(str, _TEXT, str.encode, bytes.decode)
DATE = Codec(
    date, _DATE, lambda d: d.isoformat().encode(), lambda b: date.fromisoformat(b.decode())
)
INTEGER = Codec(int, _INT, lambda n: str(n).encode(), lambda b: int(b.decode()))


class IdentifyingField:
    """Descriptor over a sealed identifying column; reads and writes plain values."""

    def __init__(self, table: str, name: str, codec: Codec):
        self.name = name
        self.codec = codec
        self.column_attr = f"{name}_sealed"
        self.context = cell_context(table, name)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        pending = obj.__dict__.get(_PENDING)
        if pending and self.name in pending:
            return pending[self.name]
        token = getattr(obj, self.column_attr)
        if token is None:
            return None
        cache = obj.__dict__.setdefault(_PLAIN, {})
        hit = cache.get(self.name)
        if hit is not None and hit[0] is token:
            return hit[1]
        key = current_vault().data_key(_session_of(obj), obj.sealing_case_id)
        plain = open_sealed(key, bytes(token), self.context, obj.id, obj.sealing_case_id)
        value = self.codec.decode(unpad(plain))
        cache[self.name] = (token, value)
        return value

    def __set__(self, obj, value) -> None:
        self.codec.check(self.name, value)
        obj.__dict__.setdefault(_PENDING, {})[self.name] = value
        _mark_changed(obj, self.column_attr)

    def seal(self, vault_key, obj, value) -> None:
        token = seal(
            vault_key,
            pad(self.codec.encode(value), IDENTIFYING_BLOCK),
            self.context,
            obj.id,
            obj.sealing_case_id,
        )
        setattr(obj, self.column_attr, token)
        obj.__dict__.setdefault(_PLAIN, {})[self.name] = (token, value)


class CodedField:
    """Descriptor over one coded fact inside the row's sealed ``coded`` column."""

    def __init__(self, name: str, check: Callable[[str, Any], None]):
        self.name = name
        self.check = check

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return coded_facts(obj).get(self.name)

    def __set__(self, obj, value) -> None:
        if value is not None:
            self.check(self.name, value)
        facts = dict(coded_facts(obj))
        facts[self.name] = value
        obj.__dict__[_CODED] = (None, facts)
        obj.__dict__[_CODED_DIRTY] = True
        _mark_changed(obj, "coded_sealed")


def member_of(codes: Mapping[str, str]) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if value not in codes:
            raise ValueError(f"{name}: {value!r} is not a known code")

    return check


def list_of(codes: Mapping[str, str]) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, list) or any(item not in codes for item in value):
            raise ValueError(f"{name}: expected a list of known codes")

    return check


def coded_facts(obj) -> dict[str, Any]:
    """All coded facts of a row, opened once per row with the statistics key."""
    state = obj.__dict__
    hit = state.get(_CODED)
    if state.get(_CODED_DIRTY):
        return hit[1]
    token = obj.coded_sealed
    if hit is not None and hit[0] is token:
        return hit[1]
    if token is None:
        facts: dict[str, Any] = {}
    else:
        facts = open_coded(
            current_vault(), obj.__tablename__, bytes(token), obj.id, obj.sealing_case_id
        )
    state[_CODED] = (token, facts)
    return facts


def open_coded(
    vault: Vault, table: str, token: bytes, row_id: uuid.UUID, case_id: uuid.UUID
) -> dict[str, Any]:
    """Open a row's coded facts with the statistics key alone (statistics use this)."""
    plain = open_sealed(
        vault.statistics_key, token, cell_context(table, CODED_COLUMN), row_id, case_id
    )
    return json.loads(unpad(plain))


def _seal_coded(vault: Vault, obj) -> None:
    spec = type(obj).__coded__
    facts = coded_facts(obj)
    document = json.dumps(
        {name: facts.get(name) for name in spec}, separators=(",", ":"), sort_keys=True
    ).encode()
    obj.coded_sealed = token = seal(
        vault.statistics_key,
        pad(document, CODED_BLOCK),
        cell_context(obj.__tablename__, CODED_COLUMN),
        obj.id,
        obj.sealing_case_id,
    )
    obj.__dict__[_CODED] = (token, facts)
    obj.__dict__[_CODED_DIRTY] = False


def _session_of(obj) -> Session:
    session = object_session(obj)
    if session is None:
        from conduct.core.db import db

        session = db.session
    return session


def _mark_changed(obj, column_attr: str) -> None:
    """Put a persistent row in the session's dirty set when only a sealed field changed."""
    state = getattr(obj, "_sa_instance_state", None)
    if state is not None and state.key is not None:
        getattr(obj, column_attr)
        flag_modified(obj, column_attr)


class SealedRow:
    """Mixin for models with identifying fields and coded facts (see the module docstring)."""

    __identifying__: ClassVar[Mapping[str, Codec]] = {}
    __coded__: ClassVar[Mapping[str, Callable[[str, Any], None]]] = {}
    # The case itself owns a data key; rows of a case use the case's key.
    __owns_data_key__: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        table = cls.__dict__.get("__tablename__")
        for name, codec in cls.__dict__.get("__identifying__", {}).items():
            setattr(cls, f"{name}_sealed", mapped_column(name, LargeBinary, nullable=False))
            setattr(cls, name, IdentifyingField(table, name, codec))
        coded = cls.__dict__.get("__coded__")
        if coded:
            cls.coded_sealed = mapped_column(CODED_COLUMN, LargeBinary, nullable=False)
            for name, check in coded.items():
                setattr(cls, name, CodedField(name, check))
        super().__init_subclass__(**kwargs)

    @property
    def sealing_case_id(self) -> uuid.UUID:
        if self.__owns_data_key__:
            return self.id
        case_id = self.case_id or (self.case.id if self.case is not None else None)
        if case_id is None:
            raise ValueError(f"a {type(self).__name__} must belong to a case before it is saved")
        return case_id

    def after_sealing(self, vault: Vault, changed: set[str]) -> None:
        """Hook for derived values (blind indexes) once identifying fields are sealed."""

    def _seal_pending(self, session: Session, vault: Vault, is_new: bool) -> None:
        pending = self.__dict__.pop(_PENDING, {})
        fields = type(self).__identifying__
        names = set(fields) if is_new else set(pending)
        if names:
            key = vault.data_key(session, self.sealing_case_id)
            for name in names:
                descriptor: IdentifyingField = getattr(type(self), name)
                descriptor.seal(key, self, pending.get(name))
        if type(self).__coded__ and (is_new or self.__dict__.get(_CODED_DIRTY)):
            _seal_coded(vault, self)
        if names:
            self.after_sealing(vault, names)


@event.listens_for(Session, "before_flush")
def _seal_before_flush(session: Session, _context, _instances) -> None:
    new = [obj for obj in session.new if isinstance(obj, SealedRow)]
    dirty = [obj for obj in session.dirty if isinstance(obj, SealedRow)]
    if not new and not dirty:
        return
    vault = current_vault()
    for obj in new:
        if obj.__owns_data_key__:
            vault.create_data_key(session, obj.id)
    for obj in new:
        obj._seal_pending(session, vault, is_new=True)
    for obj in dirty:
        obj._seal_pending(session, vault, is_new=False)
