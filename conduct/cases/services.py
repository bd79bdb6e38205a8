"""Case services. Each takes the acting user, changes state, records the audit event, flushes.

None of them commits: the request (or ``unit_of_work``) commits once, so a change and its
audit event stand or fall together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from conduct.audit import record
from conduct.core.db import db, upsert
from conduct.core.errors import (
    Forbidden,
    NotFound,
    OutOfScope,
    ValidationFailed,
    VersionConflict,
)
from conduct.core.missions import Mission
from conduct.core.permissions import has_permission
from conduct.crypto import current_vault
from conduct.crypto.models import DataKey

from . import attachment_files
from .access import can_change_case, can_see_identities, in_scope, is_recused
from .generation import only_cases
from .models import Case, CaseTeamMember, Person, ReferenceCounter
from .schemas import shown_fields

CASE_FIELDS = (
    "narrative",
    "location",
    "notes",
    "source",
    "category",
    "allegation_type",
    "status",
    "misconduct_class",
    "incident_date",
)
PERSON_FIELDS = (
    "role",
    "full_name",
    "aliases",
    "date_of_birth",
    "personnel_number",
    "national_id",
    "contact",
    "sex",
    "age_group",
    "personnel_category",
    "nationality",
)


def allocate_reference(session: Session, mission_code: str, year: int) -> str:
    """The next ``MISSION-YYYY-NNNN`` for a mission and year, taken under a row lock."""
    return allocate_references(session, mission_code, year, 1)[0]


def allocate_references(session: Session, mission_code: str, year: int, count: int) -> list[str]:
    """``count`` consecutive references for a mission and year, in one statement.

    One atomic upsert: PostgreSQL locks the counter row until the transaction ends; SQLite
    transactions here always begin IMMEDIATE, so only one writer runs at a time.
    """
    statement = (
        upsert(ReferenceCounter, session)
        .values(mission_code=mission_code, year=year, last_number=count)
        .on_conflict_do_update(
            index_elements=["mission_code", "year"],
            set_={"last_number": ReferenceCounter.last_number + count},
        )
        .returning(ReferenceCounter.last_number)
    )
    last = session.execute(statement).scalar_one()
    return [f"{mission_code}-{year}-{number:04d}" for number in range(last - count + 1, last + 1)]


def _assign(target, values: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
    """Set the given fields; a bad code becomes a 400 naming the field. Returns names set."""
    problems: dict[str, list[str]] = {}
    for name, value in values.items():
        if name not in allowed:
            problems[name] = [gettext("unknown field")]
            continue
        try:
            setattr(target, name, value)
        except (TypeError, ValueError) as error:
            problems[name] = [str(error).split(": ", 1)[-1]]
    if problems:
        raise ValidationFailed.of(problems)
    return sorted(values)


def open_case(
    actor, mission_code: str, received_on: date, fields: Mapping[str, Any] | None = None
) -> Case:
    """Record a new report: allocate its reference, seal its fields, audit the creation."""
    session = db.session
    if session.get(Mission, mission_code) is None:
        raise ValidationFailed(
            gettext("unknown mission"), {"mission": [gettext("unknown mission code")]}
        )
    values = {"status": "received", **dict(fields or {})}
    case = Case(
        reference=allocate_reference(session, mission_code, received_on.year),
        mission_code=mission_code,
        received_on=received_on,
        created_by=getattr(actor, "id", None),
    )
    names = _assign(case, values, CASE_FIELDS)
    if actor is not None:
        case.team.append(CaseTeamMember(user_id=actor.id))
    session.add(case)
    session.flush()
    record(
        "case.create",
        actor=actor,
        object_type="case",
        object_id=case.id,
        case=case,
        fields=["mission", "received_on", *names],
    )
    return case


def create_case(actor, data: Mapping[str, Any]) -> Case:
    """An officer records a new report in one of their missions; they join its team."""
    values = dict(data)
    mission, received_on = values.pop("mission"), values.pop("received_on")
    if mission not in getattr(actor, "missions", ()):
        raise ValidationFailed.of({"mission": [gettext("not one of your missions")]})
    return open_case(actor, mission, received_on, values)


def update_case(actor, case: Case, version: int, changes: Mapping[str, Any]) -> list[str]:
    """Change a case's own fields, if ``version`` is still current (else 409). Audited.

    Only the case team changes a case (403 for other officers of the mission).
    """
    check_may_change(actor, case)
    if version != case.version:
        raise VersionConflict(
            gettext(
                "the case changed since you read it (you sent version %(sent)s, it is now "
                "version %(current)s): reload it and apply your change again",
                sent=version,
                current=case.version,
            ),
            {"version": [gettext("stale: current version is %(current)s", current=case.version)]},
            case=case,
        )
    editable = tuple(name for name in CASE_FIELDS if name != "status")
    names = _assign(case, changes, editable)
    if names:
        db.session.flush()
        record(
            "case.update",
            actor=actor,
            object_type="case",
            object_id=case.id,
            case=case,
            fields=names,
        )
    return names


def add_person(actor, case: Case, fields: Mapping[str, Any]) -> Person:
    """Link a person to a case with a role; identities sealed with the case's data key."""
    person = Person(case=case)
    names = _assign(person, fields, PERSON_FIELDS)
    db.session.add(person)
    db.session.flush()
    record(
        "person.create",
        actor=actor,
        object_type="person",
        object_id=person.id,
        case=case,
        fields=names,
    )
    return person


