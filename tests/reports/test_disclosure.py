"""Disclosure control against an attacker, over random case sets (hypothesis).

Case sets are drawn as the coded facts the tables count (small code lists, so that cells are
small and suppression has work to do); every answer a user can request is cut from the
computed table exactly as the API does, and the attacker of ``attacker.py`` gets them.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conduct.reports import disclosure
from conduct.reports.services import HIDDEN, ComputedTable, answer_of, possible_requests
from conduct.reports.tables import (
    ALLEGATIONS,
    SUBJECTS,
    VICTIMS,
    Population,
    count_cells,
    encode,
)
from tests.reports.attacker import Attacker, domains_of

TYPES = {
    "sexual_exploitation": ("transactional_sex", "exploitative_relationship"),
    "sexual_abuse": ("rape",),
    "other_misconduct": ("fraud",),
}
DOMAINS = {
    "allegations": {
        "mission": ("MINUSCA", "MONUSCO", "UNMISS"),
        "year": (2024, 2025),
        "quarter": (1, 2),
        "category": (*TYPES, None),
        "allegation_type": ("rape", "transactional_sex", "exploitative_relationship", "fraud"),
        "personnel_category": ("military_contingent", "international_civilian"),
        "status": ("received", "substantiated"),
        "source": ("victim", "ngo"),
    },
    "victims": {
        "mission": ("MINUSCA", "MONUSCO", "UNMISS"),
        "year": (2023, 2024, 2025),
        "sex": ("female", "male", None),
        "age_group": ("adult", "child", "unknown"),
    },
    "subjects": {
        "mission": ("MINUSCA", "MONUSCO"),
        "year": (2024, 2025),
        "personnel_category": ("military_contingent", "international_civilian"),
        "nationality": ("BGD", "NPL", None),
        "finding": ("substantiated", "not_substantiated", None),
        "action": ("repatriation", "dismissal"),
    },
}
SPECS = {"allegations": ALLEGATIONS, "victims": VICTIMS, "subjects": SUBJECTS}


@st.composite
def allegation(draw):
    domains = DOMAINS["allegations"]
    category = draw(st.sampled_from(list(TYPES)))
    unit = {name: draw(st.sampled_from(domains[name])) for name in ("mission", "year")}
    unit |= {name: draw(st.sampled_from(domains[name])) for name in ("quarter", "status")}
    unit |= {"category": category, "allegation_type": draw(st.sampled_from(TYPES[category]))}
    unit["source"] = draw(st.sampled_from(domains["source"]))
    unit["personnel_category"] = draw(
        st.sets(st.sampled_from(domains["personnel_category"]), max_size=2)
    )
    return unit


@st.composite
def victim(draw):
    return {name: draw(st.sampled_from(v)) for name, v in DOMAINS["victims"].items()}


@st.composite
def subject(draw):
    domains = DOMAINS["subjects"]
    unit = {
        name: draw(st.sampled_from(domains[name]))
        for name in ("mission", "year", "personnel_category", "nationality", "finding")
    }
    unit["action"] = set()
    if unit["finding"] is not None:
        unit["action"] = draw(st.sets(st.sampled_from(domains["action"]), max_size=2))
    return unit


UNITS = {"allegations": allegation(), "victims": victim(), "subjects": subject()}


def population_of(table: str, units: list[dict]) -> Population:
    spec, domains = SPECS[table], DOMAINS[table]
    multi = spec.multi_valued
    codes = {
        name: encode([unit[name] for unit in units], domains[name])
        for name in spec.dimensions
        if name != multi
    }
    pairs = []
    if multi is not None:
        position = {value: at for at, value in enumerate(domains[multi])}
        pairs = [(u, position[v]) for u, unit in enumerate(units) for v in sorted(unit[multi])]
    return Population(
        spec,
        dict(domains),
        codes,
        np.array([u for u, _ in pairs], dtype=np.int64),
        np.array([v for _, v in pairs], dtype=np.int64),
    )


def publish(
    table: str, units: list[dict], threshold: int, sparse_share: float | None = None
) -> tuple[ComputedTable, list[dict]]:
    """Every answer a user can request, as the service cuts them. ``sparse_share`` above 1
    keeps the shortcut for sparse populations out, so that certificates do all the work."""
    population = population_of(table, units)
    counts = count_cells(population)
    hidden = disclosure.decide(population, counts, threshold, sparse_share)
    published = {dims: np.where(hidden[dims], HIDDEN, counts[dims]) for dims in counts}
    computed = ComputedTable(population.spec, population.domains, published)
    answers = [
        {"by": list(by), "year": year, **answer_of(computed, by, year)}
        for by, year in possible_requests(computed)
    ]
    return computed, answers


def single_valued(table: str) -> set[str]:
    spec = SPECS[table]
    return {name for name in spec.dimensions if name != spec.multi_valued}


def case_sets(table: str, most: int = 40):
    return st.lists(UNITS[table], max_size=most)


THRESHOLDS = st.sampled_from([3, 5])
# The default shortcut for sparse data, or none (certificates for every cell).
SHARES = st.sampled_from([None, 2.0])
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(table=st.sampled_from(list(SPECS)), data=st.data(), threshold=THRESHOLDS, share=SHARES)
def test_no_published_cell_is_below_the_threshold(table, data, threshold, share):
    units = data.draw(case_sets(table))
    _, answers = publish(table, units, threshold, share)
    for answer in answers:
        for count in [row["count"] for row in answer["rows"]] + [answer["total"]]:
            assert count is None or count == 0 or count >= threshold


@PROPERTY
@given(table=st.sampled_from(list(SPECS)), data=st.data(), threshold=THRESHOLDS, share=SHARES)
def test_no_suppressed_cell_follows_from_one_table_and_its_margins(table, data, threshold, share):
    """Each two-dimension answer with its row, column and grand totals (the one-dimension
    answers on the same year filter), one at a time."""
    units = data.draw(case_sets(table))
    _, answers = publish(table, units, threshold, share)
    by_request = {(tuple(a["by"]), a["year"]): a for a in answers}
    domains = domains_of(answers)
    for (by, year), answer in by_request.items():
        if len(by) != 2:
            continue
        margins = [by_request[((name,), year)] for name in by]
        attacker = Attacker([answer, *margins], single_valued(table), domains)
        assert attacker.determined() == []


@PROPERTY
@given(table=st.sampled_from(list(SPECS)), data=st.data(), threshold=THRESHOLDS, share=SHARES)
def test_no_suppressed_cell_follows_from_all_answers_together(table, data, threshold, share):
    """The strongest attacker: every answer a user can request at once. Whatever a pair of
    answers gives by subtraction, all answers give too, so this covers every pair; the pair
    test below runs the pairs themselves."""
    units = data.draw(case_sets(table))
    _, answers = publish(table, units, threshold, share)
    attacker = Attacker(answers, single_valued(table))
    assert attacker.determined() == []
    for key in sorted(attacker.hidden, key=str)[:3]:
        low, high = attacker.bounds(key)
        assert high - low >= 1 - 1e-6, f"{sorted(key, key=str)} pinned to [{low}, {high}]"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.sampled_from(["victims", "subjects"]),
    data=st.data(),
    threshold=THRESHOLDS,
    share=SHARES,
)
def test_no_suppressed_cell_follows_from_any_pair_of_answers(table, data, threshold, share):
    """Every pair of answers a user can request (all years minus the other years, one
    grouping minus another, ...), each pair on its own."""
    units = data.draw(case_sets(table, most=30))
    _, answers = publish(table, units, threshold, share)
    domains = domains_of(answers)
    for first, second in combinations(answers, 2):
        attacker = Attacker([first, second], single_valued(table), domains)
        if attacker.hidden:
            assert attacker.determined() == [], (first["by"], first["year"], second["by"])


def test_a_lone_small_cell_is_protected_by_hiding_its_partners():
    """Two missions and two years; one mission has a single report in one year."""
    units = [
        {"mission": "MINUSCA", "year": 2024, "sex": "female", "age_group": "adult"}
        for _ in range(12)
    ]
    units += [
        {"mission": "MONUSCO", "year": 2025, "sex": "female", "age_group": "adult"}
        for _ in range(12)
    ]
    units += [{"mission": "MINUSCA", "year": 2025, "sex": "female", "age_group": "adult"}]
    units += [
        {"mission": "MONUSCO", "year": 2024, "sex": "female", "age_group": "adult"}
        for _ in range(9)
    ]
    computed, answers = publish("victims", units, 5, sparse_share=2.0)
    by_mission_year = next(a for a in answers if a["by"] == ["mission", "year"] and not a["year"])
    cells = {(r["mission"], r["year"]): r["count"] for r in by_mission_year["rows"]}
    # The lone report is hidden, and so is at least one partner in its row, column and year.
    assert cells[("MINUSCA", 2025)] is None
    assert cells[("MINUSCA", 2024)] is None and cells[("MONUSCO", 2025)] is None
    assert cells[("MONUSCO", 2024)] is None
    assert Attacker(answers, single_valued("victims")).determined() == []
