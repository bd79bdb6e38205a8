"""The counted units of the statistics tables, as records.

A table's *records* are numpy columns with one entry per unit (a report, a victim, a subject):
its case (32 hex digits), the case's mission and receipt date, and the unit's coded facts as
indexes into their code lists (a set of codes as a bit mask); timeliness has one per report
with its measures (``conduct.reports.timeliness.records``). They are read from the sealed
rows of all cases, or of some cases only (:func:`read_records`), which lets a sealed snapshot
of them be brought up to date by reading again only the cases changed since it was taken
(``conduct.reports.snapshots``). Records are kept in one canonical order (:func:`canonical`),
so the same data gives the same population however the records were put together.

:func:`population` turns records into the integer-coded :class:`~.tables.Population` that
:func:`~.tables.count_cells` and the disclosure control work on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
from sqlalchemy import func, select

from conduct import codes
from conduct.cases.models import Case, Finding, Person
from conduct.core.db import driver_rows

from . import timeliness
from .facts import (
    FactDecoder,
    as_date,
    binding,
    case_key,
    coded_domain,
    indexer,
    mission_domain,
    raw,
    read_case_rows,
    rows_of_cases,
    year_domain,
)
from .tables import ALLEGATIONS, SUBJECTS, TABLES, TIMELINESS, VICTIMS, Population

Records = dict[str, np.ndarray]

CASE = "case"
_CASE_FACTS = ("category", "allegation_type", "status", "source")
_CASE_LISTS = (codes.CATEGORY, codes.ALLEGATION_TYPE, codes.STATUS, codes.SOURCE)
# Each table's record columns and their numpy types.
LAYOUTS: dict[str, dict[str, str]] = {
    ALLEGATIONS.name: {
        CASE: "S32",
        "mission": "U16",
        "received": "datetime64[D]",
        **dict.fromkeys(_CASE_FACTS, "i1"),
        "personnel_categories": "u2",
    },
    VICTIMS.name: {
        CASE: "S32",
        "mission": "U16",
        "received": "datetime64[D]",
        "sex": "i1",
        "age_group": "i1",
    },
    SUBJECTS.name: {
        CASE: "S32",
        "mission": "U16",
        "received": "datetime64[D]",
        "personnel_category": "i1",
        "nationality": "U3",
        "finding": "i1",
        "actions": "u2",
    },
    TIMELINESS.name: {
        CASE: "S32",
        "mission": "U16",
        "received": "datetime64[D]",
        "to_referral": "f8",
        "to_finding": "f8",
        "first_due": "datetime64[D]",
    },
}


def layout_signature(table: str) -> str:
    """What a stored snapshot must match to be read back: its columns and every code list
    its indexes point into."""
    lists = (*_CASE_LISTS, codes.PERSONNEL_CATEGORY, codes.SEX, codes.AGE_GROUP)
    lists += (codes.FINDING, codes.ACTION)
    rules = timeliness.rules_signature() if table == TIMELINESS.name else None
    return repr((LAYOUTS[table], [tuple(code_list.codes) for code_list in lists], rules))


def canonical(table: str, records: Records) -> Records:
    """The records in one order: by case, then by every other column."""
    names = list(LAYOUTS[table])
    order = np.lexsort([records[name] for name in reversed(names)])
    return {name: records[name][order] for name in names}


def without_cases(records: Records, cases: np.ndarray) -> Records:
    keep = ~np.isin(records[CASE], cases)
    return {name: values[keep] for name, values in records.items()}


def merged(table: str, parts: list[Records]) -> Records:
    return canonical(table, {name: np.concatenate([p[name] for p in parts]) for name in parts[0]})


# --- Reading ----------------------------------------------------------------------------------


def read_records(table: str, cases: list[str] | None) -> Records:
    """The records of every case (``cases`` None) or of the given cases (hex ids), in
    canonical order."""
    return canonical(table, _READERS[table](cases))


class _CaseColumns:
    """Mission and receipt date of the cases read, by case key."""

    def __init__(self, cases: list[str] | None):
        rows = read_case_rows(cases, with_facts=False)
        self.at = {row[0]: position for position, row in enumerate(rows)}
        self.mission = np.array([row[1] for row in rows], dtype="U16")
        self.received = np.array([row[2] for row in rows], dtype="datetime64[D]")

    def positions(self, keys: list) -> np.ndarray:
        return np.fromiter(map(self.at.__getitem__, keys), np.int64, len(keys))


def _persons(cases: list[str] | None, *extra) -> list:
    return rows_of_cases(
        select(
            case_key(Person.case_id),
            *extra,
            binding(Person.id, Person.case_id),
            Person.coded_sealed,
        ),
        Person.case_id,
        cases,
    )


def _bits(code_list) -> dict[str, int]:
    return {code: 1 << at for at, code in enumerate(code_list.codes)}


def _allegations(cases: list[str] | None) -> Records:
    rows = read_case_rows(cases, with_facts=True)
    positions = tuple(indexer(coded_domain(code_list)) for code_list in _CASE_LISTS)
    decode = FactDecoder(
        _CASE_FACTS,
        lambda found: tuple(at(v) for at, v in zip(positions, found, strict=True)),
        cut_incident_date=True,
    )
    facts = np.array(decode.of_rows("cases", rows), dtype=np.int8).reshape(len(rows), 4)
    records = {
        CASE: np.array([row[0] for row in rows], dtype="S32"),
        "mission": np.array([row[1] for row in rows], dtype="U16"),
        "received": np.array([row[2] for row in rows], dtype="datetime64[D]"),
    }
    records.update({name: facts[:, at] for at, name in enumerate(_CASE_FACTS)})
    records["personnel_categories"] = _subject_categories(cases, [row[0] for row in rows])
    return records


def _subject_categories(cases: list[str] | None, keys: list) -> np.ndarray:
    """Per case (in the order of ``keys``), the personnel categories of its subjects as a bit
    mask: a report counts once per category its subjects belong to."""
    bits = _bits(codes.PERSONNEL_CATEGORY)
    persons = _persons(cases)
    subject_bit = FactDecoder(
        ("role", "personnel_category"),
        lambda found: (bits.get(found[1], 0) if found[0] == "subject" else 0,),
    )
    found = np.fromiter((b for (b,) in subject_bit.of_rows("persons", persons)), np.uint16)
    at = {key: position for position, key in enumerate(keys)}
    owners = np.fromiter((at[row[0]] for row in persons), np.int64, len(persons))
    categories = np.zeros(len(keys), dtype=np.uint16)
    np.bitwise_or.at(categories, owners, found)
    return categories


def _victims(cases: list[str] | None) -> Records:
    frame = _CaseColumns(cases)
    sex_at, age_at = indexer(coded_domain(codes.SEX)), indexer(coded_domain(codes.AGE_GROUP))
    decode = FactDecoder(
        ("role", "sex", "age_group"),
        lambda found: (found[0] == "victim", sex_at(found[1]), age_at(found[2])),
    )
    persons = _persons(cases)
    chosen = [
        (person[0], sex, age)
        for person, (is_victim, sex, age) in zip(
            persons, decode.of_rows("persons", persons), strict=True
        )
        if is_victim
    ]
    owners = frame.positions([key for key, _, _ in chosen])
    return {
        CASE: np.array([key for key, _, _ in chosen], dtype="S32"),
        "mission": frame.mission[owners],
        "received": frame.received[owners],
        "sex": np.array([sex for _, sex, _ in chosen], dtype=np.int8),
        "age_group": np.array([age for _, _, age in chosen], dtype=np.int8),
    }


def _subjects(cases: list[str] | None) -> Records:
    frame = _CaseColumns(cases)
    category_at = indexer(coded_domain(codes.PERSONNEL_CATEGORY))
    decode = FactDecoder(("role", "personnel_category", "nationality"))
    persons = _persons(cases, raw(Person.id))
    subjects = [
        (person[0], person[1], category_at(category), nationality or "")
        for person, (role, category, nationality) in zip(
            persons, decode.of_rows("persons", persons), strict=True
        )
        if role == "subject"
    ]
    latest = _latest_findings(cases)
    finding_at, bits = indexer(coded_domain(codes.FINDING)), _bits(codes.ACTION)
    outcome = [latest.get(subject[1], (None, ())) for subject in subjects]
    owners = frame.positions([subject[0] for subject in subjects])
    return {
        CASE: np.array([subject[0] for subject in subjects], dtype="S32"),
        "mission": frame.mission[owners],
        "received": frame.received[owners],
        "personnel_category": np.array([s[2] for s in subjects], dtype=np.int8),
        "nationality": np.array([s[3] for s in subjects], dtype="U3"),
        "finding": np.array([finding_at(found) for found, _ in outcome], dtype=np.int8),
        "actions": np.array(
            [sum(bits[a] for a in set(actions)) for _, actions in outcome], dtype=np.uint16
        ),
    }


def _latest_findings(cases: list[str] | None) -> dict:
    """Per person (raw id): the finding decided last (the later id on the same day) and its
    actions."""
    rows = rows_of_cases(
        select(
            raw(Finding.person_id),
            Finding.decided_on,
            raw(Finding.id),
            binding(Finding.id, Finding.case_id),
            Finding.coded_sealed,
        ),
        Finding.case_id,
        cases,
    )
    decode = FactDecoder(("finding", "actions"))
    latest: dict = {}
    for row, (finding, actions) in zip(rows, decode.of_rows("findings", rows), strict=True):
        when = (as_date(row[1]) or date.min, str(row[2]))
        if row[0] not in latest or when > latest[row[0]][0]:
            latest[row[0]] = (when, finding, tuple(actions or ()))
    return {person: (finding, actions) for person, (_, finding, actions) in latest.items()}


_READERS: dict[str, Callable[[list[str] | None], Records]] = {
    ALLEGATIONS.name: _allegations,
    VICTIMS.name: _victims,
    SUBJECTS.name: _subjects,
    TIMELINESS.name: timeliness.records,
}


# --- Populations ------------------------------------------------------------------------------


def case_domains() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Missions and years of every case (plain columns): every table shows them all."""
    rows = driver_rows(
        select(Case.mission_code, func.min(Case.received_on), func.max(Case.received_on)).group_by(
            Case.mission_code
        )
    )
    years = [as_date(day).year for row in rows for day in row[1:]]
    return mission_domain(row[0] for row in rows), year_domain(years)


