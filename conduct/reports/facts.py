"""Reading the coded facts statistics need, with the statistics key only.

Each row's coded facts are one sealed document (``conduct.crypto.columns``); they are opened
once per row with :func:`open_coded_documents`, which uses the statistics key and nothing
else: no case data key is unwrapped and no identifying column is selected. Documents are
canonical JSON, so equal facts give equal bytes: each distinct document is decoded once
(incident dates, the one fact that varies a lot, are cut out first, since no table uses them).

Rows are read as the database driver gives them (:func:`conduct.core.db.driver_rows`: plain
tuples, no type processing, binary format on PostgreSQL): statistics read every row and build
no ORM object. Ids stay as the driver gives them (hex text on SQLite, UUIDs from psycopg) where
they only join rows; the binding a sealed cell is opened with (row id and case id) is made by
the database, as bytes on PostgreSQL and as hex text on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import String, func, select, type_coerce

from conduct import codes
from conduct.cases.models import Case, Finding, Person, Referral, StatusChange
from conduct.core.db import db, driver_rows
from conduct.crypto import current_vault
from conduct.crypto.columns import decode_coded_document, open_padded_coded_documents
from conduct.crypto.envelope import unpad

from .tables import ALLEGATIONS, SUBJECTS, VICTIMS, Population, encode


def raw(column):
    """A UUID column as the driver returns it, without building UUID objects."""
    return type_coerce(column, String())


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def binding(row_id, case_id):
    """The binding of a row's sealed cells (its id, then its case's id) as one column: bytes
    on PostgreSQL, 32 + 32 hex digits on SQLite (see :func:`binding_bytes`)."""
    if _is_postgresql():
        return func.uuid_send(row_id).op("||", return_type=String())(func.uuid_send(case_id))
    return raw(row_id).op("||", return_type=String())(raw(case_id))


def binding_bytes() -> Callable[[Any], bytes]:
    """Turns a :func:`binding` column into bytes, on this database."""
    return bytes if _is_postgresql() else bytes.fromhex


def as_date(value) -> date | None:
    """A date column read raw: a date from psycopg, ISO text from SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def open_documents(table: str, rows: Iterable) -> Iterator[bytes]:
    """The coded document of each row (its :func:`binding` next to last, its token last),
    padding left on: :class:`FactDecoder` removes it from the distinct ones only."""
    to_bytes = binding_bytes()
    cells = [(to_bytes(row[-2]), row[-1]) for row in rows]
    return open_padded_coded_documents(current_vault(), table, cells)


class FactDecoder:
    """Turns padded coded documents into tuples of chosen facts, decoding each distinct one
    once (equal facts seal equal documents). Cases' documents vary by incident date, which no
    table uses: with ``cut_incident_date`` it is cut out before documents are compared."""

    def __init__(
        self,
        names: tuple[str, ...],
        convert: Callable[[tuple], Any] | None = None,
        *,
        cut_incident_date: bool = False,
    ):
        self.names = names
        self.convert = convert
        self.cut_incident_date = cut_incident_date
        self._seen: dict[bytes, Any] = {}

    def of_rows(self, table: str, rows: list) -> list:
        """The facts of each row of ``table`` (see :func:`open_documents`), in order."""
        return self.decode_all(open_documents(table, rows))

    def decode_all(self, documents: Iterable[bytes]) -> list:
        """The facts of each document, in order."""
        if self.cut_incident_date:
            documents = map(_without_incident_date, documents)
        known, decode = self._seen.get, self._decode
        return [known(document) or decode(document) for document in documents]

    def _decode(self, document: bytes) -> tuple:
        facts = decode_coded_document(unpad(document))
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


# --- Cases -------------------------------------------------------------------------------------


class CaseFrame:
    """Every case's plain mission and receipt date, indexed by the case's raw id.

    ``rows`` are ``(raw id, mission, received_on as ISO text[, binding, coded token])``."""

    def __init__(self, rows: list):
        self.rows = rows
        self.index = {row[0]: position for position, row in enumerate(rows)}
        self.missions = mission_domain({row[1] for row in rows})
        mission_at = indexer(self.missions)
        self.mission = np.fromiter((mission_at(row[1]) for row in rows), np.int64, len(rows))
        received = np.array([row[2] for row in rows], dtype="datetime64[D]")
        years = received.astype("datetime64[Y]").astype(np.int64) + 1970
        self.years = year_domain(years.tolist())
        self.year = years - (self.years[0] if len(rows) else 0)
        # Quarters as indexes 0 to 3.
        self.quarter = received.astype("datetime64[M]").astype(np.int64) % 12 // 3

    def received_on(self) -> list[date]:
        return [date.fromisoformat(row[2]) for row in self.rows]


