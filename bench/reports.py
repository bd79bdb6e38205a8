"""Statistics speed goals: each report table over 100,000 cases, uncached and cached.

Data: ``--cases`` demo cases (``conduct.cases.demo.make_case``: victims, subjects, witnesses,
referrals, status history, measures and findings, weighted like the UN's published data),
sealed by the real models' sealing code (each case's own data key, coded facts with the
statistics key, blind indexes), then written with bulk inserts instead of the ORM's unit of
work (seeding 100,000 cases through the ORM takes a quarter of an hour). With ``--keep DIR``
the database (an SQLite file, or the PostgreSQL database ``conduct_bench_reports``) and its
keys stay in DIR and the next run reuses them when they hold enough cases; ``--copy-from DIR``
fills an empty PostgreSQL database with the rows of a kept SQLite run (same sealed bytes, same
keys), which is faster than sealing them again.

Timed per table, as a leadership user through the real ``report_answer`` service, one
``unit_of_work()`` each (audit event and commit included); for timeliness, the allegations
table it takes its decisions from is answered (and cached) just before, as in service:

- uncached: the in-process cache cleared, nothing changed since the table's sealed snapshot
  was taken (a restarted or another application server): open the snapshot, ask the change
  log, count every reachable cell, decide suppression;
- changed: ``--changed`` (100) random cases changed first (their status, through the ORM), so
  the answer also reads those cases again on top of the snapshot;
- full read: the table's snapshot removed first, so every row the table needs is read and
  opened, and the snapshot written again;
- cached: the same answer again (generation look-up, cut, audit event, commit).

Targets: median <= 300 ms uncached, <= 20 ms cached (the changed and full-read columns show
what an answer costs after changes and on a first computation). Results are printed and written to
``bench/results/reports-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from support import conduct_app, save_results

from conduct.auth import services as accounts
from conduct.cases import demo
from conduct.cases.models import (
    Case,
    Finding,
    InterimMeasure,
    Person,
    ReferenceCounter,
    Referral,
    StatusChange,
)
from conduct.core.db import db, normalise_database_url, unit_of_work
from conduct.core.missions import seed_missions
from conduct.crypto import current_vault
from conduct.crypto.keys import init_key_dir
from conduct.crypto.models import DataKey
from conduct.reports import services
from conduct.reports.models import StatisticsSnapshot

UNCACHED_TARGET_MS = 300.0
CACHED_TARGET_MS = 20.0
TABLES = {
    "allegations": ["mission"],
    "victims": ["sex"],
    "subjects": ["personnel_category"],
    "timeliness": ["mission"],
}
CHILDREN = ("persons", "referrals", "history", "measures", "findings")
INSERT_ORDER = (DataKey, Case, Person, Referral, StatusChange, InterimMeasure, Finding)
BENCH_DATABASE = "conduct_bench_reports"


# --- Seeding ----------------------------------------------------------------------------------


class _Collector:
    """Stands in for the session where sealing stages new data keys: keeps them as rows."""

    def __init__(self):
        self.added: list[Any] = []

    def add(self, obj) -> None:
        self.added.append(obj)


def _row(obj, now: datetime) -> dict[str, Any]:
    """The column values of a sealed model instance, keyed by column name."""
    row = {}
    for prop in inspect(type(obj)).column_attrs:
        column = prop.columns[0]
        value = obj.__dict__.get(prop.key)
        if value is None and column.name in ("created_at", "updated_at", "at"):
            value = now
        if value is None and column.name == "version":
            value = 1
        row[column.name] = value
    return row


def seed(count: int, batch: int, seed_value: int) -> float:
    """Add ``count`` demo cases, sealed by the models' own code, in bulk inserts."""
    rng = random.Random(seed_value)
    started = time.perf_counter()
    with unit_of_work() as session:
        seed_missions(session)
        start = session.scalar(select(func.count()).select_from(Case))
    numbers: dict[tuple[str, int], int] = {}
    made = 0
    while made < count:
        size = min(batch, count - made)
        with unit_of_work() as session:
            vault = current_vault()
            keys = _Collector()
            rows: dict[type, list[dict]] = {model: [] for model in INSERT_ORDER}
            now = datetime.now(UTC)
            for _ in range(size):
                case = demo.make_case(rng, (2019, 2026))
                key = (case.mission_code, case.received_on.year)
                numbers[key] = numbers.get(key, 0) + 1
                case.reference = f"{key[0]}-{key[1]}-{numbers[key] + start:06d}"
                vault.create_data_key(keys, case.id)
                # A child made with case=... is already in its list; the ORM would merge
                # the repeats, the bulk insert must not see them twice.
                objects = {id(o): o for n in CHILDREN for o in getattr(case, n)}
                for obj in [case, *objects.values()]:
                    obj._seal_pending(keys, vault, is_new=True)
                    rows[type(obj)].append(_row(obj, now))
            rows[DataKey] = [_row(obj, now) for obj in keys.added]
            for model in INSERT_ORDER:
                if rows[model]:
                    session.execute(insert(model.__table__), rows[model])
            vault.forget()
        made += size
        print(f"\r  seeded {made:,} of {count:,} cases", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    _record_counters(numbers, start)
    return time.perf_counter() - started


def _record_counters(numbers: dict[tuple[str, int], int], start: int) -> None:
    with unit_of_work() as session:
        for (mission, year), last in numbers.items():
            counter = session.get(ReferenceCounter, (mission, year))
            if counter is None:
                session.add(ReferenceCounter(mission_code=mission, year=year, last_number=last))
            else:
                counter.last_number = max(counter.last_number, last + start)


def copy_cases(source_dir: Path) -> float:
    """Copy the cases (and their rows and data keys) of a kept SQLite run into this database:
    the same sealed bytes, so the keys of ``source_dir`` open them."""
    started = time.perf_counter()
    source = create_engine(f"sqlite:///{source_dir / 'bench-reports.db'}")
    tables = [model.__table__ for model in INSERT_ORDER] + [ReferenceCounter.__table__]
    with unit_of_work() as session:
        seed_missions(session)
    with source.connect() as reading:
        for table in tables:
            rows = reading.execute(select(table)).mappings()
            while chunk := rows.fetchmany(5_000):
                with db.engine.begin() as writing:
                    writing.execute(insert(table), [dict(row) for row in chunk])
            print(f"  copied {table.name}", file=sys.stderr)
    source.dispose()
    return time.perf_counter() - started


# --- Timing ------------------------------------------------------------------------------------


def _leader():
    with unit_of_work():
        user = accounts.find_user("bench-leadership@conduct.test")
        if user is None:
            user = accounts.create_user(
                None,
                "bench-leadership@conduct.test",
                "Benchmark leadership",
                ["leadership"],
                [],
                "amber-quarry-lantern-47",
            )
        return user.id


def _answer(user_id, table: str, by: list[str]) -> tuple[float, dict]:
    from conduct.auth.models import User

    started = time.perf_counter()
    with unit_of_work():
        actor = db.session.get(User, user_id)
        answer = services.report_answer(actor, table, by)
    return (time.perf_counter() - started) * 1000, answer


def _drop_snapshot(table: str) -> None:
    with unit_of_work() as session:
        session.execute(delete(StatisticsSnapshot).where(StatisticsSnapshot.name == table))


def _change_cases(count: int, rng: random.Random) -> None:
    """Change the status of ``count`` random cases through the ORM, as a service would."""
    with unit_of_work() as session:
        ids = session.scalars(select(Case.id)).all()
        for case_id in rng.sample(ids, count):
            case = session.get(Case, case_id)
            case.status = "preliminary_assessment" if case.status == "received" else "received"


def _timed(user_id, table: str, by: list[str], before) -> tuple[float, dict]:
    """One answer after ``before()`` has cleared or changed what it needs; timeliness takes
    its decisions from the allegations table, which is computed (and cached) first."""
    before()
    services.clear_cache()
    if table == "timeliness":
        _answer(user_id, "allegations", ["mission"])
    return _answer(user_id, table, by)


def bench_tables(repeats: int, cached_repeats: int, changed: int) -> dict[str, Any]:
    user_id = _leader()
    rng = random.Random(7)
    results = {}
    for table, by in TABLES.items():
        _answer(user_id, table, by)  # a snapshot at the current generation
        runs: dict[str, list[float]] = {"uncached": [], "changed": [], "full": []}
        answer = None
        for _ in range(repeats):
            runs["uncached"].append(_timed(user_id, table, by, lambda: None)[0])
            elapsed, answer = _timed(user_id, table, by, lambda: _change_cases(changed, rng))
            runs["changed"].append(elapsed)
            runs["full"].append(_timed(user_id, table, by, lambda t=table: _drop_snapshot(t))[0])
        cached = [_answer(user_id, table, by)[0] for _ in range(cached_repeats)]
        hidden = sum(1 for row in answer["rows"] if row["suppressed"])
        results[table] = {
            "by": by,
            "total": answer["total"],
            "rows": len(answer["rows"]),
            "hidden_rows": hidden,
            "cached_ms": cached,
            "cached_median_ms": statistics.median(cached),
        }
        for name, times in runs.items():
            results[table][f"{name}_ms"] = times
            results[table][f"{name}_median_ms"] = statistics.median(times)
    return results


# --- Running ------------------------------------------------------------------------------------


@contextmanager
def database(url: str | None, workdir: Path, keep: bool) -> Iterator[tuple[str, str]]:
    """``(name, url)``: an SQLite file in ``workdir``, or a PostgreSQL database (kept with
    ``--keep``, else created for the run and dropped at its end)."""
    if url is None:
        yield "sqlite", f"sqlite:///{workdir / 'bench-reports.db'}"
        return
    server = make_url(normalise_database_url(url))
    name = BENCH_DATABASE if keep else f"conduct_bench_{int(time.time())}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield "postgresql", server.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args, workdir: Path) -> dict[str, Any]:
    key_dir = workdir / "keys"
    if args.copy_from is not None:
        key_dir = args.copy_from.resolve() / "keys"
    if not key_dir.exists():
        init_key_dir(key_dir)
    keep = args.keep is not None
    with (
        database(args.database_url, workdir, keep) as (name, url),
        conduct_app(url, workdir, key_dir),
    ):
        db.create_all()
        with unit_of_work() as session:
            present = session.scalar(select(func.count()).select_from(Case))
        seconds = 0.0
        if present == 0 and args.copy_from is not None:
            print(f"copying the cases of {args.copy_from}", file=sys.stderr)
            seconds = copy_cases(args.copy_from.resolve())
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        elif present < args.cases:
            print(f"seeding {args.cases - present:,} cases ({name})", file=sys.stderr)
            seconds = seed(args.cases - present, args.batch, args.seed + present)
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        with unit_of_work() as session:
            counts = {
                model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in INSERT_ORDER[1:]
            }
        results = bench_tables(args.repeats, args.cached_repeats, args.changed)
    return {
        "database": name,
        "seed_seconds": seconds,
        "rows": counts,
        "changed_cases": args.changed,
        "tables": results,
    }


def print_table(outcome: dict[str, Any]) -> None:
    rows = outcome["rows"]
    print(
        f"\nReport tables, {outcome['database']}: {rows['cases']:,} cases, "
        f"{rows['persons']:,} persons, {rows['referrals']:,} referrals, "
        f"{rows['findings']:,} findings (milliseconds per answer, audit event and commit "
        "included)"
    )
    changed = outcome["changed_cases"]
    print(
        f"{'table':<12} {'by':<19} {'uncached':>9} {f'{changed} changed':>12} {'full read':>10} "
        f"{'cached':>7} {'hidden':>7}"
    )
    for table, result in outcome["tables"].items():
        print(
            f"{table:<12} {','.join(result['by']):<19} {result['uncached_median_ms']:>9.1f} "
            f"{result['changed_median_ms']:>12.1f} {result['full_median_ms']:>10.1f} "
            f"{result['cached_median_ms']:>7.1f} {result['hidden_rows']:>7}"
        )
    print(f"targets: uncached <= {UNCACHED_TARGET_MS:.0f} ms, cached <= {CACHED_TARGET_MS:.0f} ms")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases (100,000)")
    parser.add_argument("--batch", type=int, default=2_000, help="cases per commit when seeding")
    parser.add_argument("--repeats", type=int, default=3, help="uncached answers per table (3)")
    parser.add_argument("--cached-repeats", type=int, default=20, help="cached answers (20)")
    parser.add_argument(
        "--changed", type=int, default=100, help="cases changed before each 'changed' answer"
    )
    parser.add_argument("--seed", type=int, default=2026, help="data generator seed")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--keep", type=Path, help="keep the data in this folder for next runs")
    parser.add_argument(
        "--copy-from",
        type=Path,
        help="fill an empty PostgreSQL database with the cases of a --keep SQLite folder "
        "(the same sealed rows and keys) instead of seeding it",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        outcome = run(args, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory() as folder:
            outcome = run(args, Path(folder))
    print_table(outcome)
    path = save_results("reports", {"cases": args.cases, **outcome})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
