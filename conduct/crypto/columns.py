"""Sealed model attributes: code that may read an encrypted attribute sees a plain value.

A model lists its identifying fields in ``__identifying__`` (name -> codec) and its coded
facts in ``__coded__`` (name -> code list or check). :class:`SealedRow` keeps all identifying
fields of a row in one ``identity`` column, a document sealed with the case's data key, and all
coded facts of a row in one ``coded`` column sealed with the statistics key. Each field is still
read and written as a plain attribute; a row's document is opened once, on the first read of
any of its fields, and only then (a list that never reads an identity never opens a data key).

Values are sealed just before flush (``before_flush``), when the row id and case id are known:
ids are UUIDs made in Python, so the associated data binds each document to its row, its column
and its case. Every field of a new row goes into its document, unset ones as null, and the
document is padded to a multiple of ``IDENTITY_BLOCK`` bytes, so the raw database does not show
which fields are filled in, nor how long any one of them is.

Why one document per row rather than one sealed column per field (measured by
bench/encryption.py): one AES-GCM sealing, one nonce and one 45-byte header per row instead of
one per field, and a row a third of the size; writing is what the service does most, and
SQLite and PostgreSQL write fewer pages. Changing one field reseals the row's document, so a
stored row's document is opened first: an edit costs one more opening.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, MutableMapping
from datetime import date
from functools import cache
from typing import Any, ClassVar

from sqlalchemy import LargeBinary, TypeDecorator, event
from sqlalchemy.orm import Session, mapped_column, object_session
from sqlalchemy.orm.attributes import flag_modified

from .envelope import (
    SealingKey,
    cell_context,
    open_cell,
    open_cells,
    pad,
    row_binding,
    seal_cell,
    unpad,
)
from .errors import IntegrityError
from .vault import Vault, current_vault

IDENTIFYING_BLOCK = 16
IDENTITY_BLOCK = 64
IDENTITY_COLUMN = "identity"
_IDENTITY_ATTR = "identity_sealed"  # the model attribute of the identity column
CODED_BLOCK = 256
CODED_COLUMN = "coded"

# Instance-dict keys. _PENDING holds identifying values set since the last flush; _IDENTITY
# the opened document's plain values, valid while _IDENTITY_OF is the sealed token on the
# row, so a resealed or reloaded row is opened again. _CODED and _CODED_OF do the same for
# coded facts. Values and tokens are kept under keys of their own, not paired in a tuple: a
# row lives until its transaction commits, and one container fewer per row, for thousands of
# rows, is fewer passes of the garbage collector.
_PENDING = "_conduct_pending"
_IDENTITY = "_conduct_identity"
_IDENTITY_OF = "_conduct_identity_of"
_BINDING = "_conduct_binding"
_CODED = "_conduct_coded"
_CODED_OF = "_conduct_coded_of"
_CODED_DIRTY = "_conduct_coded_dirty"

_NONE, _TEXT, _DATE, _INT = b"\x00", b"\x01", b"\x02", b"\x03"

# One encoder for every row (json.dumps with options builds a new encoder on each call). Keys
# come out sorted because _seal_coded builds each document in sorted order (_coded_names).
_CODED_JSON = json.JSONEncoder(separators=(",", ":"))
# Identity documents keep accented names as UTF-8 (French names, two bytes rather than six).
_IDENTITY_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class SealedBytes(TypeDecorator):
    """A sealed value or a blind index: bytes handed to the driver as they are.

    Both drivers take ``bytes`` for a binary column; skipping the generic binary wrapper on
    every bound value is a measurable part of writing a sealed row.
    """

    impl = LargeBinary
    cache_ok = True

    def bind_processor(self, dialect):
        return None


def store_column(obj, attribute: str, token, is_new: bool) -> None:
    """Put a sealed value on the row.

    A new row is inserted whole from its instance dict and needs no change history, so the
    value goes straight into the dict (what ``set_committed_value`` does, without its
    bookkeeping for loaded rows); a stored row needs the history, so its UPDATE names the
    column.
    """
    if is_new:
        obj.__dict__[attribute] = token
    else:
        setattr(obj, attribute, token)


class Codec:
    """How a Python value of an identifying field is written and read back.

    ``dump`` and ``load`` give its form in an identity document (JSON); ``encode`` and
    ``decode`` its bytes in a cell of its own, the form of the revisions before documents
    (data migrations read and write that form).
    """

    def __init__(
        self,
        kind: type,
        tag: bytes,
        encode: Callable,
        decode: Callable,
        dump: Callable | None = None,
        load: Callable | None = None,
    ):
        self.kind, self.tag, self._encode, self._decode = kind, tag, encode, decode
        self.dump, self.load = dump, load

    def check(self, name: str, value: Any) -> None:
        if value is not None and not isinstance(value, self.kind):
            raise TypeError(f"{name} takes {self.kind.__name__}, not {type(value).__name__}")

    def encode(self, value: Any) -> bytes:
        return _NONE if value is None else self.tag + self._encode(value)

    def decode(self, data: bytes) -> Any:
        tag = data[:1]
        if tag == _NONE:
            return None
        if tag != self.tag:
            raise IntegrityError("a sealed value holds another kind of data than its column")
        return self._decode(data[1:])


# Text and integers are JSON values as they are (no dump or load); a date is ISO text.
TEXT = Codec(str, _TEXT, str.encode, bytes.decode)
DATE = Codec(
    date,
    _DATE,
    lambda d: d.isoformat().encode(),
    lambda b: date.fromisoformat(b.decode()),
    date.isoformat,
    date.fromisoformat,
)
INTEGER = Codec(int, _INT, lambda n: str(n).encode(), lambda b: int(b.decode()))


class IdentifyingField:
    """Descriptor over one identifying field inside the row's sealed ``identity`` document."""

    def __init__(self, name: str, codec: Codec):
        self.name = name
        self.codec = codec

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        pending = obj.__dict__.get(_PENDING)
        if pending and self.name in pending:
            return pending[self.name]
        return identity_values(obj).get(self.name)

    def __set__(self, obj, value) -> None:
        self.codec.check(self.name, value)
        pending = obj.__dict__.get(_PENDING)
        if pending is None:
            pending = obj.__dict__[_PENDING] = {}
        pending[self.name] = value
        _mark_changed(obj, _IDENTITY_ATTR)