def read_cases(with_facts: bool) -> CaseFrame:
    columns = [raw(Case.id), Case.mission_code, date_text(Case.received_on)]
    if with_facts:
        columns += [binding(Case.id, Case.id), Case.coded_sealed]
    return CaseFrame(driver_rows(select(*columns)))


def date_text(column):
    """A date column as ISO text (what SQLite stores), which numpy parses fast."""
    if _is_postgresql():
        return func.to_char(column, "YYYY-MM-DD")
    return raw(column)


def read_persons() -> list:
    """``(raw id, raw case id, binding, coded token)`` of every person."""
    return driver_rows(
        select(
            raw(Person.id),
            raw(Person.case_id),
            binding(Person.id, Person.case_id),
            Person.coded_sealed,
        )
    )


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
        _CASE_FACTS,
        lambda found: tuple(at(v) for at, v in zip(positions, found, strict=True)),
        cut_incident_date=True,
    )
    facts = np.array(decode.of_rows("cases", cases.rows), dtype=np.int64).reshape(
        len(cases.rows), len(_CASE_FACTS)
    )
    coded = {
        "mission": cases.mission,
        "year": cases.year,
        "quarter": cases.quarter,
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
    for person, (role, category) in zip(persons, decode.of_rows("persons", persons), strict=True):
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
    for person, (role, sex, age) in zip(persons, decode.of_rows("persons", persons), strict=True):
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
    for person, (role, category, nationality) in zip(
        persons, decode.of_rows("persons", persons), strict=True
    ):
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
    rows = driver_rows(
        select(
            raw(Finding.person_id),
            Finding.decided_on,
            binding(Finding.id, Finding.case_id),
            Finding.coded_sealed,
        )
    )
    decode = FactDecoder(("finding", "actions"))
    latest: dict[Any, tuple] = {}
    for row, (finding, actions) in zip(rows, decode.of_rows("findings", rows), strict=True):
        person = row[0]
        if person not in subject_ids:
            continue
        when = as_date(row[1]) or date.min
        if person not in latest or when >= latest[person][0]:
            latest[person] = (when, finding, tuple(actions or ()))
    return {person: (finding, actions) for person, (_, finding, actions) in latest.items()}


def read_referrals() -> list:
    """``(raw case id, referred_on, acknowledged_on, binding, coded token)`` of every
    referral, dates as dates."""
    rows = driver_rows(
        select(
            raw(Referral.case_id),
            Referral.referred_on,
            Referral.acknowledged_on,
            binding(Referral.id, Referral.case_id),
            Referral.coded_sealed,
        )
    )
    return [(row[0], as_date(row[1]), as_date(row[2]), row[3], row[4]) for row in rows]


def read_status_changes(case_ids: set) -> list:
    """``(raw case id, at, binding, coded token)`` of the status changes of the given cases
    (raw ids), ``at`` as an aware datetime; rows of other cases are not read."""
    # The ids as given: text against SQLite's hex column, UUIDs against PostgreSQL's.
    key = StatusChange.case_id if _is_postgresql() else raw(StatusChange.case_id)
    wanted = sorted(case_ids)
    rows = []
    for start in range(0, len(wanted), _CHUNK):
        rows += driver_rows(
            select(
                raw(StatusChange.case_id),
                StatusChange.at,
                binding(StatusChange.id, StatusChange.case_id),
                StatusChange.coded_sealed,
            ).where(key.in_(wanted[start : start + _CHUNK]))
        )
    return [(row[0], as_utc_datetime(row[1]), row[2], row[3]) for row in rows]


_CHUNK = 500  # ids per IN list, well inside every database's limit on parameters


def as_utc_datetime(value) -> datetime:
    """A moment read raw: aware from psycopg, ISO text in UTC from SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def read_finding_dates() -> list:
    """(case raw id, decided_on) of every finding: plain columns, nothing opened."""
    rows = driver_rows(select(raw(Finding.case_id), Finding.decided_on))
    return [(case_id, as_date(decided_on)) for case_id, decided_on in rows]
