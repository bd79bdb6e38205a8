"""What a copy of the database shows: ids, missions and dates, and nothing else that is true.

Every identifying column of every sealed model gets a unique canary, every coded fact a real
code; then the raw database (the SQLite file and its WAL, byte for byte, or every cell of every
PostgreSQL table) is searched for them.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from conduct.cases.models import (
    Attachment,
    CaseTransfer,
    Finding,
    InterimMeasure,
    PaternityClaim,
    Person,
    Referral,
    StatusChange,
)
from conduct.core.db import db
from conduct.crypto import DATE, INTEGER, SealedRow
from tests.factories import make_case

# Distinctive code values of coded fields: none may appear anywhere in the raw database.
CODE_VALUES = [
    "substantiated",
    "rape",
    "child",
    "military_contingent",
    "sexual_abuse",
    "community_based_complaint_network",
    "pending_member_state",
    "psychosocial",
    "repatriation",
    "ban_from_future_service",
    "restriction_of_movement",
    "paternity_established",
    "formed_police_unit",
]


def _canary_value(codec, canary: str):
    if codec is DATE:
        return date(1987, 6, 5)
    if codec is INTEGER:
        return 987654321
    return canary


def _fill_identifying(row, canaries: list[str]) -> None:
    for name, codec in type(row).__identifying__.items():
        canary = f"CANARY-{uuid.uuid4().hex}"
        if codec not in (DATE, INTEGER):
            canaries.append(canary)
        setattr(row, name, _canary_value(codec, canary))


def write_everything() -> list[str]:
    """One row of every sealed model, every identifying field a canary; returns the canaries."""
    canaries: list[str] = []
    case = make_case(
        status="pending_member_state",
        category="sexual_abuse",
        allegation_type="rape",
        source="community_based_complaint_network",
        misconduct_class="1",
        incident_date="2025-11",
    )
    _fill_identifying(case, canaries)
    victim = Person(case=case, role="victim", sex="female", age_group="child")
    subject = Person(
        case=case, role="subject", personnel_category="military_contingent", nationality="BGD"
    )
    police = Person(case=case, role="subject", personnel_category="formed_police_unit")
    rows: list[SealedRow] = [
        victim,
        subject,
        police,
        Referral(
            case=case,
            entity="psychosocial",
            purpose="psychosocial",
            status="sent",
            consent="override",
            referred_on=date(2026, 3, 3),
        ),
        StatusChange(case=case, from_status="under_investigation", to_status="substantiated"),
        InterimMeasure(
            case=case, person_id=subject.id, type="restriction_of_movement", started_on=date.today()
        ),
        Finding(
            case=case,
            person_id=subject.id,
            finding="substantiated",
            actions=["repatriation", "ban_from_future_service"],
            decided_by="tcc_pcc_nio",
        ),
        PaternityClaim(case=case, status="paternity_established", filed_on=date(2026, 4, 1)),
        CaseTransfer(case=case, from_mission="MINUSCA", to_mission="MONUSCO"),
        Attachment(case=case),
    ]
    for row in rows:
        _fill_identifying(row, canaries)
    db.session.add_all(rows)
    db.session.flush()
    covered = {type(row) for row in rows} | {type(case)}
    assert covered == {cls for cls in _sealed_models()}, "a sealed model is not covered"
    return canaries


def _sealed_models() -> set[type]:
    return {
        mapper.class_
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, SealedRow)
        and (mapper.class_.__identifying__ or mapper.class_.__coded__)
    }


def _raw_sqlite_bytes(database_url: str) -> bytes:
    path = Path(database_url.removeprefix("sqlite:///"))
    data = path.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = Path(str(path) + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data


def _raw_postgres_cells() -> bytes:
    """Every cell of every table, as the bytes PostgreSQL hands out."""
    chunks = []
    connection = db.session.connection()
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):
            for cell in row:
                if isinstance(cell, bytes | memoryview):
                    chunks.append(bytes(cell))
                elif cell is not None:
                    chunks.append(str(cell).encode())
    return b"\x00".join(chunks)


def test_no_canary_and_no_code_value_in_the_raw_database(work, database_url):
    with work():
        canaries = write_everything()
    assert len(canaries) >= 15
    with work():
        if database_url.startswith("sqlite"):
            raw = _raw_sqlite_bytes(database_url)
        else:
            raw = _raw_postgres_cells()
    assert len(raw) > 1000
    for canary in canaries:
        assert canary.encode() not in raw, "an identifying value is in the raw database"
        assert canary.encode("utf-16-le") not in raw
    for code in CODE_VALUES:
        assert code.encode() not in raw, f"the code {code!r} is in the raw database"


def test_the_search_would_find_a_plaintext(work, database_url):
    """Guard for the test above: a value written in plain is found by the same search."""
    with work():
        db.session.execute(
            text("UPDATE missions SET name = 'CANARY-plain rape' WHERE code = 'UNDOF'")
        )
    with work():
        raw = (
            _raw_sqlite_bytes(database_url)
            if database_url.startswith("sqlite")
            else _raw_postgres_cells()
        )
    assert b"CANARY-plain" in raw and b"rape" in raw


@pytest.mark.parametrize("model", sorted(_sealed_models(), key=lambda cls: cls.__name__))
def test_every_non_key_column_is_sealed_or_plain_by_design(model):
    """Each column is plain (ids, missions, dates, version, timestamps) or sealed."""
    sealed = {"identity", "coded"}
    plain_ok = {"id", "case_id", "person_id", "reference", "mission_code", "version"}
    plain_ok |= {"created_at", "updated_at", "created_by", "by_user_id", "uploaded_by", "at"}
    plain_ok |= {"from_mission", "to_mission", "personnel_number_index", "name_dob_index"}
    for column in model.__table__.columns:
        if column.name in sealed or column.name in plain_ok:
            continue
        assert column.name.endswith("_on"), f"{model.__name__}.{column.name} is plain"