def identity_values(obj) -> dict[str, Any]:
    """The identifying fields of a stored row, opened once per row with its case's data key
    (empty for a row not sealed yet). Raises ShreddedError when the case's key is gone."""
    state = obj.__dict__
    token = state.get(_IDENTITY_ATTR) or obj.identity_sealed
    values = state.get(_IDENTITY)
    if values is not None and state.get(_IDENTITY_OF) is token:
        return values
    if token is None:
        return {}
    _, _, case_id, binding = _reading_binding(obj, state)
    vault = current_vault()
    key = vault.loaded_data_key(case_id) or vault.data_key(_session_of(obj), case_id)
    cls = type(obj)
    values = _open_identity(key, cls.__tablename__, cls.__identifying__, token, binding)
    state[_IDENTITY_OF] = token
    state[_IDENTITY] = values
    return values


def _seal_identity(
    key: SealingKey, table: str, codecs: Mapping[str, Codec], values, binding: bytes
) -> bytes:
    """A row's identity document sealed for the row named by ``binding``."""
    plaintext = pad(_dump_identity(codecs, values), IDENTITY_BLOCK)
    return seal_cell(key, plaintext, _identity_context(table) + binding)


def _open_identity(
    key: SealingKey, table: str, codecs: Mapping[str, Codec], token, binding: bytes
) -> dict[str, Any]:
    plain = open_cell(key, bytes(token), _identity_context(table) + binding)
    return _load_identity(codecs, unpad(plain))


def _dump_identity(codecs: Mapping[str, Codec], values: Mapping[str, Any]) -> bytes:
    """A row's identity document: every field of the model, in its declared order."""
    document = {}
    for name, codec in codecs.items():
        value = values.get(name)
        document[name] = value if value is None or codec.dump is None else codec.dump(value)
    return _IDENTITY_JSON.encode(document).encode()


