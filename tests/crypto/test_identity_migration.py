"""Revision 0006 moves identifying fields from a sealed column each into one sealed document per
row, and back on downgrade, without losing or exposing a value."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from conduct.cases import services
from conduct.cases.models import Attachment, Case, Person
from conduct.core.db import db, unit_of_work
from conduct.crypto import ShreddedError, open_vault
from conduct.crypto.columns import open_identifying_value
from tests.factories import make_case, make_person


def _columns(table: str) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns(table)}


def _open_old_columns(table: str, fields: dict, row_id) -> dict:
    """One row's fields as revision 0005 stores them: a sealed column each."""
    old = sa.table(
        table,
        sa.column("id", sa.Uuid()),
        sa.column("case_id", sa.Uuid()),
        *(sa.column(name, sa.LargeBinary()) for name in fields),
    )
    with db.engine.connect() as connection, open_vault() as vault:
        session = Session(bind=connection)
        row = connection.execute(select(old).where(old.c.id == row_id)).one()
        values = {
            name: open_identifying_value(
                vault, session, table, name, getattr(row, name), row.id, row.case_id, codec
            )
            for name, codec in fields.items()
        }
        session.close()
    return values


def test_fields_move_into_documents_and_back(migrated_app):
    with unit_of_work():
        case = make_case(narrative="Récit de la victime", location="Bangui, PK5")
        person = make_person(
            case,
            full_name="Aïcha Ndongo",
            date_of_birth=date(1990, 4, 2),
            contact="+236 70 11 22 33",
        )
        attachment = Attachment(
            case=case, filename="note.pdf", content_type="application/pdf", byte_size=48213
        )
        db.session.add(attachment)
        lost = make_case()
        lost_person = make_person(lost, full_name="Gone Forever")
        ids = (case.id, person.id, attachment.id, lost.id, lost_person.id)
        lost_reference = lost.reference
    with unit_of_work():
        services.shred_case(None, services.case_by_reference(lost_reference))
    case_id, person_id, attachment_id, lost_id, lost_person_id = ids

    downgrade(revision="0005")
    assert "identity" not in _columns("persons") and "full_name" in _columns("persons")
    assert _open_old_columns("persons", Person.__identifying__, person_id) == {
        "full_name": "Aïcha Ndongo",
        "aliases": None,
        "date_of_birth": date(1990, 4, 2),
        "personnel_number": None,
        "national_id": None,
        "contact": "+236 70 11 22 33",
    }
    assert _open_old_columns("attachments", Attachment.__identifying__, attachment_id) == {
        "filename": "note.pdf",
        "content_type": "application/pdf",
        "byte_size": 48213,
        "description": None,
    }

    upgrade()
    assert "identity" in _columns("persons") and "full_name" not in _columns("persons")
    with unit_of_work():
        stored = db.session.get(Case, case_id)
        assert (stored.narrative, stored.location, stored.notes) == (
            "Récit de la victime",
            "Bangui, PK5",
            None,
        )
        stored_person = db.session.get(Person, person_id)
        assert stored_person.full_name == "Aïcha Ndongo"
        assert stored_person.date_of_birth == date(1990, 4, 2)
        assert stored_person.national_id is None
        assert db.session.get(Attachment, attachment_id).byte_size == 48213
        assert db.session.get(Case, lost_id).category == "sexual_abuse"
        with pytest.raises(ShreddedError):
            _ = db.session.get(Person, lost_person_id).full_name


def test_more_rows_than_one_chunk_move_and_come_back(migrated_app):
    from conduct.cases.models import StatusChange

    count = 2_345  # more than two chunks of the revision's 1,000 rows
    with unit_of_work():
        case = make_case()
        db.session.add_all(
            StatusChange(
                case=case, from_status="received", to_status="received", reason=f"step {n}"
            )
            for n in range(count)
        )
        case_id = case.id
    downgrade(revision="0005")
    upgrade()
    with unit_of_work():
        rows = db.session.scalars(select(StatusChange).where(StatusChange.case_id == case_id))
        assert sorted(row.reason for row in rows) == sorted(f"step {n}" for n in range(count))
