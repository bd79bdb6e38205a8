"""An attacker who knows published report answers and tries to recover suppressed cells.

It sees only what a user sees: answers (rows and totals) as the service returns them. It
knows how tables are counted: a cell on some dimensions is the sum of the cells that add one
more single-valued dimension (over every value of it shown), whichever answers those come
from; cells of a multi-valued dimension (personnel categories of a report, actions on a
subject) do not sum to anything, and the attacker does not pretend they do. Counts are
non-negative.

Two attacks:

- :meth:`Attacker.determined`: every suppressed cell whose value follows from the equations
  by any combination of additions and subtractions (exact linear algebra: the cell's unit
  vector lies in the row space of the equations restricted to suppressed cells).
- :meth:`Attacker.bounds`: the smallest and largest value of a suppressed cell that the
  equations and non-negativity allow (linear programming, HiGHS).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from scipy.optimize import linprog

Key = frozenset


def cell_key(answer: dict, row: dict | None) -> Key:
    """The cell a row (or, with ``row`` None, the total) of an answer stands for."""
    pairs = set()
    if row is not None:
        pairs |= {(name, row[name]) for name in answer["by"]}
    if answer["year"] is not None:
        pairs.add(("year", answer["year"]))
    return Key(pairs)


class Attacker:
    def __init__(
        self,
        answers: Iterable[dict],
        single_valued: Iterable[str],
        domains: dict[str, set] | None = None,
    ):
        """``domains``: every value of each dimension, as the attacker knows them from all
        answers (the lists are public); by default, those the given answers show."""
        answers = list(answers)
        self.single_valued = set(single_valued)
        self.published: dict[Key, int] = {}
        self.hidden: set[Key] = set()
        self.domains: dict[str, set] = defaultdict(set)
        for answer in answers:
            for row in answer["rows"]:
                self._learn(cell_key(answer, row), row["count"])
                for name in answer["by"]:
                    self.domains[name].add(row[name])
            self._learn(cell_key(answer, None), answer["total"])
            if answer["year"] is not None:
                self.domains["year"].add(answer["year"])
        if domains is not None:
            self.domains = defaultdict(set, domains)

    def _learn(self, key: Key, count) -> None:
        if count is None:
            self.hidden.add(key)
        else:
            assert self.published.get(key, count) == count, "answers disagree on a cell"
            self.published[key] = count

    def equations(self) -> list[tuple[Key, list[Key]]]:
        """(cell, parts): cell = sum of parts, wherever every part is shown somewhere."""
        known = self.published.keys() | self.hidden
        found = []
        for key in known:
            named = {name for name, _ in key}
            for name in self.single_valued - named:
                parts = [key | {(name, value)} for value in self.domains[name]]
                if parts and all(part in known for part in parts):
                    found.append((key, parts))
        return found

    def _system(self):
        """The equations over suppressed cells only: matrix, right-hand side, variables."""
        variables = sorted(self.hidden, key=sorted_key)
        column = {key: at for at, key in enumerate(variables)}
        rows, rhs = [], []
        for total, parts in self.equations():
            coefficients = defaultdict(float)
            constant = 0.0
            for key, sign in ((total, 1.0), *((part, -1.0) for part in parts)):
                if key in column:
                    coefficients[column[key]] += sign
                else:
                    constant -= sign * self.published[key]
            if any(coefficients.values()):
                row = np.zeros(len(variables))
                for at, value in coefficients.items():
                    row[at] = value
                rows.append(row)
                rhs.append(constant)
            else:
                assert abs(constant) < 1e-9, "published cells break a sum relation"
        matrix = np.array(rows).reshape(len(rows), len(variables))
        return matrix, np.array(rhs), variables

    def determined(self) -> list[Key]:
        """Suppressed cells whose value the equations fix."""
        matrix, _, variables = self._system()
        if not len(variables):
            return []
        if not len(matrix):
            return []
        _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > 1e-9 * max(1.0, singular[0])).sum())
        basis = vt[:rank]
        # Length of each unit vector's projection on the row space: 1 when it lies in it.
        projection = (basis**2).sum(axis=0)
        return [key for key, length in zip(variables, projection, strict=True) if length > 1 - 1e-6]

    def bounds(self, key: Key) -> tuple[float, float]:
        """The range of a suppressed cell under the equations and non-negativity."""
        matrix, rhs, variables = self._system()
        target = np.zeros(len(variables))
        target[variables.index(key)] = 1.0
        low = linprog(target, A_eq=matrix, b_eq=rhs, bounds=(0, None), method="highs")
        high = linprog(-target, A_eq=matrix, b_eq=rhs, bounds=(0, None), method="highs")
        assert low.status == 0, low.message
        upper = float("inf") if high.status == 3 else -high.fun
        return low.fun, upper


def domains_of(answers: Iterable[dict]) -> dict[str, set]:
    """The values of each dimension that the answers show."""
    return Attacker(answers, ()).domains


def sorted_key(key: Key) -> list:
    return sorted((name, str(value)) for name, value in key)