def find_case(actor, reference: str) -> Case:
    """The case with this reference if the actor may open it; 404 when absent or out of scope.

    A case of another mission answers exactly like a missing one, and is audited as a denial
    on the mission rule; a recused officer is told so. Both refusals are audited with the
    case's ids, for the auditors' "outside the user's missions" flag.
    """
    case = case_by_reference(reference) if len(reference) <= 32 else None
    if case is None:
        raise NotFound(gettext("no such case"))
    if not in_scope(actor, case) or not has_permission(actor, "case:read"):
        raise OutOfScope(gettext("no such case"), case=case)
    if is_recused(actor, case):
        raise Forbidden(gettext("you are recused from this case"), case=case)
    return case


def find_case_to_change(actor, reference: str) -> Case:
    """:func:`find_case`, then the team rule: only the case team changes a case (403)."""
    case = find_case(actor, reference)
    check_may_change(actor, case)
    return case


def check_may_change(actor, case: Case) -> None:
    if not can_change_case(actor, case):
        raise Forbidden(gettext("only the case team may change the case"), case=case)


def read_case(actor, reference: str) -> tuple[Case, bool]:
    """Open a case for reading; returns it and whether identities may be shown. Audited."""
    case = find_case(actor, reference)
    identities = can_see_identities(actor, case)
    record(
        "case.read",
        actor=actor,
        object_type="case",
        object_id=case.id,
        case=case,
        fields=shown_fields(identities),
    )
    return case, identities


def read_case_to_change(actor, reference: str, fields: list[str]) -> Case:
    """Open a case for one of the team's forms, recording the read of the fields it shows.

    The case team only (403 for other officers), like the change the form leads to.
    """
    case = find_case_to_change(actor, reference)
    record_read(actor, case, fields)
    return case


def record_read(actor, case: Case, fields: list[str]) -> None:
    """Record that these fields of a case (names only) were shown to the actor."""
    record(
        "case.read",
        actor=actor,
        object_type="case",
        object_id=case.id,
        case=case,
        fields=fields,
    )


def user_names(user_ids) -> dict[Any, str]:
    """Display names of the officers who acted on a case (history, transfers)."""
    from conduct.auth.models import User

    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row.id: row.display_name for row in rows}


def shred_case(actor, case: Case, action: str = "case.shred") -> None:
    """Destroy the case's data key: its identifying fields become unreadable for ever.

    Blind-index values of its persons are cleared too, so the case no longer answers screening,
    and the sealed files of its attachments are removed when the transaction commits.
    Coded facts survive (they are sealed with the statistics key), so statistics stay whole.
    ``action`` names the audit event (retention records its own, ``retention.shred``).
    """
    session = db.session
    this_case = only_cases(case.id)  # statistics read again this case alone
    session.execute(delete(DataKey).where(DataKey.case_id == case.id), execution_options=this_case)
    session.execute(
        update(Person)
        .where(Person.case_id == case.id)
        .values(personnel_number_index=None, name_dob_index=None),
        execution_options=this_case,
    )
    attachment_files.remove_case_files(session, case.id)
    current_vault().forget_case(case.id)
    record(action, actor=actor, object_type="case", object_id=case.id, case=case)
    # The statements above bypassed the rows the session holds: reload this case's rows
    # (its key, its persons' indexes), and only this case's, so a batch keeps the others.
    case_id = case.id
    for obj in list(session.identity_map.values()):
        if obj is case or obj.__dict__.get("case_id") == case_id:
            session.expire(obj)


def case_by_reference(reference: str) -> Case | None:
    return db.session.scalars(select(Case).where(Case.reference == reference)).first()
