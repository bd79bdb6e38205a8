"""Disclosure control: which cells of a table are suppressed, for every answer at once.

Every answer a user can ask for is a set of cells of the table's reachable dimension sets
(:func:`conduct.reports.tables.reachable_dimension_sets`), so one decision over all of them
is consistent across answers by construction: a cell is hidden in every answer that shows it.

Primary suppression hides each cell with ``0 < count < threshold``. Secondary suppression
then gives every hidden cell a *certificate*: a change of the underlying counts that moves
the hidden cell by one, changes only hidden cells, and keeps every published cell, every
published total and every sum relation between cells as they are. Its existence proves that
no attacker who combines any number of published answers by addition and subtraction (or
linear programming over them, with counts known to be non-negative) can pin the hidden cell:
the published numbers fit the true counts and the changed ones alike.

The certificates are the classic alternating patterns of contingency tables, lifted to every
table that shares the cell's dimensions. For a cell with values ``v`` on dimensions ``S``
choose, for each single-valued dimension ``d`` of ``S``, another value ``w_d``, and a fixed
value ("pin") for every other dimension some reachable set adds to ``S``. The change is the
product over ``d`` of (+1 at ``v_d``, -1 at ``w_d``) at the pins: summing it over any
dimension of ``S`` gives zero, so only cells on sets containing all of ``S`` change, the
2^|S| corners at the pins in each such set. A change is usable in one direction when every
cell it lowers is at least 1 (and every cell it raises could be non-zero, see
:func:`is_possible`), in both when every corner is at least 1; we prefer both.

A multi-valued dimension (personnel categories of a report, actions on a subject) has no
sum relation over its values: its cells for one value form a separate population, and a
certificate for one of them stays inside it.

If a cell has no certificate (very sparse data), every non-zero cell of its population is
hidden: then removing any one unit changes hidden cells only. docs/statistics.md states the
rule, its proof and its limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, product

import numpy as np

from .tables import YEAR, Counts, DimensionSet, Population, TableSpec, reachable_dimension_sets

Cell = tuple[DimensionSet, tuple[int, ...]]
Hidden = dict[DimensionSet, np.ndarray]

MODES = ("both", "lower", "raise")  # directions a certificate allows, best first


def decide(
    population: Population, counts: Counts, threshold: int, sparse_share: float | None = None
) -> Hidden:
    """The hidden cells of every reachable dimension set (True = suppressed).

    ``sparse_share`` (default SPARSE_SHARE; above 1 never) is the share of primary cells
    above which a whole population is hidden without certificates."""
    share = SPARSE_SHARE if sparse_share is None else sparse_share
    return _Decider(population, counts, threshold, share).run()


def is_possible(spec: TableSpec, dims: DimensionSet, index: tuple[int, ...], domains) -> bool:
    """False for cells the rules of data entry keep at zero (an attacker knows them)."""
    values = {name: domains[name][at] for name, at in zip(dims, index, strict=True)}
    if "category" in values and values.get("allegation_type") is not None:
        from conduct.codes import SEA_ALLEGATION_TYPES

        category = values["category"]
        if category is not None:
            is_sea = values["allegation_type"] in SEA_ALLEGATION_TYPES
            if is_sea != (category != "other_misconduct"):
                return False
    return not ("action" in values and "finding" in values and values["finding"] is None)


@dataclass
class _Certificate:
    mode: str
    cells: list[Cell]
    cost: tuple[int, int]

    def rank(self) -> tuple:
        return (MODES.index(self.mode) > 0, self.cost)


_BIG = float(1 << 40)
MAX_ALTERNATIVES = 6  # other values tried per flipped dimension
SPARSE_SHARE = 0.5  # share of primary cells above which a whole population is hidden


class _Grid:
    """Corners of a change for every choice at once: numpy arrays whose axes are the
    choices (other values of the flipped dimensions, the shared year, one more pin)."""

    def __init__(self, decider, value, flipped, axes, fixed, choices):
        self.decider = decider
        self.value = value
        self.flipped = flipped
        self.axes = axes
        self.fixed = fixed
        # The values tried on each axis (indexes into the dimension's domain).
        self.choices = choices

    def evaluate(self, sets, shape, pin: str | None = None):
        """Per mode: the cost of every choice (new hidden cells, then their sum) and whether
        the change may move that way; with ``pin``, one more (last) axis over its values."""
        decider = self.decider
        ndim = len(self.axes) + (pin is not None)
        full = shape + ((len(decider.population.domains[pin]),) if pin is not None else ())
        costs = np.zeros(full)
        allowed = {mode: np.ones(full, dtype=bool) for mode in MODES}
        for dims in sets:
            possible_cells = decider.possible.get(dims)
            for flips in product((0, 1), repeat=len(self.flipped)):
                index = self._index(dims, dict(zip(self.flipped, flips, strict=True)), pin, ndim)
                count = decider.counts[dims][index]
                new = ~decider.hidden[dims][index]
                costs += new * (_BIG + count)
                nonzero = count >= 1
                may_rise = nonzero if possible_cells is None else nonzero | possible_cells[index]
                even = sum(flips) % 2 == 0
                allowed["both"] &= nonzero
                allowed["lower"] &= nonzero if even else may_rise
                allowed["raise"] &= may_rise if even else nonzero
        return {mode: costs for mode in MODES}, allowed

    def _index(self, dims, flips, pin, ndim):
        index = []
        for name in dims:
            if name in flips and flips[name] or (name in self.axes and name not in flips):
                axis = self.axes.index(name)
                values = self.choices[name]
            elif name == pin:
                axis = ndim - 1
                values = np.arange(len(self.decider.population.domains[name]))
            else:
                index.append(self.fixed.get(name, self.value.get(name)))
                continue
            index.append(values.reshape([-1 if i == axis else 1 for i in range(ndim)]))
        return tuple(index)


class _Decider:
    def __init__(self, population: Population, counts: Counts, threshold: int, share: float):
        self.sparse_share = share
        self.population = population
        self.spec = population.spec
        self.counts = counts
        self.threshold = threshold
        self.sets = reachable_dimension_sets(self.spec)
        self.hidden: Hidden = {
            dims: np.asarray((values > 0) & (values < threshold)) for dims, values in counts.items()
        }
        self.covered: Hidden = {dims: np.zeros(v.shape, bool) for dims, v in counts.items()}
        self.possible = self._possible_cells()

    def _possible_cells(self) -> dict[DimensionSet, np.ndarray]:
        """Where data entry rules force zeros: a boolean array per set that has such cells."""
        found = {}
        domains = self.population.domains
        for dims in self.sets:
            pairs = ({"category", "allegation_type"}, {"action", "finding"})
            if not any(pair <= set(dims) for pair in pairs):
                continue
            shape = self.counts[dims].shape
            found[dims] = np.array(
                [is_possible(self.spec, dims, index, domains) for index in np.ndindex(shape)],
                dtype=bool,
            ).reshape(shape)
        return found

    def run(self) -> Hidden:
        if int(self.counts[()]) < self.threshold:
            for dims in self.sets:
                self.hidden[dims] = np.asarray(self.counts[dims] > 0)
            return self.hidden
        self._hide_sparse_populations()
        for cell in self._primary_cells():
            dims, index = cell
            if self.covered[dims][index]:
                continue
            certificate = self._certificate(cell)
            if certificate is None:
                self._hide_population(dims, index)
            else:
                for target in certificate.cells:
                    self.hidden[target[0]][target[1]] = True
                    self.covered[target[0]][target[1]] = True
        return self.hidden

    def _hide_sparse_populations(self) -> None:
        """Where at least SPARSE_SHARE of a population's non-zero cells are primary, hide all
        its non-zero cells at once: certificates would hide nearly as much, at great cost."""
        multi = self.spec.multi_valued
        populations = [((), None)]
        if multi is not None:
            populations += [((multi,), k) for k in range(len(self.population.domains[multi]))]
        for anchor, value in populations:
            primary = nonzero = 0
            for dims in self.sets:
                if (multi in dims) != bool(anchor):
                    continue
                counts, hidden = self.counts[dims], self.hidden[dims]
                if anchor:
                    position = dims.index(multi)
                    counts = np.take(counts, value, axis=position)
                    hidden = np.take(hidden, value, axis=position)
                nonzero += int((counts > 0).sum())
                primary += int(hidden.sum())
            if nonzero and primary >= self.sparse_share * nonzero:
                self._hide_population(anchor, () if not anchor else (value,))

    def _primary_cells(self) -> list[Cell]:
        """Primary cells, those of the most dimensions first (their certificates are small
        and often cover other primary cells)."""
        cells = []
        for dims in sorted(self.sets, key=len, reverse=True):
            if not dims:
                continue  # the grand total: run() hides everything when it is small
            for index in zip(*np.nonzero(self.hidden[dims]), strict=True):
                cells.append((dims, tuple(int(i) for i in index)))
        return cells

    # --- Certificates ---------------------------------------------------------------------

    def _certificate(self, cell: Cell) -> _Certificate | None:
        """A certificate that flips as many of the cell's dimensions as possible (flipping
        fewer pins the others at the cell's values, and touches bigger tables): the cheapest
        of the first choice of dimensions that has one."""
        dims, index = cell
        value = dict(zip(dims, index, strict=True))
        free = tuple(name for name in dims if name != self.spec.multi_valued)
        for size in range(len(free), -1, -1):
            for flipped in combinations(free, size):
                found = self._flipping(value, flipped)
                if found is not None:
                    return found
        return None

    def _flipping(self, value, flipped) -> _Certificate | None:
        multi = self.spec.multi_valued
        anchor = {name: value[name] for name in value if name in flipped or name == multi}
        supersets = [
            other
            for other in self.sets
            if set(anchor) <= set(other) and (multi in other) == (multi in value)
        ]
        pins_needed = self.spec.order({n for other in supersets for n in other} - set(anchor))
        fixed = {name: value[name] for name in pins_needed if name in value}
        found = None
        if flipped and flipped != (YEAR,):
            found = self._search(anchor, flipped, supersets, pins_needed, fixed)
        if found is None and len(flipped) <= 1:
            found = self._unit_certificate(value, anchor, flipped, supersets, pins_needed)
        return found

    def _search(self, value, flipped, supersets, pins_needed, fixed) -> _Certificate | None:
        """Every choice of other values for the flipped dimensions (and of the year, when it
        is pinned together with other dimensions) at once, as numpy arrays over the choices;
        each other pin is chosen on its own, given those. The best certificate: both
        directions if possible, then fewest newly hidden cells, then smallest of them."""
        free_pins = [name for name in pins_needed if name not in fixed]
        if any(sum(1 for n in s if n in free_pins and n != YEAR) > 1 for s in supersets):
            return None  # two pins in one table: not a search this one can make
        shared = YEAR in free_pins and any(
            YEAR in s and len(set(s) & set(free_pins)) > 1 for s in supersets
        )
        axes = [*flipped, *([YEAR] if shared else [])]
        choices = {name: self._alternatives(value, name) for name in flipped}
        if shared:
            choices[YEAR] = np.arange(len(self.population.domains[YEAR]))
        shape = tuple(len(choices[name]) for name in axes)
        if not all(shape):
            return None
        independent = [name for name in free_pins if name not in axes]
        grid = _Grid(self, value, flipped, axes, fixed, choices)
        base = [s for s in supersets if not set(s) & set(independent)]
        costs, allowed = grid.evaluate(base, shape)
        chosen_pins: dict[str, dict[str, np.ndarray]] = {}
        for name in independent:
            if not any(possible.any() for possible in allowed.values()):
                return None  # no choice left: the other pins cannot help
            sets = [s for s in supersets if name in s]
            pin_costs, pin_allowed = grid.evaluate(sets, shape, name)
            chosen_pins[name] = {}
            for mode in MODES:
                masked = np.where(pin_allowed[mode], pin_costs[mode], np.inf)
                chosen_pins[name][mode] = masked.argmin(axis=-1)
                costs[mode] = costs[mode] + masked.min(axis=-1)
                allowed[mode] &= pin_allowed[mode].any(axis=-1)
        totals = {mode: np.where(allowed[mode], costs[mode], np.inf) for mode in MODES}
        usable = [mode for mode in MODES if np.isfinite(totals[mode]).any()]
        if not usable:
            return None
        # Both directions if possible; else the cheaper of the two one-way changes.
        mode = "both" if "both" in usable else min(usable, key=lambda m: totals[m].min())
        point = np.unravel_index(int(totals[mode].argmin()), shape)
        picked = {name: int(choices[name][at]) for name, at in zip(axes, point, strict=True)}
        pins = dict(fixed)
        if shared:
            pins[YEAR] = picked.pop(YEAR)
        for name in independent:
            pins[name] = int(chosen_pins[name][mode][point])
        corners = self._corners(supersets, value, picked, pins)
        return _Certificate(mode, [c[:2] for c in corners], self._cost(corners))

    def _corners(self, sets, value, alternatives, pins) -> list[tuple]:
        """(dims, index, sign parity, count) of every corner of the change on ``sets``."""
        free = list(alternatives)
        corners = []
        for dims in sets:
            array = self.counts[dims]
            for flips in product((0, 1), repeat=len(free)):
                chosen = {
                    n: alternatives[n] if f else value[n] for n, f in zip(free, flips, strict=True)
                }
                index = tuple(
                    chosen[n] if n in chosen else pins[n] if n in pins else value[n] for n in dims
                )
                corners.append((dims, index, sum(flips) % 2, int(array[index])))
        return corners

    def _allows(self, corners, mode: str) -> bool:
        """Can the change move in ``mode`` without a negative or impossible count?"""
        for dims, index, parity, count in corners:
            lowered = mode == "both" or (parity == 0) == (mode == "lower")
            if lowered and count < 1:
                return False
            if not lowered and count < 1 and not self._possible(dims, index):
                return False
        return True

    def _possible(self, dims, index) -> bool:
        possible = self.possible.get(dims)
        return True if possible is None else bool(possible[index])

    def _cost(self, corners) -> tuple[int, int]:
        new = [(d, i, c) for d, i, _, c in corners if not self.hidden[d][i]]
        return len({(d, i) for d, i, _ in new}), sum(c for _, _, c in new)

    def _alternatives(self, value, name) -> np.ndarray:
        """Other values of a flipped dimension to try: those whose cell (the anchor cell with
        this value swapped in) holds most units, at most MAX_ALTERNATIVES."""
        dims = self.spec.order(value)
        index = tuple(slice(None) if n == name else value[n] for n in dims)
        neighbours = self.counts[dims][index]
        order = np.argsort(-neighbours, kind="stable")
        return order[order != value[name]][:MAX_ALTERNATIVES]

    def _unit_certificate(
        self, value, anchor, flipped, supersets, pins_needed
    ) -> _Certificate | None:
        """Move one unit of the cell to another value of the flipped dimension (or, with
        none, remove it), pinning every other dimension to that unit's own values, so every
        lowered cell holds the unit."""
        unit = self._unit_in(value)
        if unit is None:
            return None
        pins = {name: self._unit_value(unit, name) for name in pins_needed}
        options = [{}]
        if flipped:
            options = [{flipped[0]: other} for other in self._every_other(value, flipped)]
        best = None
        for alternatives in options:
            corners = self._corners(supersets, anchor, alternatives, pins)
            for mode in ("both", "lower"):
                if self._allows(corners, mode):
                    candidate = _Certificate(mode, [c[:2] for c in corners], self._cost(corners))
                    if best is None or candidate.rank() < best.rank():
                        best = candidate
        return best

    def _every_other(self, value, moved) -> list[int]:
        name = moved[0]
        return [o for o in range(len(self.population.domains[name])) if o != value[name]]

    def _unit_in(self, value) -> tuple[str, int] | None:
        """A unit counted in the cell: ("unit", i) or ("pair", i) for a multi-valued cell."""
        population = self.population
        multi = self.spec.multi_valued
        if multi in value:
            rows = population.multi_codes == value[multi]
            for name, at in value.items():
                if name != multi:
                    rows &= population.codes[name][population.multi_units] == at
            found = np.flatnonzero(rows)
            return None if not len(found) else ("pair", int(found[0]))
        rows = np.ones(population.size, bool)
        for name, at in value.items():
            rows &= population.codes[name] == at
        found = np.flatnonzero(rows)
        return None if not len(found) else ("unit", int(found[0]))

    def _unit_value(self, unit, name) -> int:
        kind, at = unit
        if kind == "pair":
            at = int(self.population.multi_units[at])
        return int(self.population.codes[name][at])

    # --- Fallback ---------------------------------------------------------------------------

    def _hide_population(self, dims, index) -> None:
        """Hide every non-zero cell of the cell's population (the main one, or the one of its
        value of the multi-valued dimension): removing one unit then changes hidden cells
        only."""
        multi = self.spec.multi_valued
        for other in self.sets:
            if (multi in other) != (multi in dims):
                continue
            mask = self.counts[other] > 0
            if multi in dims:
                keep = np.zeros_like(mask)
                position = other.index(multi)
                selector = [slice(None)] * len(other)
                selector[position] = index[dims.index(multi)]
                keep[tuple(selector)] = True
                mask &= keep
            self.hidden[other] |= mask
            self.covered[other] |= mask
