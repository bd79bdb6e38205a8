"""Case-management speed goals: screening look-up latency (and, later, the case list).

Screening: a database of generated persons (100,000 by default, five per case, each case with
its own data key) is written through the real models and sealing path; then a vetting officer
screens a mix of identifiers through the real ``screen`` service, one ``unit_of_work()`` per
look-up, as one request would (the audit event is written and committed with it). Half the
look-ups should match (subjects with a substantiated finding); half should not: a quarter are
persons that exist but do not match (victims, witnesses, subjects without a substantiated
finding), a quarter identifiers nobody has. Every answer is checked against the generated data.

Case list: one mission holding 10,000 cases (``--list-cases``), written through the real models
(each case with its own data key), listed by an officer of that mission through the real
``list_cases`` service, one ``unit_of_work()`` per page, as one request would: first page
unfiltered, filtered by status, filtered by category. Every page is checked against the
generated data. Skip it with ``--no-case-list``.

Run ``.venv/bin/python bench/cases.py --help`` for the options; results are printed and written
to ``bench/results/cases-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from support import conduct_app, refresh_planner_statistics, save_results, scratch_database

from conduct.auth import services as accounts
from conduct.auth.models import User
from conduct.cases.demo import FAMILY, GIVEN
from conduct.cases.listing import list_cases
from conduct.cases.models import Case, Finding, Person
from conduct.cases.screening import screen
from conduct.core.db import db, unit_of_work
from conduct.core.missions import seed_missions
from conduct.crypto.blind import normalise_name, normalise_personnel_number
from conduct.crypto.keys import init_key_dir

SCREENING_TARGET_MS = 10.0  # median look-up, issue 4
CASE_LIST_TARGET_MS = 100.0  # median page of a mission's case list, issue 4

MISSIONS = ("MINUSCA", "MONUSCO", "UNMISS", "UNISFA", "MINUSMA")
# Roles of the persons of one case, in order (cycled when a case has more).
CASE_ROLES = ("subject", "victim", "victim", "witness", "reporter")
FINDINGS = {"substantiated": 50, "not_substantiated": 35, "closed_other": 15}


# --- The data -------------------------------------------------------------------------------


@dataclass
class Population:
    """The generated persons, and which normalised identifiers should match."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    by_number: dict[str, bool] = field(default_factory=dict)
    by_name: dict[tuple[str, date], bool] = field(default_factory=dict)

    @property
    def persons(self) -> int:
        return sum(len(case["persons"]) for case in self.cases)