def _load_identity(codecs: Mapping[str, Codec], document: bytes) -> dict[str, Any]:
    stored = json.loads(document)
    if not isinstance(stored, dict):
        raise IntegrityError("a sealed identity document is not a document")
    values = {}
    for name, codec in codecs.items():
        value = stored.get(name)
        if value is not None and codec.load is not None:
            value = codec.load(value)
        values[name] = value
    return values


@cache
def _identity_context(table: str) -> bytes:
    return cell_context(table, IDENTITY_COLUMN)


def seal_identity_document(
    vault: Vault,
    session: Session,
    table: str,
    codecs: Mapping[str, Codec],
    values: Mapping[str, Any],
    row_id: uuid.UUID,
    case_id: uuid.UUID,
) -> bytes:
    """The sealed ``identity`` column of one row, for code below the models (data
    migrations); ``codecs`` are the row's fields as the model declares them.
    Raises ShreddedError when the case's data key is gone."""
    key = vault.data_key(session, case_id)
    return _seal_identity(key, table, codecs, values, row_binding(row_id, case_id))


def open_identity_document(
    vault: Vault,
    session: Session,
    table: str,
    codecs: Mapping[str, Codec],
    token: bytes,
    row_id: uuid.UUID,
    case_id: uuid.UUID,
) -> dict[str, Any]:
    """The plain fields of an ``identity`` column sealed as :func:`seal_identity_document`."""
    key = vault.data_key(session, case_id)
    return _open_identity(key, table, codecs, token, row_binding(row_id, case_id))


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
        state = obj.__dict__
        if state.get(_CODED_DIRTY):
            # Already a private copy, not yet sealed: change it in place.
            state[_CODED][self.name] = value
        else:
            facts = dict(coded_facts(obj))
            facts[self.name] = value
            state[_CODED] = facts
            state[_CODED_DIRTY] = True
        _mark_changed(obj, "coded_sealed")


def member_of(codes: Mapping[str, str]) -> Callable[[str, Any], None]:
    known = _known_codes(codes)

    def check(name: str, value: Any) -> None:
        if value not in known:
            raise ValueError(f"{name}: {value!r} is not a known code")

    return check


def list_of(codes: Mapping[str, str]) -> Callable[[str, Any], None]:
    known = _known_codes(codes)

    def check(name: str, value: Any) -> None:
        if not isinstance(value, list) or any(item not in known for item in value):
            raise ValueError(f"{name}: expected a list of known codes")

    return check


def _known_codes(codes: Mapping[str, str]) -> Container[str]:
    """A read-only code list as a set (a Mapping's ``in`` is slow); a mutable one as is."""
    return codes if isinstance(codes, MutableMapping) else frozenset(codes)


def coded_facts(obj) -> dict[str, Any]:
    """All coded facts of a row, opened once per row with the statistics key."""
    state = obj.__dict__
    facts = state.get(_CODED)
    if state.get(_CODED_DIRTY):
        return facts
    token = state.get("coded_sealed") or obj.coded_sealed
    if facts is not None and state.get(_CODED_OF) is token:
        return facts
    if token is None:
        facts: dict[str, Any] = {}
    else:
        binding = _reading_binding(obj, state)[3]
        facts = _open_coded_cell(current_vault(), obj.__tablename__, bytes(token), binding)
    state[_CODED_OF] = token
    state[_CODED] = facts
    return facts


def open_coded(
    vault: Vault, table: str, token: bytes, row_id: uuid.UUID, case_id: uuid.UUID
) -> dict[str, Any]:
    """Open a row's coded facts with the statistics key alone (statistics use this)."""
    return _open_coded_cell(vault, table, token, row_binding(row_id, case_id))


def seal_identifying_value(
    vault: Vault,
    session: Session,
    table: str,
    column: str,
    value: Any,
    row_id: uuid.UUID,
    case_id: uuid.UUID,
    codec: Codec = TEXT,
) -> bytes:
    """The sealed token of one identifying field in a column of its own, the form of the
    revisions before identity documents (data migrations that run before revision 0006).
    Raises ShreddedError when the case's data key is gone."""
    codec.check(column, value)
    key = vault.data_key(session, case_id)
    plaintext = pad(codec.encode(value), IDENTIFYING_BLOCK)
    return seal_cell(key, plaintext, cell_context(table, column) + row_binding(row_id, case_id))