def population(table: str, records: Records) -> Population:
    """The table's units, integer-coded over its domains."""
    spec = TABLES[table]
    missions, years = case_domains()
    domains: dict[str, tuple] = {"mission": missions, "year": years}
    coded = mission_and_year(records, missions, years)
    multi = _CODERS[table](records, domains, coded)
    ordered = {name: domains[name] for name in spec.dimensions}
    if multi is None:
        return Population(spec, ordered, coded)
    units, values = _pairs(records[multi[0]], len(domains[multi[1]]))
    return Population(spec, ordered, coded, units, values)


def _code_coded_facts(records: Records, domains: dict, coded: dict, names_and_lists) -> None:
    """Coded facts stored as indexes into their code list plus None: domain and column."""
    for name, code_list in names_and_lists:
        domains[name] = coded_domain(code_list)
        coded[name] = records[name].astype(np.int64)


def _code_allegations(records: Records, domains: dict, coded: dict) -> tuple[str, str]:
    """Quarter and the case's facts; the personnel categories are the multi-valued one."""
    domains["quarter"] = (1, 2, 3, 4)
    coded["quarter"] = records["received"].astype("datetime64[M]").astype(np.int64) % 12 // 3
    _code_coded_facts(records, domains, coded, zip(_CASE_FACTS, _CASE_LISTS, strict=True))
    domains["personnel_category"] = tuple(codes.PERSONNEL_CATEGORY.codes)
    return ("personnel_categories", "personnel_category")


