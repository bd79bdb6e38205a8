"""The statistics tables, their dimensions, and counting every cell a user can reach.

A table counts units (reports, victims, subjects) by dimensions. A user asks for one or two
dimensions (``by``) and, optionally, one year; so every answer is a marginal of the table on a
set of at most two dimensions other than the year, plus the year when it is asked for or
filtered on. :func:`reachable_dimension_sets` lists those sets and :func:`count_cells` counts
each of them at once, with numpy, from the table's units encoded as integers.

Counting rules (brief section 2): a report is counted once per personnel category it names
(the category is a *multi-valued* dimension: its cells of one report sum to more than the
report, and the total of an answer is the number of reports, not the sum of its rows); a
subject once per action taken; victims and subjects one per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

YEAR = "year"
DimensionSet = tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    """One statistics table: what it counts and by which dimensions (canonical order)."""

    name: str
    unit: str
    dimensions: tuple[str, ...]
    # The one dimension a unit may hold several values of (counted once per value), if any.
    multi_valued: str | None = None

    def __post_init__(self) -> None:
        assert YEAR in self.dimensions
        assert self.multi_valued is None or self.multi_valued in self.dimensions

    def order(self, names) -> DimensionSet:
        """``names`` in the table's canonical order."""
        return tuple(name for name in self.dimensions if name in set(names))


ALLEGATIONS = TableSpec(
    "allegations",
    "reports",
    (
        "mission",
        YEAR,
        "quarter",
        "category",
        "allegation_type",
        "personnel_category",
        "status",
        "source",
    ),
    multi_valued="personnel_category",
)
VICTIMS = TableSpec("victims", "victims", ("mission", YEAR, "sex", "age_group"))
SUBJECTS = TableSpec(
    "subjects",
    "subjects",
    ("mission", YEAR, "personnel_category", "nationality", "finding", "action"),
    multi_valued="action",
)
# Timeliness counts reports by mission and year: its cells are cells of the allegations table
# and share its suppression decisions (see conduct.reports.timeliness).
TIMELINESS = TableSpec("timeliness", "reports", ("mission", YEAR))

TABLES: dict[str, TableSpec] = {
    spec.name: spec for spec in (ALLEGATIONS, VICTIMS, SUBJECTS, TIMELINESS)
}


def reachable_dimension_sets(spec: TableSpec) -> list[DimensionSet]:
    """Every set of dimensions some answer shows a cell of (``by`` plus the year filter),
    and the empty set (the grand total). At most two dimensions besides the year."""
    others = [name for name in spec.dimensions if name != YEAR]
    sets: list[DimensionSet] = []
    for size in range(3):
        for chosen in combinations(others, size):
            sets.append(spec.order(chosen))
            sets.append(spec.order((*chosen, YEAR)))
    return sets


@dataclass
class Population:
    """A table's units with each dimension encoded as an index into its domain.

    ``codes[name]`` holds one index per unit for a single-valued dimension. The multi-valued
    dimension (if any) is a list of (unit, value index) pairs, one per distinct value a unit
    holds: ``multi_units`` and ``multi_codes``.
    """

    spec: TableSpec
    domains: dict[str, tuple]
    codes: dict[str, np.ndarray]
    multi_units: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    multi_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def size(self) -> int:
        return len(next(iter(self.codes.values()))) if self.codes else 0

    def shape(self, dims: DimensionSet) -> tuple[int, ...]:
        return tuple(len(self.domains[name]) for name in dims)

    def columns(self, dims: DimensionSet) -> list[np.ndarray]:
        """The index columns of ``dims``: one entry per unit, or per (unit, value) pair when
        the multi-valued dimension is among them."""
        multi = self.spec.multi_valued
        if multi in dims:
            return [
                self.multi_codes if name == multi else self.codes[name][self.multi_units]
                for name in dims
            ]
        return [self.codes[name] for name in dims]


Counts = dict[DimensionSet, np.ndarray]


def count_cells(population: Population) -> Counts:
    """The count of every cell of every reachable dimension set, as one array per set (axes
    in the set's order).

    The largest sets (two dimensions and the year) are counted from the units, one
    ``bincount`` each; smaller ones are their sums over a single-valued dimension, so a
    multi-valued dimension is never summed over.
    """
    spec = population.spec
    counts: Counts = {}
    for dims in sorted(reachable_dimension_sets(spec), key=len, reverse=True):
        source = _summable_parent(spec, dims, counts)
        if source is None:
            counts[dims] = _count_directly(population, dims)
        else:
            parent, axis = source
            counts[dims] = counts[parent].sum(axis=axis)
    return counts


def _summable_parent(spec: TableSpec, dims: DimensionSet, counts: Counts):
    """A counted set with one more, single-valued dimension than ``dims`` (and its axis)."""
    for extra in (YEAR, *spec.dimensions):
        if extra in dims or extra == spec.multi_valued:
            continue
        parent = spec.order((*dims, extra))
        if parent in counts:
            return parent, parent.index(extra)
    return None


def _count_directly(population: Population, dims: DimensionSet) -> np.ndarray:
    if not dims:
        return np.array(population.size, dtype=np.int64)
    shape = population.shape(dims)
    size = int(np.prod(shape))
    columns = population.columns(dims)
    if size == 0 or len(columns[0]) == 0:
        return np.zeros(shape, dtype=np.int64)
    flat = np.ravel_multi_index(columns, shape)
    return np.bincount(flat, minlength=size).astype(np.int64).reshape(shape)


def encode(values: Sequence, domain: Sequence) -> np.ndarray:
    """Values as indexes into ``domain``."""
    index = {value: position for position, value in enumerate(domain)}
    return np.fromiter((index[value] for value in values), dtype=np.int64, count=len(values))
