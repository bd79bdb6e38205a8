"""Importing cases from a CSV file: checking every row, then writing through the services.

The file is read by :mod:`.import_csv`. Its layout (docs/import.md): one row per case, with
optional columns for one victim, one subject, one witness and one reporter
(``victim_full_name``, ``subject_personnel_number`` ...). Rows sharing a ``case_key`` belong
to one case: its first row carries the case's columns, and each further row adds persons.
Cells are checked with the schemas the API uses, so codes, dates and required fields are
judged the same way; nothing is written until every row has been checked.

Problems name a line of the file and a column, never a value: this output ends up in
terminals and logs, where no identity or coded fact may appear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import select

from conduct.audit import record
from conduct.auth.services import find_user, normalise_email
from conduct.core.db import db
from conduct.core.errors import Forbidden
from conduct.core.missions import Mission
from conduct.core.permissions import has_permission

from . import items, services
from .import_csv import (
    CASE_COLUMNS,
    KEY_COLUMN,
    PERSON_COLUMNS,
    PERSON_ROLES,
    ImportFile,
    Problem,
    Row,
)
from .models import Case, Person
from .schemas import CaseCreateSchema, PersonCreate

# marshmallow's wording, made to say what to do in a spreadsheet.
_PLAINER = {
    "Missing data for required field.": "required (the cell is empty)",
    "Not a valid date.": "not a valid date: use YYYY-MM-DD",
}

Progress = Callable[[int], None]


class ImportRefused(Forbidden):
    """The account named to act may not import these cases; ``actor`` is it, when found."""

    def __init__(self, message: str, actor=None):
        super().__init__(message)
        self.actor = actor


@dataclass
class PlannedCase:
    """A case as the file describes it, checked: ``data`` for the case, ``persons`` to add."""

    lines: list[int]
    data: dict[str, Any] = field(default_factory=dict)
    persons: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.lines[0]

    @property
    def is_valid(self) -> bool:
        return not self.problems


@dataclass
class ImportPlan:
    rows: int
    cases: list[PlannedCase]

    @property
    def valid_cases(self) -> list[PlannedCase]:
        return [case for case in self.cases if case.is_valid]

    @property
    def problems(self) -> list[Problem]:
        found = [problem for case in self.cases for problem in case.problems]
        return sorted(found, key=lambda problem: problem.line)

    @property
    def invalid_rows(self) -> int:
        return len({problem.line for problem in self.problems})

    @property
    def missions(self) -> set[str]:
        return {case.data["mission"] for case in self.cases if "mission" in case.data}


# Checking the rows


def plan_import(file: ImportFile, progress: Progress | None = None) -> ImportPlan:
    """Group the rows into cases and check every cell; nothing is written.

    Without a ``case_key`` column each row is a case; with it, rows sharing a key are one.
    """
    known_missions = set(db.session.scalars(select(Mission.code)))
    keyed = KEY_COLUMN in file.columns
    groups: dict[tuple[str, Any], list[Row]] = {}
    for row in file.rows:
        key = row.cells.get(KEY_COLUMN)
        if keyed and key is None:
            row.problems.append(Problem(row.line, KEY_COLUMN, "required (the cell is empty)"))
        groups.setdefault(("key", key) if key else ("line", row.line), []).append(row)
    # One schema of each for the whole file: building a schema costs more than a load.
    schemas = _Schemas(CaseCreateSchema(), PersonCreate(), known_missions)
    cases = []
    for group in groups.values():
        cases.append(_plan_case(group, schemas))
        if progress is not None:
            progress(len(group))
    return ImportPlan(rows=len(file.rows), cases=cases)


@dataclass(frozen=True)
class _Schemas:
    case: Schema
    person: Schema
    missions: set[str]


def _plan_case(rows: list[Row], schemas: _Schemas) -> PlannedCase:
    first = rows[0]
    case = PlannedCase(lines=[row.line for row in rows])
    case.problems = [problem for row in rows for problem in row.problems]
    case.data = _checked(case, first, schemas.case, _case_cells(first), Case)
    if "mission" in case.data and case.data["mission"] not in schemas.missions:
        del case.data["mission"]  # a row problem, not a matter of the importer's scope
        case.problems.append(Problem(first.line, "mission", "not a known mission code"))
    for row in rows[1:]:
        for name in CASE_COLUMNS:
            if name in row.cells and row.cells[name] != first.cells.get(name):
                message = (
                    f"differs from the first row of this case (row {first.line}): give the "
                    "case's columns on its first row, and leave them empty on the others"
                )
                case.problems.append(Problem(row.line, name, message))
    for row in rows:
        persons = _person_cells(row)
        if row is not first and not persons:
            message = "adds no person to its case: fill in a person's columns or remove the row"
            case.problems.append(Problem(row.line, None, message))
        for role, cells in persons.items():
            prefix = f"{role}_"
            fields = {"role": role, **cells}
            case.persons.append(_checked(case, row, schemas.person, fields, Person, prefix))
    case.problems.sort(key=lambda problem: problem.line)
    return case


def _case_cells(row: Row) -> dict[str, str]:
    return {name: row.cells[name] for name in CASE_COLUMNS if name in row.cells}


def _person_cells(row: Row) -> dict[str, dict[str, str]]:
    """The persons a row names, by role: a role counts when any of its cells is filled."""
    persons: dict[str, dict[str, str]] = {}
    for column, value in row.cells.items():
        if column in PERSON_COLUMNS:
            role, name = PERSON_COLUMNS[column]
            persons.setdefault(role, {})[name] = value
    return {role: persons[role] for role in PERSON_ROLES if role in persons}


def _checked(
    case: PlannedCase,
    row: Row,
    schema: Schema,
    cells: Mapping[str, str],
    model,
    prefix: str = "",
) -> dict[str, Any]:
    """Load ``cells`` with the API's schema, then the model's own checks of coded facts.

    Problems are added to ``case``, named by column; returns the values that passed.
    """
    try:
        values = schema.load(cells)
    except ValidationError as error:
        values = dict(error.valid_data or {})
        for name, messages in _flat(error.messages).items():
            column = None if name == "_schema" else prefix + name
            values.pop(name, None)
            for message in messages:
                case.problems.append(Problem(row.line, column, _PLAINER.get(message, message)))
    for name, check in model.__coded__.items():
        if values.get(name) is not None:
            try:
                check(name, values[name])
            except ValueError as error:
                values.pop(name)
                message = str(error).split(": ", 1)[-1]
                case.problems.append(Problem(row.line, prefix + name, message))
    return values


def _flat(messages) -> dict[str, list[str]]:
    if not isinstance(messages, dict):
        return {"_schema": [str(message) for message in messages]}
    return {
        name: [str(m) for m in (found if isinstance(found, list) else [found])]
        for name, found in messages.items()
    }


# The acting account


def find_importer(email: str):
    """The active account that will own the import; it must hold ``case:import``."""
    user = find_user(email)
    if user is None or not user.active:
        raise ImportRefused(f"no active account with the email {normalise_email(email)}", user)
    if not has_permission(user, "case:import"):
        raise ImportRefused(f"{user.email} does not hold the permission case:import", user)
    return user


def check_scope(actor, plan: ImportPlan) -> None:
    """Every mission named in the file must be one of the actor's missions."""
    outside = sorted(plan.missions - set(actor.missions))
    if outside:
        raise ImportRefused(
            f"{actor.email} may not import cases of {', '.join(outside)}: "
            "not one of their missions",
            actor,
        )


# Writing


def import_case(actor, planned: PlannedCase) -> Case:
    """Open one checked case through the case services, with its persons. Flushes only.

    The actor joins the case's team, as when recording a case; each creation is audited by
    the services (``case.create``, ``person.create``).
    """
    case = services.create_case(actor, planned.data)
    for person in planned.persons:
        items.add_person(actor, case, person)
    return case


def record_import(actor, outcome: str, counts: Mapping[str, int]) -> None:
    """The ``case.import`` event: counts only (``cases:3``), never a value of the file."""
    record(
        "case.import",
        actor=actor,
        outcome=outcome,
        fields=[f"{name}:{number}" for name, number in counts.items()],
    )
