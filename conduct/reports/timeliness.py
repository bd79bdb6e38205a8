"""Timeliness: days from receipt to referral and from referral to finding, and overdue cases.

Per report: the days from receipt to its first referral for investigation; the days from that
referral to its first finding (a plain date); whether any of its deadlines is overdue today
(``conduct.cases.deadlines``, the same rules as the officers' lists). Cells are reports by
mission and year, so their counts are cells of the allegations table and take its
suppression decisions; a median or 90th percentile is published only for a published cell
with at least ``threshold`` reports behind it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from types import SimpleNamespace

import numpy as np

from conduct.cases.deadlines import DeadlineRules, overdue

from . import facts
from .tables import TIMELINESS, DimensionSet, reachable_dimension_sets

MEASURES = (
    "median_days_to_referral",
    "p90_days_to_referral",
    "median_days_to_finding",
    "p90_days_to_finding",
    "share_overdue",
)


def case_measures(today: date, rules: DeadlineRules):
    """Per case, in the order of :func:`facts.read_cases`: days to referral, days to finding
    (NaN when not there yet), overdue (bool); and the case frame."""
    cases = facts.read_cases(with_facts=True)
    decode = facts.FactDecoder(("status",), cut_incident_date=True)
    statuses = [found[0] for found in decode.of_rows("cases", cases.rows)]
    referrals = _referrals_by_case()
    waiting = {
        row[0]
        for row, status in zip(cases.rows, statuses, strict=True)
        if status == "pending_member_state"
    }
    history = _history_of(waiting)
    first_finding: dict = {}
    for case_id, decided_on in facts.read_finding_dates():
        if decided_on is not None and (
            case_id not in first_finding or decided_on < first_finding[case_id]
        ):
            first_finding[case_id] = decided_on
    size = len(cases.rows)
    to_referral = np.full(size, np.nan)
    to_finding = np.full(size, np.nan)
    late = np.zeros(size, dtype=bool)
    received = cases.received_on()
    for position, (row, status) in enumerate(zip(cases.rows, statuses, strict=True)):
        case_referrals = referrals.get(row[0], [])
        investigations = [r.referred_on for r in case_referrals if r.purpose == "investigation"]
        if investigations:
            first = min(investigations)
            to_referral[position] = (first - received[position]).days
            found = first_finding.get(row[0])
            if found is not None:
                to_finding[position] = (found - first).days
        view = SimpleNamespace(
            status=status,
            received_on=received[position],
            referrals=case_referrals,
            history=history.get(row[0], []),
        )
        late[position] = bool(overdue(view, today, rules))
    return cases, to_referral, to_finding, late


def _referrals_by_case() -> dict:
    rows = facts.read_referrals()
    decode = facts.FactDecoder(("entity", "purpose"))
    grouped = defaultdict(list)
    for row, (entity, purpose) in zip(rows, decode.of_rows("referrals", rows), strict=True):
        grouped[row[0]].append(
            SimpleNamespace(
                entity=entity, purpose=purpose, referred_on=row[1], acknowledged_on=row[2]
            )
        )
    return grouped


def _history_of(case_ids: set) -> dict:
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
    cases, to_referral, to_finding, late, shape_of
) -> dict[DimensionSet, dict[str, np.ndarray]]:
    """Each measure of every cell of every reachable set, NaN where there is nothing to
    measure; with ``referred`` and ``found`` (how many reports each median rests on)."""
    columns = {"mission": cases.mission, "year": cases.year}
    result = {}
    for dims in reachable_dimension_sets(TIMELINESS):
        shape = shape_of(dims)
        size = int(np.prod(shape)) if dims else 1
        if dims and len(cases.rows):
            flat = np.ravel_multi_index([columns[n] for n in dims], shape)
        else:
            flat = np.zeros(len(cases.rows), dtype=np.int64)
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
