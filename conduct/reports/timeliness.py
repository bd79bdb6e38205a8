"""Timeliness: days from receipt to referral and from referral to finding, and overdue cases.

Per report: the days from receipt to its first referral for investigation; the days from that
referral to its first finding (a plain date); whether any of its deadlines is overdue today
(``conduct.cases.deadlines``, the same rules as the officers' lists). A report is overdue on
every day after the due date of its earliest open deadline, which does not depend on today:
records (:func:`records`) keep that date, so they can be kept in a snapshot like the other
tables' (``conduct.reports.units``) and compared with today when counted. Cells are reports by
mission and year, so their counts are cells of the allegations table and take its
suppression decisions; a median or 90th percentile is published only for a published cell
with at least ``threshold`` reports behind it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from types import SimpleNamespace

import numpy as np
from flask import current_app

from conduct.cases.deadlines import DeadlineRules, open_deadlines

from . import facts
from .tables import TIMELINESS, DimensionSet, reachable_dimension_sets

MEASURES = (
    "median_days_to_referral",
    "p90_days_to_referral",
    "median_days_to_finding",
    "p90_days_to_finding",
    "share_overdue",
)


def records(cases: list[str] | None) -> dict[str, np.ndarray]:
    """One record per case (all, or the given ones): its key, mission and receipt date, the
    days to its first investigation referral and from there to its first finding (NaN when
    not there yet), and the due date of its earliest open deadline (NaT when none): the case
    is overdue on any day after it. None of it depends on today."""
    rules = DeadlineRules.from_settings(current_app.extensions["conduct_settings"])
    rows = facts.read_case_rows(cases, with_facts=True)
    decode = facts.FactDecoder(("status",), cut_incident_date=True)
    statuses = [found[0] for found in decode.of_rows("cases", rows)]
    referrals = _referrals_by_case(cases)
    waiting = [row[0] for row, status in zip(rows, statuses, strict=True) if status == WAITING]
    history = _history_of(waiting)
    first_finding: dict = {}
    for case_id, decided_on in facts.read_finding_dates(cases):
        if decided_on is not None and (
            case_id not in first_finding or decided_on < first_finding[case_id]
        ):
            first_finding[case_id] = decided_on
    size = len(rows)
    to_referral = np.full(size, np.nan)
    to_finding = np.full(size, np.nan)
    first_due = np.full(size, np.datetime64("NaT"), dtype="datetime64[D]")
    for position, (row, status) in enumerate(zip(rows, statuses, strict=True)):
        received = date.fromisoformat(row[2])
        case_referrals = referrals.get(row[0], [])
        investigations = [r.referred_on for r in case_referrals if r.purpose == "investigation"]
        if investigations:
            first = min(investigations)
            to_referral[position] = (first - received).days
            found = first_finding.get(row[0])
            if found is not None:
                to_finding[position] = (found - first).days
        view = SimpleNamespace(
            status=status,
            received_on=received,
            referrals=case_referrals,
            history=history.get(row[0], []),
        )
        deadlines = open_deadlines(view, rules)
        if deadlines:
            first_due[position] = deadlines[0].due_on
    return {
        "case": np.array([row[0] for row in rows], dtype="S32"),
        "mission": np.array([row[1] for row in rows], dtype="U16"),
        "received": np.array([row[2] for row in rows], dtype="datetime64[D]"),
        "to_referral": to_referral,
        "to_finding": to_finding,
        "first_due": first_due,
    }


WAITING = "pending_member_state"


def rules_signature() -> str:
    """The deadline rules records were computed with (a snapshot holds them)."""
    return repr(DeadlineRules.from_settings(current_app.extensions["conduct_settings"]))


def is_late(records, today: date) -> np.ndarray:
    """Which cases are overdue today: some open deadline passed (NaT compares false)."""
    return records["first_due"] < np.datetime64(today, "D")


def _referrals_by_case(cases: list[str] | None) -> dict:
    rows = facts.read_referrals(cases)
    decode = facts.FactDecoder(("entity", "purpose"))
    grouped = defaultdict(list)
    for row, (entity, purpose) in zip(rows, decode.of_rows("referrals", rows), strict=True):
        grouped[row[0]].append(
            SimpleNamespace(
                entity=entity, purpose=purpose, referred_on=row[1], acknowledged_on=row[2]
            )
        )
    return grouped


def _history_of(case_ids: list) -> dict:
    """Status changes of the cases waiting for a member state (the only ones that need it)."""
    if not case_ids:
        return {}
    rows = facts.read_status_changes(case_ids)
    decode = facts.FactDecoder(("to_status",))
    grouped = defaultdict(list)
    for row, (to_status,) in zip(rows, decode.of_rows("status_changes", rows), strict=True):
        grouped[row[0]].append(SimpleNamespace(to_status=to_status, at=row[1]))
    return grouped


def measure_cells(
    columns: dict[str, np.ndarray], to_referral, to_finding, late, shape_of
) -> dict[DimensionSet, dict[str, np.ndarray]]:
    """Each measure of every cell of every reachable set, NaN where there is nothing to
    measure; with ``referred`` and ``found`` (how many reports each median rests on).
    ``columns`` are the cases' mission and year indexes."""
    size_of_cases = len(late)
    result = {}
    for dims in reachable_dimension_sets(TIMELINESS):
        shape = shape_of(dims)
        size = int(np.prod(shape)) if dims else 1
        if dims and size_of_cases:
            flat = np.ravel_multi_index([columns[n] for n in dims], shape)
        else:
            flat = np.zeros(size_of_cases, dtype=np.int64)
        result[dims] = _measures(flat, size, to_referral, to_finding, late, shape)
    return result


def _measures(flat, size, to_referral, to_finding, late, shape):
    out = {name: np.full(size, np.nan) for name in (*MEASURES, "referred", "found")}
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(size + 1))
    for cell in range(size):
        members = order[bounds[cell] : bounds[cell + 1]]
        if not len(members):
            continue
        for kind, values in (("referral", to_referral), ("finding", to_finding)):
            known = values[members]
            known = known[~np.isnan(known)]
            out["referred" if kind == "referral" else "found"][cell] = len(known)
            if len(known):
                out[f"median_days_to_{kind}"][cell] = float(np.median(known))
                out[f"p90_days_to_{kind}"][cell] = float(np.percentile(known, 90))
        out["share_overdue"][cell] = float(late[members].mean())
    return {name: values.reshape(shape) for name, values in out.items()}
