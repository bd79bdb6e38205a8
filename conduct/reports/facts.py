"""Reading the coded facts statistics need, with the statistics key only.

Each row's coded facts are one sealed document (``conduct.crypto.columns``); they are opened
once per row with :func:`open_coded_documents`, which uses the statistics key and nothing
else: no case data key is unwrapped and no identifying column is selected. Documents are
canonical JSON, so equal facts give equal bytes: each distinct document is decoded once
(incident dates, the one fact that varies a lot, are cut out first, since no table uses them).

Rows are read as plain tuples with ids as the driver gives them (hex text on SQLite, UUIDs
from psycopg): statistics read every row and build no ORM object.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import String, select, type_coerce

from conduct import codes
from conduct.cases.models import Case, Finding, Person, Referral, StatusChange
from conduct.core.db import db
from conduct.crypto import current_vault
from conduct.crypto.columns import decode_coded_document, open_coded_documents

from .tables import ALLEGATIONS, SUBJECTS, VICTIMS, Population, encode


def raw(column):
    """A UUID column as the driver returns it, without building UUID objects."""
    return type_coerce(column, String())


def id_bytes(value) -> bytes:
    if isinstance(value, uuid.UUID):
        return value.bytes
    return bytes.fromhex(value.replace("-", ""))


def open_documents(table: str, rows: Iterable, id_at: int = 0, case_at: int = 1) -> Iterator:
    """The coded document of each row (ids at ``id_at`` and ``case_at``, token last)."""
    cells = ((id_bytes(row[id_at]) + id_bytes(row[case_at]), row[-1]) for row in rows)
    return open_coded_documents(current_vault(), table, cells)


class FactDecoder:
    """Turns coded documents into tuples of chosen facts, decoding each distinct one once."""

    def __init__(self, names: tuple[str, ...], convert: Callable[[tuple], Any] | None = None):
        self.names = names
        self.convert = convert
        self._seen: dict[bytes, Any] = {}

    def __call__(self, document: bytes):
        document = _without_incident_date(document)
        found = self._seen.get(document)
        if found is None:
            facts = decode_coded_document(document)
            found = tuple(facts.get(name) for name in self.names)
            if self.convert is not None:
                found = self.convert(found)
            self._seen[document] = found
        return found


_INCIDENT = b'"incident_date":'


def _without_incident_date(document: bytes) -> bytes:
    start = document.find(_INCIDENT)
    if start < 0:
        return document
    end = document.find(b",", start)
    return document[:start] + document[end + 1 :] if end >= 0 else document


def coded_domain(code_list) -> tuple:
    """A coded dimension's values: its codes, then None (not recorded)."""
    return (*code_list.codes, None)


def indexer(domain: tuple) -> Callable:
    positions = {value: index for index, value in enumerate(domain)}
    return positions.__getitem__


def mission_domain(present: Iterable[str]) -> tuple[str, ...]:
    known = [code for code, _, _ in codes.MISSIONS]
    return (*known, *sorted(set(present) - set(known)))


def year_domain(years: Iterable[int]) -> tuple[int, ...]:
    years = set(years)
    return tuple(range(min(years), max(years) + 1)) if years else ()


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


# --- Cases -------------------------------------------------------------------------------------


class CaseFrame:
    """Every case's plain mission and receipt date, indexed by the case's raw id."""

    def __init__(self, rows: list):
        self.rows = rows
        self.index = {row[0]: position for position, row in enumerate(rows)}
        self.missions = mission_domain({row[1] for row in rows})
        self.years = year_domain({row[2].year for row in rows})
        mission_at, year_at = indexer(self.missions), indexer(self.years)
        self.mission = np.fromiter((mission_at(row[1]) for row in rows), np.int64, len(rows))
        self.year = np.fromiter((year_at(row[2].year) for row in rows), np.int64, len(rows))


def read_cases(with_facts: bool) -> CaseFrame:
    columns = [raw(Case.id), Case.mission_code, Case.received_on]
    if with_facts:
        columns.append(Case.coded_sealed)
    return CaseFrame(db.session.execute(select(*columns)).all())


def read_persons() -> list:
    return db.session.execute(
        select(raw(Person.id), raw(Person.case_id), Person.coded_sealed)
    ).all()


# --- Populations -------------------------------------------------------------------------------

_CASE_FACTS = ("category", "allegation_type", "status", "source")


def allegations_population() -> Population:
    """Reports: one unit per case; personnel categories from the case's subjects."""
    cases = read_cases(with_facts=True)
    domains: dict[str, tuple] = {
        "mission": cases.missions,
        "year": cases.years,
        "quarter": (1, 2, 3, 4),
        "category": coded_domain(codes.CATEGORY),
        "allegation_type": coded_domain(codes.ALLEGATION_TYPE),
        "personnel_category": tuple(codes.PERSONNEL_CATEGORY.codes),
        "status": coded_domain(codes.STATUS),
        "source": coded_domain(codes.SOURCE),
    }
    positions = tuple(indexer(domains[name]) for name in _CASE_FACTS)
    decode = FactDecoder(
        _CASE_FACTS, lambda found: tuple(at(v) for at, v in zip(positions, found, strict=True))
    )
    facts = np.array(
        [decode(document) for document in open_documents("cases", cases.rows, 0, 0)],
        dtype=np.int64,
    ).reshape(len(cases.rows), len(_CASE_FACTS))
    coded = {
        "mission": cases.mission,
        "year": cases.year,
        "quarter": np.fromiter(
            (quarter_of(row[2]) - 1 for row in cases.rows), np.int64, len(cases.rows)
        ),
    }
    coded.update({name: facts[:, at] for at, name in enumerate(_CASE_FACTS)})
    units, categories = _named_categories(cases, domains["personnel_category"])
    return Population(ALLEGATIONS, domains, coded, units, categories)


