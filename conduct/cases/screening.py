"""Screening: does this person have a substantiated SEA record? Yes or no, nothing more.

Persons are found by blind index (a keyed HMAC of the normalised identifier), so the database is
searched by equality without decrypting any identity. Whether a candidate is a subject, and
whether a finding on them is substantiated, is read from coded facts opened with the statistics
key: no case's data key is ever unwrapped here. A shredded case has its index values cleared,
so it no longer answers.

The same index lets a case team see the other cases of their scope in which one of their
persons appears as a subject (:func:`other_cases_in_scope`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select

from conduct.audit import record
from conduct.core.db import db
from conduct.core.errors import Forbidden, ValidationFailed
from conduct.core.permissions import has_permission
from conduct.crypto import current_vault, open_coded

from .access import can_see_identities
from .models import Case, CaseRecusal, Finding, Person

NAME_FIELDS = ("full_name", "date_of_birth")
ONE_FORM = "give a personnel number, or a full name and a date of birth"


def screen(
    actor,
    *,
    personnel_number: str | None = None,
    full_name: str | None = None,
    date_of_birth: date | None = None,
) -> bool:
    """True only when a subject found by this identifier has a substantiated finding.

    Exactly one identifier form: a personnel number, or a full name with a date of birth. The
    audit event names the form used; it holds neither the identifier nor the answer.
    """
    if not has_permission(actor, "screening:query"):
        raise Forbidden("screening is for vetting officers")
    kind, column, index = _index_for(personnel_number, full_name, date_of_birth)
    subjects = _subject_ids(db.session.execute(_candidates(column == index)))
    match = _any_substantiated(subjects)
    record("screening.query", actor=actor, object_type="screening", fields=kind)
    db.session.flush()
    return match


def other_cases_in_scope(actor, person: Person) -> list[str]:
    """References of other cases the actor may open where this person appears as a subject.

    For the case team of ``person``'s case. Candidates are found by equality of either blind
    index; only their coded facts (the role) are opened. Cases outside the actor's missions,
    or that the actor is recused from, are left out.
    """
    if not can_see_identities(actor, person.case):
        raise Forbidden("only the case team sees other cases of a person", case=person.case)
    conditions = [
        column == value
        for column, value in (
            (Person.personnel_number_index, person.personnel_number_index),
            (Person.name_dob_index, person.name_dob_index),
        )
        if value is not None
    ]
    references: set[str] = set()
    if conditions:
        statement = (
            _candidates(or_(*conditions))
            .add_columns(Case.reference)
            .join(Case, Case.id == Person.case_id)
            .where(
                Person.case_id != person.case_id,
                Case.mission_code.in_(list(getattr(actor, "missions", ()))),
                ~Person.case_id.in_(
                    select(CaseRecusal.case_id).where(CaseRecusal.user_id == actor.id)
                ),
            )
        )
        references = {row.reference for row in db.session.execute(statement) if _is_subject(row)}
    record(
        "person.other_cases",
        actor=actor,
        object_type="person",
        object_id=person.id,
        case=person.case,
        fields=["other_cases"],
    )
    db.session.flush()
    return sorted(references)


def _index_for(
    personnel_number: str | None, full_name: str | None, date_of_birth: date | None
) -> tuple[list[str], object, bytes]:
    """The identifier kind (as audit field names), the index column and the value to look up."""
    _check_one_form(personnel_number, full_name, date_of_birth)
    indexer = current_vault().blind_indexer
    if personnel_number is not None:
        kind, column = ["personnel_number"], Person.personnel_number_index
        index = indexer.personnel_number(personnel_number)
    else:
        kind, column = list(NAME_FIELDS), Person.name_dob_index
        index = indexer.name_dob(full_name, date_of_birth)
    if index is None:
        # Nothing left after normalisation (only spaces or punctuation).
        raise ValidationFailed.of({kind[0]: ["holds no letter or digit"]})
    return kind, column, index


def _check_one_form(
    personnel_number: str | None, full_name: str | None, date_of_birth: date | None
) -> None:
    """Refuse, naming the fields, anything but exactly one complete identifier form."""
    values = {
        "personnel_number": personnel_number,
        "full_name": full_name,
        "date_of_birth": date_of_birth,
    }
    given = {name for name, value in values.items() if value is not None}
    if given in ({"personnel_number"}, set(NAME_FIELDS)):
        return
    if not given:
        problems = {name: [ONE_FORM] for name in values}
    elif "personnel_number" in given:
        problems = {name: ["give one identifier form, not both"] for name in given}
    else:
        problems = {name: [f"required with {given.pop()}"] for name in set(NAME_FIELDS) - given}
    raise ValidationFailed.of(problems)


def _candidates(condition):
    """Ids, case ids and sealed coded facts of the persons matching ``condition``."""
    return select(Person.id, Person.case_id, Person.coded_sealed).where(condition)


def _is_subject(row) -> bool:
    facts = open_coded(current_vault(), "persons", bytes(row.coded_sealed), row.id, row.case_id)
    return facts.get("role") == "subject"


def _subject_ids(rows: Iterable) -> list[uuid.UUID]:
    return [row.id for row in rows if _is_subject(row)]


def _any_substantiated(person_ids: list[uuid.UUID]) -> bool:
    """Whether any finding on these persons is ``substantiated`` (coded facts only)."""
    if not person_ids:
        return False
    vault = current_vault()
    rows = db.session.execute(
        select(Finding.id, Finding.case_id, Finding.coded_sealed).where(
            Finding.person_id.in_(person_ids)
        )
    )
    return any(
        open_coded(vault, "findings", bytes(row.coded_sealed), row.id, row.case_id).get("finding")
        == "substantiated"
        for row in rows
    )