def generate(persons: int, per_case: int, seed: int) -> Population:
    """``persons`` persons in cases of ``per_case``; subjects and some witnesses and reporters
    carry personnel numbers; about a third of subjects have a finding. Deterministic."""
    rng = random.Random(seed)
    population = Population()
    numbers = iter(rng.sample(range(10**7), persons))
    for case_index in range(max(1, persons // per_case)):
        people = []
        for slot in range(per_case):
            role = CASE_ROLES[slot % len(CASE_ROLES)]
            person = {
                "role": role,
                "full_name": f"{rng.choice(GIVEN)} {rng.choice(GIVEN)} {rng.choice(FAMILY)}",
                "date_of_birth": date(1960, 1, 1) + timedelta(days=rng.randrange(45 * 365)),
                "personnel_number": None,
                "finding": None,
            }
            if role == "subject" or (role != "victim" and rng.random() < 0.5):
                person["personnel_number"] = f"{rng.choice('ABCDEFGH')}-{next(numbers):07d}"
            if role == "subject" and rng.random() < 0.35:
                person["finding"] = rng.choices(list(FINDINGS), list(FINDINGS.values()))[0]
            people.append(person)
            _remember(population, person)
        population.cases.append(
            {
                "mission": MISSIONS[case_index % len(MISSIONS)],
                "index": case_index,
                "persons": people,
            }
        )
    return population


def _remember(population: Population, person: dict[str, Any]) -> None:
    matches = person["role"] == "subject" and person["finding"] == "substantiated"
    if person["personnel_number"]:
        key = normalise_personnel_number(person["personnel_number"])
        population.by_number[key] = population.by_number.get(key, False) or matches
    name_key = (normalise_name(person["full_name"]), person["date_of_birth"])
    population.by_name[name_key] = population.by_name.get(name_key, False) or matches


def seed(population: Population, batch: int) -> float:
    """Write the population through the real models, ``batch`` cases per unit of work."""
    started = time.perf_counter()
    with unit_of_work() as session:
        seed_missions(session)
    for start in range(0, len(population.cases), batch):
        with unit_of_work() as session:
            for generated in population.cases[start : start + batch]:
                session.add_all(_case_rows(generated))
        db.session.remove()
    return time.perf_counter() - started


def _case_rows(generated: dict[str, Any]) -> list[Any]:
    index = generated["index"]
    case = Case(
        reference=f"{generated['mission']}-{2019 + index % 8}-{index:06d}",
        mission_code=generated["mission"],
        received_on=date(2019 + index % 8, 1, 1) + timedelta(days=index % 365),
        narrative="A report generated for the benchmark.",
        source="victim",
        category="sexual_abuse",
        allegation_type="sexual_assault",
        status="received",
    )
    rows: list[Any] = [case]
    for values in generated["persons"]:
        person = Person(
            case=case,
            role=values["role"],
            full_name=values["full_name"],
            date_of_birth=values["date_of_birth"],
            personnel_number=values["personnel_number"],
        )
        rows.append(person)
        if values["finding"]:
            actions = ["repatriation"] if values["finding"] == "substantiated" else ["no_action"]
            rows.append(
                Finding(case=case, person_id=person.id, finding=values["finding"], actions=actions)
            )
    return rows


def lookups(population: Population, count: int, seed: int) -> list[tuple[dict, bool, str]]:
    """``(identifier, expected answer, kind)``: half matches, a quarter known persons that do
    not match, a quarter unknown identifiers; alternately by number and by name and birth."""
    rng = random.Random(seed + 1)
    people = [person for case in population.cases for person in case["persons"]]
    matching = [p for p in people if p["role"] == "subject" and p["finding"] == "substantiated"]
    others = [p for p in people if p["role"] != "subject" or p["finding"] != "substantiated"]
    wanted = {"match": count // 2, "known_miss": count // 4}
    wanted["unknown_miss"] = count - sum(wanted.values())
    chosen: list[tuple[dict, bool, str]] = []
    got = dict.fromkeys(wanted, 0)
    for kind, pool in (("match", matching), ("known_miss", others)):
        while got[kind] < wanted[kind]:
            identifier = _identifier(rng.choice(pool), by_number=got[kind] % 2 == 0)
            # A name and birth date shared with a matching person would match: skip it.
            if identifier and _expected(population, identifier) is (kind == "match"):
                chosen.append((identifier, kind == "match", kind))
                got[kind] += 1
    while got["unknown_miss"] < wanted["unknown_miss"]:
        identifier = (
            {"personnel_number": f"Z-{rng.randrange(10**7):07d}"}
            if got["unknown_miss"] % 2 == 0
            else {
                "full_name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
                "date_of_birth": date(1950, 1, 1) + timedelta(days=rng.randrange(3650)),
            }
        )
        if _expected(population, identifier) is None:
            chosen.append((identifier, False, "unknown_miss"))
            got["unknown_miss"] += 1
    rng.shuffle(chosen)
    return chosen


def _identifier(person: dict[str, Any], by_number: bool) -> dict[str, Any] | None:
    if by_number:
        number = person["personnel_number"]
        return {"personnel_number": number} if number else None
    return {"full_name": person["full_name"], "date_of_birth": person["date_of_birth"]}


def _expected(population: Population, identifier: dict[str, Any]) -> bool | None:
    """The answer screening should give; None when no person has the identifier."""
    if "personnel_number" in identifier:
        return population.by_number.get(normalise_personnel_number(identifier["personnel_number"]))
    key = (normalise_name(identifier["full_name"]), identifier["date_of_birth"])
    return population.by_name.get(key)


# --- The benchmarks -------------------------------------------------------------------------


def bench_screening(population: Population, args) -> dict[str, Any]:
    """Time ``screen`` look-ups, one unit of work each; check every answer."""
    with unit_of_work():
        actor_id = accounts.create_user(
            None, "vetting@bench.test", "Bench vetting officer", ["vetting"]
        ).id
    samples: dict[str, list[tuple[float, float]]] = {}
    for identifier, expected, kind in lookups(population, args.lookups, args.seed):
        with unit_of_work() as session:
            actor = session.get(User, actor_id)  # the request guard's load, not timed
            started = time.perf_counter()
            answer = screen(actor, **identifier)
            screened = time.perf_counter()
        committed = time.perf_counter()
        db.session.remove()
        if answer is not expected:
            raise SystemExit(f"screening answered {answer} for a {kind}: expected {expected}")
        samples.setdefault(kind, []).append(
            ((committed - started) * 1000, (screened - started) * 1000)
        )
    return _summarise(samples)


def _summarise(samples: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
    groups = {
        "all": [s for kind in samples.values() for s in kind],
        "matches": samples.get("match", []),
        "misses": samples.get("known_miss", []) + samples.get("unknown_miss", []),
        "known persons, no match": samples.get("known_miss", []),
        "unknown identifiers": samples.get("unknown_miss", []),
    }
    return {
        name: {
            "n": len(rows),
            "median_ms": statistics.median(total for total, _ in rows),
            "p95_ms": _p95([total for total, _ in rows]),
            "screen_median_ms": statistics.median(only for _, only in rows),
            "screen_p95_ms": _p95([only for _, only in rows]),
        }
        for name, rows in groups.items()
        if rows
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


LIST_MISSION = "UNIFIL"  # a mission the screening population does not use
LIST_STATUSES = (
    "received",
    "preliminary_assessment",
    "referred",
    "under_investigation",
    "substantiated",
    "closed",
)
LIST_CATEGORIES = ("sexual_exploitation", "sexual_abuse", "other_misconduct")
LIST_TYPES = {
    "sexual_exploitation": "transactional_sex",
    "sexual_abuse": "rape",
    "other_misconduct": "fraud",
}


def seed_case_list(count: int, batch: int) -> tuple[float, dict[str, int], dict[str, int]]:
    """``count`` cases of one mission through the real models; returns seconds and counts."""
    started = time.perf_counter()
    statuses: dict[str, int] = {}
    categories: dict[str, int] = {}
    for start in range(0, count, batch):
        with unit_of_work() as session:
            for index in range(start, min(count, start + batch)):
                status = LIST_STATUSES[index % len(LIST_STATUSES)]
                category = LIST_CATEGORIES[index % len(LIST_CATEGORIES)]
                statuses[status] = statuses.get(status, 0) + 1
                categories[category] = categories.get(category, 0) + 1
                session.add(
                    Case(
                        reference=f"{LIST_MISSION}-{2019 + index % 8}-{index:06d}",
                        mission_code=LIST_MISSION,
                        received_on=date(2019 + index % 8, 1, 1) + timedelta(days=index % 365),
                        narrative="A report generated for the case-list benchmark.",
                        source="ngo",
                        category=category,
                        allegation_type=LIST_TYPES[category],
                        status=status,
                    )
                )
        db.session.remove()
    return time.perf_counter() - started, statuses, categories


def bench_case_list(args) -> dict[str, Any]:
    """Median page time of the case list of one mission with ``args.list_cases`` cases."""
    seconds, statuses, categories = seed_case_list(args.list_cases, args.batch)
    refresh_planner_statistics()
    with unit_of_work():
        actor_id = accounts.create_user(
            None, "officer@bench.test", "Bench officer", ["officer"], [LIST_MISSION]
        ).id
    queries = {
        "first page, no filter": ({}, args.list_cases),
        "filtered by status": ({"status": "substantiated"}, statuses["substantiated"]),
        "filtered by category": ({"category": "sexual_abuse"}, categories["sexual_abuse"]),
    }
    results: dict[str, Any] = {"cases": args.list_cases, "seed_seconds": seconds, "pages": {}}
    for name, (filters, expected_total) in queries.items():
        timings = []
        for _ in range(args.list_repeats):
            with unit_of_work() as session:
                actor = session.get(User, actor_id)  # the request guard's load, not timed
                started = time.perf_counter()
                page = list_cases(actor, filters, 1, 50)
            timings.append((time.perf_counter() - started) * 1000)
            db.session.remove()
            if page.total != expected_total or len(page.items) != min(50, expected_total):
                raise SystemExit(
                    f"case list '{name}' answered {page.total} cases, expected {expected_total}"
                )
        results["pages"][name] = {
            "n": len(timings),
            "median_ms": statistics.median(timings),
            "p95_ms": _p95(timings),
        }
    return results


# --- Running --------------------------------------------------------------------------------


def _keys(workdir: Path) -> Path:
    key_dir = workdir / "keys"
    init_key_dir(key_dir)
    return key_dir


def print_table(results: dict[str, Any], args, name: str, seconds: float, cases: int) -> None:
    print(
        f"\nScreening look-up: {results['persons']:,} persons in {cases:,} cases, {name}, "
        f"{args.lookups:,} look-ups\n(seeding took {seconds:.1f} s; per look-up: screen + "
        f"audit event + commit, and screen alone)"
    )
    print(
        f"{'look-ups':<26} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'screen med':>11} "
        f"{'screen p95':>11}"
    )
    for group, values in results["screening"].items():
        print(
            f"{group:<26} {values['n']:>5} {values['median_ms']:>10.2f} {values['p95_ms']:>8.2f} "
            f"{values['screen_median_ms']:>11.2f} {values['screen_p95_ms']:>11.2f}"
        )
    median = results["screening"]["all"]["median_ms"]
    verdict = "met" if median <= SCREENING_TARGET_MS else "NOT met"
    print(f"target: screening median <= {SCREENING_TARGET_MS:g} ms: {median:.2f} ms: {verdict}")
    listing = results.get("case_list")
    if listing is None:
        return
    print(
        f"\nCase list: one mission with {listing['cases']:,} cases, {name} (seeding took "
        f"{listing['seed_seconds']:.1f} s; per page of 50: list service + audit event + commit)"
    )
    print(f"{'page':<26} {'n':>5} {'median ms':>10} {'p95 ms':>8}")
    for page, values in listing["pages"].items():
        print(f"{page:<26} {values['n']:>5} {values['median_ms']:>10.2f} {values['p95_ms']:>8.2f}")
    worst = max(values["median_ms"] for values in listing["pages"].values())
    verdict = "met" if worst <= CASE_LIST_TARGET_MS else "NOT met"
    print(
        f"target: case list median <= {CASE_LIST_TARGET_MS:g} ms: worst {worst:.2f} ms: {verdict}"
    )


def save(results: dict[str, Any], args, name: str) -> Path:
    fields = {
        "database": name,
        "lookups": args.lookups,
        "persons_per_case": args.per_case,
        "targets": {
            "screening_median_ms_max": SCREENING_TARGET_MS,
            "case_list_median_ms_max": CASE_LIST_TARGET_MS,
        },
        **results,
    }
    return save_results("cases", fields)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100_000, help="persons to seed (100,000)")
    parser.add_argument("--per-case", type=int, default=5, help="persons per case (5)")
    parser.add_argument("--batch", type=int, default=1_000, help="cases per commit (1,000)")
    parser.add_argument("--lookups", type=int, default=1_000, help="screening look-ups (1,000)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL; a database is made for the run and dropped "
        "(default: an SQLite file in a temporary directory)",
    )
    parser.add_argument(
        "--no-case-list",
        dest="case_list",
        action="store_false",
        help="skip the case-list benchmark",
    )
    parser.add_argument("--list-cases", type=int, default=10_000, help="cases in the mission")
    parser.add_argument("--list-repeats", type=int, default=30, help="timed pages per query")
    parser.add_argument("--seed", type=int, default=20260401, help="data generator seed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    population = generate(args.persons, args.per_case, args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="conduct-bench-") as tmp,
        scratch_database(args.database_url, Path(tmp), "bench-cases.db") as (name, url),
        conduct_app(url, Path(tmp), _keys(Path(tmp))),
    ):
        print(f"database: {name}; seeding {population.persons:,} persons", file=sys.stderr)
        db.create_all()
        seconds = seed(population, args.batch)
        refresh_planner_statistics()
        results = {
            "persons": population.persons,
            "cases": len(population.cases),
            "seed_seconds": seconds,
            "screening": bench_screening(population, args),
        }
        if args.case_list:
            results["case_list"] = bench_case_list(args)
    print_table(results, args, name, seconds, len(population.cases))
    print(f"\nresults: {save(results, args, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