def open_identifying_value(
    vault: Vault,
    session: Session,
    table: str,
    column: str,
    token: bytes,
    row_id: uuid.UUID,
    case_id: uuid.UUID,
    codec: Codec = TEXT,
) -> Any:
    """The plain value of one identifying cell sealed as :func:`seal_identifying_value` does."""
    key = vault.data_key(session, case_id)
    plain = open_cell(key, bytes(token), cell_context(table, column) + row_binding(row_id, case_id))
    return codec.decode(unpad(plain))


def open_coded_document(vault: Vault, table: str, token: bytes, binding: bytes) -> bytes:
    """A row's coded facts as their sealed JSON document (canonical: sorted keys, no spaces),
    for callers that hold the row's binding (row id bytes then case id bytes, as
    :func:`~conduct.crypto.envelope.row_binding` makes) and test a few facts over many rows
    before decoding any: see :func:`coded_fact_pattern`."""
    plain = open_cell(vault.statistics_key, token, _coded_context(table) + binding)
    return unpad(plain)


def open_padded_coded_documents(vault: Vault, table: str, cells) -> Iterator[bytes]:
    """Many rows' coded documents (``(binding, token)`` cells of one table), opened with the
    statistics key and with the padding left on, for callers that only look for
    :func:`coded_fact_pattern` in each document: a pattern is ASCII ending in a quote, so it
    cannot run into the padding, and not removing it saves a copy per row."""
    return open_cells(vault.statistics_key, _coded_context(table), cells)


def coded_fact_pattern(name: str, value: str) -> bytes:
    """The exact bytes ``"name":"value"`` of one fact inside a coded document."""
    return _CODED_JSON.encode({name: value})[1:-1].encode()


def decode_coded_document(document: bytes) -> dict[str, Any]:
    return json.loads(document.decode())


def _open_coded_cell(vault: Vault, table: str, token: bytes, binding: bytes) -> dict[str, Any]:
    plain = open_cell(vault.statistics_key, token, _coded_context(table) + binding)
    # Documents are ASCII JSON (see _CODED_JSON): decoding here spares json its encoding sniff.
    return json.loads(unpad(plain).decode())


@cache
def _coded_context(table: str) -> bytes:
    return cell_context(table, CODED_COLUMN)


def _seal_coded(vault: Vault, obj, binding: bytes, is_new: bool = False) -> None:
    facts = coded_facts(obj)
    document = _CODED_JSON.encode({name: facts.get(name) for name in _coded_names(type(obj))})
    token = seal_cell(
        vault.statistics_key,
        pad(document.encode(), CODED_BLOCK),
        _coded_context(obj.__tablename__) + binding,
    )
    store_column(obj, "coded_sealed", token, is_new)
    state = obj.__dict__
    state[_CODED_OF] = token
    state[_CODED] = facts
    state[_CODED_DIRTY] = False


@cache
def _coded_names(cls: type) -> tuple[str, ...]:
    """A model's coded facts in sorted order: the order of the keys in its sealed document."""
    return tuple(sorted(cls.__coded__))