def _named_categories(cases: CaseFrame, domain: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(case, category) pairs, once per personnel category a case's subjects belong to."""
    category_at = {value: index for index, value in enumerate(domain)}
    decode = FactDecoder(("role", "personnel_category"))
    persons = read_persons()
    pairs = set()
    for person, document in zip(persons, open_documents("persons", persons), strict=True):
        role, category = decode(document)
        if role == "subject" and category is not None:
            pairs.add((cases.index[person[1]], category_at[category]))
    ordered = sorted(pairs)
    return (
        np.array([case for case, _ in ordered], dtype=np.int64),
        np.array([category for _, category in ordered], dtype=np.int64),
    )


def victims_population() -> Population:
    """Victims: one unit per person with the victim role; mission and year of the case."""
    cases = read_cases(with_facts=False)
    domains = {
        "mission": cases.missions,
        "year": cases.years,
        "sex": coded_domain(codes.SEX),
        "age_group": coded_domain(codes.AGE_GROUP),
    }
    sex_at, age_at = indexer(domains["sex"]), indexer(domains["age_group"])
    decode = FactDecoder(
        ("role", "sex", "age_group"), lambda found: (found[0], sex_at(found[1]), age_at(found[2]))
    )
    persons = read_persons()
    chosen = []
    for person, document in zip(persons, open_documents("persons", persons), strict=True):
        role, sex, age = decode(document)
        if role == "victim":
            chosen.append((cases.index[person[1]], sex, age))
    table = np.array(chosen, dtype=np.int64).reshape(len(chosen), 3)
    case_rows = table[:, 0]
    coded = {
        "mission": cases.mission[case_rows],
        "year": cases.year[case_rows],
        "sex": table[:, 1],
        "age_group": table[:, 2],
    }
    return Population(VICTIMS, domains, coded)


def subjects_population() -> Population:
    """Subjects: one unit per person with the subject role; the latest finding on them and
    its actions (a subject is counted once per action)."""
    cases = read_cases(with_facts=False)
    decode = FactDecoder(("role", "personnel_category", "nationality"))
    persons = read_persons()
    subjects = []
    for person, document in zip(persons, open_documents("persons", persons), strict=True):
        role, category, nationality = decode(document)
        if role == "subject":
            subjects.append((person[0], cases.index[person[1]], category, nationality))
    findings = _latest_findings({subject[0] for subject in subjects})
    domains = {
        "mission": cases.missions,
        "year": cases.years,
        "personnel_category": coded_domain(codes.PERSONNEL_CATEGORY),
        "nationality": (*sorted({s[3] for s in subjects if s[3] is not None}), None),
        "finding": coded_domain(codes.FINDING),
        "action": tuple(codes.ACTION.codes),
    }
    case_rows = np.array([subject[1] for subject in subjects], dtype=np.int64)
    outcome = [findings.get(subject[0], (None, ())) for subject in subjects]
    coded = {
        "mission": cases.mission[case_rows],
        "year": cases.year[case_rows],
        "personnel_category": encode([s[2] for s in subjects], domains["personnel_category"]),
        "nationality": encode([s[3] for s in subjects], domains["nationality"]),
        "finding": encode([found for found, _ in outcome], domains["finding"]),
    }
    action_at = indexer(domains["action"])
    pairs = [
        (unit, action_at(action))
        for unit, (_, actions) in enumerate(outcome)
        for action in sorted(set(actions))
    ]
    return Population(
        SUBJECTS,
        domains,
        coded,
        np.array([unit for unit, _ in pairs], dtype=np.int64),
        np.array([action for _, action in pairs], dtype=np.int64),
    )


def _latest_findings(subject_ids: set) -> dict[Any, tuple[str | None, tuple[str, ...]]]:
    """Per subject (raw id): the finding decided last, and its actions."""
    rows = db.session.execute(
        select(
            raw(Finding.id),
            raw(Finding.case_id),
            raw(Finding.person_id),
            Finding.decided_on,
            Finding.coded_sealed,
        )
    ).all()
    decode = FactDecoder(("finding", "actions"))
    latest: dict[Any, tuple] = {}
    for row, document in zip(rows, open_documents("findings", rows), strict=True):
        person = row[2]
        if person not in subject_ids:
            continue
        finding, actions = decode(document)
        when = row[3] or date.min
        if person not in latest or when >= latest[person][0]:
            latest[person] = (when, finding, tuple(actions or ()))
    return {person: (finding, actions) for person, (_, finding, actions) in latest.items()}


def read_referrals() -> list:
    return db.session.execute(
        select(
            raw(Referral.id),
            raw(Referral.case_id),
            Referral.referred_on,
            Referral.acknowledged_on,
            Referral.coded_sealed,
        )
    ).all()


def read_status_changes(case_ids: set) -> list:
    """Status changes of the given cases (raw ids); rows of other cases are not opened."""
    rows = db.session.execute(
        select(
            raw(StatusChange.id),
            raw(StatusChange.case_id),
            StatusChange.at,
            StatusChange.coded_sealed,
        )
    ).all()
    return [row for row in rows if row[1] in case_ids]


def read_finding_dates() -> list:
    """(case raw id, decided_on) of every finding: plain columns, nothing opened."""
    return db.session.execute(select(raw(Finding.case_id), Finding.decided_on)).all()