def _code_victims(records: Records, domains: dict, coded: dict) -> None:
    pairs = (("sex", codes.SEX), ("age_group", codes.AGE_GROUP))
    _code_coded_facts(records, domains, coded, pairs)


def _code_subjects(records: Records, domains: dict, coded: dict) -> tuple[str, str]:
    """Category, nationality (the ones recorded, then None) and finding; the actions are the
    multi-valued one."""
    pairs = (("personnel_category", codes.PERSONNEL_CATEGORY), ("finding", codes.FINDING))
    _code_coded_facts(records, domains, coded, pairs)
    stored = records["nationality"].tolist()
    domains["nationality"] = (*sorted(set(stored) - {""}), None)
    at = indexer(domains["nationality"])
    coded["nationality"] = np.fromiter((at(v or None) for v in stored), np.int64, len(stored))
    domains["action"] = tuple(codes.ACTION.codes)
    return ("actions", "action")


_CODERS = {
    ALLEGATIONS.name: _code_allegations,
    VICTIMS.name: _code_victims,
    SUBJECTS.name: _code_subjects,
}


def mission_and_year(records: Records, missions: tuple, years: tuple) -> dict[str, np.ndarray]:
    """The units' mission and year as indexes into those domains (see :func:`case_domains`)."""
    received = records["received"]
    unit_years = received.astype("datetime64[Y]").astype(np.int64) + 1970
    return {
        "mission": np.fromiter(
            map(indexer(missions), records["mission"].tolist()), np.int64, len(received)
        ),
        "year": unit_years - (years[0] if years else 0),
    }


def _pairs(masks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(unit, value) pairs of the bits set in each unit's mask, ordered by unit then value."""
    units = [np.flatnonzero(masks & (1 << value)) for value in range(size)]
    values = [np.full(len(found), value, dtype=np.int64) for value, found in enumerate(units)]
    all_units = np.concatenate(units) if units else np.zeros(0, dtype=np.int64)
    all_values = np.concatenate(values) if values else np.zeros(0, dtype=np.int64)
    order = np.lexsort((all_values, all_units))
    return all_units[order].astype(np.int64), all_values[order]