def _reading_binding(obj, state: dict[str, Any]) -> tuple[Any, Any, uuid.UUID, bytes]:
    """``(id, case_id, sealing case id, row binding)`` to open a stored row's values with.

    Made once per row and kept on the instance (ids are no secret); used again only while the
    row's ``id`` and ``case_id`` are the very objects it was made from. Sealing never uses it:
    it binds to the ids of the moment. A stale binding could only make a value fail to open,
    never open it as another cell's."""
    cached = state.get(_BINDING)
    if cached is not None and cached[0] is state.get("id") and cached[1] is state.get("case_id"):
        return cached
    sealing_case_id = obj.sealing_case_id
    binding = row_binding(obj.id, sealing_case_id)
    cached = state[_BINDING] = (
        state.get("id"),
        state.get("case_id"),
        sealing_case_id,
        binding,
    )
    return cached


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
        identifying = cls.__dict__.get("__identifying__")
        if identifying:
            cls.identity_sealed = mapped_column(IDENTITY_COLUMN, SealedBytes, nullable=False)
            for name, codec in identifying.items():
                setattr(cls, name, IdentifyingField(name, codec))
        coded = cls.__dict__.get("__coded__")
        if coded:
            cls.coded_sealed = mapped_column(CODED_COLUMN, SealedBytes, nullable=False)
            for name, check in coded.items():
                setattr(cls, name, CodedField(name, check))
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs):
        """Take sealed fields straight into the pending values and coded facts of the new row
        (checked as the descriptors check them); the rest go to the model's constructor.
        Rows are built by the thousand in imports and seeding: this skips a descriptor call
        and its change tracking per field, which a row not yet in a session does not need."""
        cls = type(self)
        identifying, coded = cls.__identifying__, cls.__coded__
        pending, facts, rest = {}, {}, {}
        for name, value in kwargs.items():
            codec = identifying.get(name)
            if codec is not None:
                if value is not None and type(value) is not codec.kind:
                    codec.check(name, value)  # a subclass passes; anything else raises
                pending[name] = value
            elif name in coded:
                if value is not None:
                    coded[name](name, value)
                facts[name] = value
            else:
                rest[name] = value
        state = self.__dict__
        if pending:
            state[_PENDING] = pending
        if facts:
            state[_CODED] = facts
            state[_CODED_DIRTY] = True
        super().__init__(**rest)

    @property
    def sealing_case_id(self) -> uuid.UUID:
        if self.__owns_data_key__:
            return self.id
        case_id = self.case_id or (self.case.id if self.case is not None else None)
        if case_id is None:
            raise ValueError(f"a {type(self).__name__} must belong to a case before it is saved")
        return case_id

    def after_sealing(
        self, vault: Vault, values: Mapping[str, Any], changed: Container[str], is_new: bool
    ) -> None:
        """Hook for derived values (blind indexes) once identifying fields are sealed.

        ``values`` are the row's identifying fields as just sealed (a field missing from it is
        None); ``changed`` names those that changed on a stored row (on a new row, every
        derived column is due). Store derived columns with :func:`store_column`.
        """

    def _seal_pending(self, session: Session, vault: Vault, is_new: bool) -> None:
        cls = type(self)
        pending = self.__dict__.pop(_PENDING, None)
        identity = bool(cls.__identifying__) and (is_new or bool(pending))
        coded = cls.__coded__ and (is_new or self.__dict__.get(_CODED_DIRTY))
        if not identity and not coded:
            return
        case_id = self.sealing_case_id
        binding = row_binding(self.id, case_id)
        if identity:
            if is_new:
                # A field not given is null in the document. A new row flushed again after a
                # rollback (its pending values already taken) keeps the values it was sealed
                # with, which its instance still holds.
                values = changed = pending if pending is not None else identity_values(self)
            else:  # the other fields come from the stored document
                values, changed = {**identity_values(self), **pending}, pending
            key = vault.data_key(session, case_id)
            token = _seal_identity(key, cls.__tablename__, cls.__identifying__, values, binding)
            store_column(self, _IDENTITY_ATTR, token, is_new)
            self.__dict__[_IDENTITY_OF] = token
            self.__dict__[_IDENTITY] = values
        if coded:
            _seal_coded(vault, self, binding, is_new)
        if identity:
            self.after_sealing(vault, values, changed, is_new)


def _cases_to_seal(new: Iterable[SealedRow], dirty: Iterable[SealedRow]) -> set[uuid.UUID]:
    """The cases whose data keys a flush will seal with."""
    cases = {obj.sealing_case_id for obj in new if type(obj).__identifying__}
    cases.update(obj.sealing_case_id for obj in dirty if obj.__dict__.get(_PENDING))
    return cases


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
    # One query unwraps every data key the flush needs, not one query per case.
    vault.preload(session, _cases_to_seal(new, dirty))
    for obj in new:
        obj._seal_pending(session, vault, is_new=True)
    for obj in dirty:
        obj._seal_pending(session, vault, is_new=False)
