"""Report answers: computed once per state of the data, cut per request, always audited.

Computing a table takes its records (one per counted unit, :mod:`.units`) from its sealed
snapshot brought up to date with the cases changed since (:mod:`.snapshots`), or reads them
from every row, counts every cell a user could ask for and decides suppression for all of
them at once (:mod:`.disclosure`). The
result is kept in an in-process cache holding *published* cells only (suppressed ones are
already blanked), keyed by the statistics generation (:mod:`conduct.cases.generation`): a
counter row that every commit changing a row with coded facts, or shredding a case, raises in
its own transaction. Reading it is one primary-key look-up; a change committed by any
application process moves it on, so the next request computes afresh. Timeliness is also
keyed by today's date (overdue changes with it).

Every answer, computed or cached, writes a ``report.view`` or ``report.export`` audit event
naming the table and the dimensions asked for (never a count).
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations, product
from typing import Any

import numpy as np
from flask import current_app
from flask_babel import gettext

from conduct.audit import record
from conduct.cases.generation import statistics_generation
from conduct.core.db import db
from conduct.core.errors import NotFound, ValidationFailed

from . import disclosure, snapshots, timeliness, units
from .schemas import ReportQuery, query_arguments
from .tables import (
    ALLEGATIONS,
    TABLES,
    TIMELINESS,
    YEAR,
    DimensionSet,
    TableSpec,
    count_cells,
)

HIDDEN = -1


@dataclass
class ComputedTable:
    """A table's published cells: counts per reachable dimension set, HIDDEN where
    suppressed; for timeliness also its measures (NaN where not published)."""

    spec: TableSpec
    domains: dict[str, tuple]
    published: dict[DimensionSet, np.ndarray]
    measures: dict[DimensionSet, dict[str, np.ndarray]] = field(default_factory=dict)


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    entries: dict[tuple, tuple[tuple, ComputedTable]] = field(default_factory=dict)


_cache = _Cache()


def clear_cache() -> None:
    with _cache.lock:
        _cache.entries.clear()


def computed_table(name: str, threshold: int, today: date | None = None) -> ComputedTable:
    """The table, from the cache when the data has not changed since it was computed."""
    # Read before any row: a table computed from newer rows is then only recomputed again.
    return _cached_table(name, threshold, today, statistics_generation())


def _cached_table(
    name: str, threshold: int, today: date | None, generation: int | None
) -> ComputedTable:
    """The table at ``generation`` (None: this transaction's own view, never cached)."""
    # The database too: tests and tools run several applications in one process.
    key = (str(db.engine.url), name, threshold, today if name == TIMELINESS.name else None)
    with _cache.lock:
        hit = _cache.entries.get(key)
    if hit is not None and generation is not None and hit[0] == generation:
        return hit[1]
    table = _compute(name, threshold, today, generation)
    if generation is not None:
        with _cache.lock:
            _cache.entries[key] = (generation, table)
    return table


def _compute(name: str, threshold: int, today: date | None, generation: int | None):
    if name == TIMELINESS.name:
        return _compute_timeliness(threshold, today or date.today(), generation)
    population = units.population(name, snapshots.current_records(name, generation))
    counts = count_cells(population)
    hidden = disclosure.decide(population, counts, threshold)
    published = {dims: np.where(hidden[dims], HIDDEN, counts[dims]) for dims in counts}
    return ComputedTable(population.spec, population.domains, published)


def _compute_timeliness(threshold: int, today: date, generation: int | None) -> ComputedTable:
    """Reports by mission and year, with the allegations table's decisions on the same
    cells, and the measures of the published ones."""
    # The allegations table of the same generation, whose cells and domains these share.
    allegations = _cached_table(ALLEGATIONS.name, threshold, None, generation)
    records = snapshots.current_records(TIMELINESS.name, generation)
    columns = _on_domains(records, allegations.domains)
    if columns is None:
        # A change the generation does not show landed between the two reads (a case in a
        # new year): count the allegations again, over data at least as new as the records.
        allegations = _compute(ALLEGATIONS.name, threshold, None, generation)
        columns = _on_domains(records, allegations.domains)
    domains = {"mission": allegations.domains["mission"], YEAR: allegations.domains[YEAR]}
    measures = timeliness.measure_cells(
        columns,
        records["to_referral"],
        records["to_finding"],
        timeliness.is_late(records, today),
        _shape_of(domains),
    )
    published = {}
    for dims, values in measures.items():
        counts = allegations.published[dims]
        published[dims] = counts
        shown = counts != HIDDEN
        for kind, behind in (("referral", "referred"), ("finding", "found")):
            enough = shown & (values[behind] >= threshold)
            for measure in (f"median_days_to_{kind}", f"p90_days_to_{kind}"):
                values[measure] = np.where(enough, values[measure], np.nan)
        values["share_overdue"] = np.where(shown, values["share_overdue"], np.nan)
        del values["referred"], values["found"]
    return ComputedTable(TIMELINESS, domains, published, measures)


def _on_domains(records, domains) -> dict[str, np.ndarray] | None:
    """The records' mission and year as indexes into ``domains``, or None when a record lies
    outside them."""
    years = domains[YEAR]
    try:
        columns = units.mission_and_year(records, domains["mission"], years)
    except KeyError:
        return None
    found = columns["year"]
    if len(found) and (found.min() < 0 or found.max() >= len(years)):
        return None
    return columns


def _shape_of(domains):
    def shape(dims: DimensionSet) -> tuple[int, ...]:
        return tuple(len(domains[name]) for name in dims)

    return shape


# --- Answers ------------------------------------------------------------------------------------


def table_spec(table: str) -> TableSpec:
    """The table of that name, or 404."""
    spec = TABLES.get(table)
    if spec is None:
        tables = ", ".join(TABLES)
        raise NotFound(gettext("no such report table; tables: %(tables)s", tables=tables))
    return spec


def requested_answer(table: str, args) -> dict:
    """The ``by`` and ``year`` a request's query string asks of ``table`` (NotFound for an
    unknown table, before the arguments are checked)."""
    table_spec(table)
    return ReportQuery().load(query_arguments(args))


def check_request(table: str, by: list[str]) -> TableSpec:
    """The table asked for (404 if unknown) after checking its dimensions (400 naming ``by``)."""
    spec = table_spec(table)
    known = ", ".join(spec.dimensions)
    if not by or len(by) > 2:
        raise ValidationFailed.of(
            {"by": [gettext("give one or two dimensions of: %(known)s", known=known)]}
        )
    if len(set(by)) != len(by):
        raise ValidationFailed.of({"by": [gettext("a dimension is given twice")]})
    unknown = [name for name in by if name not in spec.dimensions]
    if unknown:
        message = gettext(
            "%(table)s has only these dimensions: %(known)s", table=table, known=known
        )
        raise ValidationFailed.of({"by": [message]})
    return spec


def report_answer(
    actor,
    table: str,
    by: list[str],
    year: int | None = None,
    *,
    export: bool = False,
    shown_as: str | None = None,
) -> dict[str, Any]:
    """One answer of the contract: ``{"table", "by", "year", "threshold", "rows", "total"}``.

    Audited as ``report.view`` (or ``report.export``) with the table and the dimensions, and
    ``shown_as`` (``chart``) when the answer is drawn rather than listed.
    """
    spec = check_request(table, by)
    threshold = current_app.extensions["conduct_settings"].suppression_threshold
    computed = computed_table(spec.name, threshold, date.today())
    answer = answer_of(computed, by, year)
    record(
        "report.export" if export else "report.view",
        actor=actor,
        object_type="report",
        object_id=spec.name,
        fields=[
            spec.name,
            *by,
            *(["filter.year"] if year is not None else []),
            *([shown_as] if shown_as else []),
        ],
    )
    return {"table": spec.name, "by": list(by), "year": year, "threshold": threshold, **answer}


def report_csv(actor, table: str, by: list[str], year: int | None = None) -> str:
    """The answer as CSV (one line per row; a suppressed count is empty). Audited as
    ``report.export``."""
    answer = report_answer(actor, table, by, year, export=True)
    output = io.StringIO()
    columns = list(answer["by"])
    extra = [name for name in timeliness.MEASURES if answer["rows"] and name in answer["rows"][0]]
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow([*columns, "count", "suppressed", *extra])
    for row in answer["rows"]:
        writer.writerow(
            [
                *("" if row[name] is None else row[name] for name in columns),
                "" if row["count"] is None else row["count"],
                "yes" if row["suppressed"] else "no",
                *("" if row[name] is None else row[name] for name in extra),
            ]
        )
    total = answer["total"]
    writer.writerow(["total", *[""] * (len(columns) - 1), "" if total is None else total])
    return output.getvalue()


def answer_of(computed: ComputedTable, by, year: int | None) -> dict[str, Any]:
    """The rows and total of one answer, cut from a computed table (no audit: callers
    that serve it to a user record the event)."""
    total = _cell(computed, (), {}, year)
    return {"rows": list(_rows(computed, by, year)), "total": total["count"]}


def possible_requests(computed: ComputedTable):
    """Every (by, year) a user can ask of the table: one or two dimensions (in the table's
    order; the other order gives the same cells), each year or none."""
    names = computed.spec.dimensions
    choices = [(name,) for name in names] + list(combinations(names, 2))
    for by in choices:
        for year in (None, *computed.domains[YEAR]):
            yield by, year


def _shown_values(computed: ComputedTable, name: str) -> list[tuple[int, Any]]:
    """(index, value) of a dimension's values; "not recorded" only when some unit has it."""
    domain = computed.domains[name]
    if name == YEAR or None not in domain:
        return list(enumerate(domain))
    counts = computed.published[computed.spec.order((name,))]
    return [(at, value) for at, value in enumerate(domain) if value is not None or counts[at] != 0]


def _rows(computed: ComputedTable, by: list[str], year: int | None):
    choices = [_shown_values(computed, name) for name in by]
    for picked in product(*choices):
        chosen = dict(zip(by, picked, strict=True))
        row = {name: value for name, (_, value) in chosen.items()}
        if year is not None and YEAR in chosen and chosen[YEAR][1] != year:
            continue
        yield {**row, **_cell(computed, by, {n: at for n, (at, _) in chosen.items()}, year)}


def _cell(computed: ComputedTable, by, positions: dict[str, int], year: int | None) -> dict:
    spec = computed.spec
    dims = spec.order((*by, *([YEAR] if year is not None else [])))
    if year is not None and YEAR not in positions:
        if year not in computed.domains[YEAR]:
            return _empty(computed, dims)
        positions = {**positions, YEAR: computed.domains[YEAR].index(year)}
    index = tuple(positions[name] for name in dims)
    count = int(computed.published[dims][index])
    cell: dict[str, Any] = {"count": None if count == HIDDEN else count}
    cell["suppressed"] = count == HIDDEN
    for name, values in computed.measures.get(dims, {}).items():
        value = float(values[index])
        cell[name] = None if np.isnan(value) else round(value, 3)
    return cell


def _empty(computed: ComputedTable, dims) -> dict:
    """A year nobody reported in: every count is zero (zeros are published)."""
    cell: dict[str, Any] = {"count": 0, "suppressed": False}
    for name in computed.measures.get((), {}):
        cell[name] = None
    return cell
