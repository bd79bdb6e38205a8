"""What field encryption costs: plaintext, sqlalchemy-utils and Conduct's sealed rows, side by side.

The same generated persons (six identifying fields and five coded facts each) are written and
read back three ways, each in a fresh database per repeat:

- ``plaintext``: a plain SQLAlchemy 2 model, every field a ``String`` column;
- ``sqlalchemy-utils``: the same model with every field a ``StringEncryptedType`` using
  ``AesGcmEngine``, the usual Flask choice (no associated data, one key for everything);
- ``conduct``: the real ``Person`` model through the real crypto path: six identifying fields
  sealed with the case's data key, the coded facts sealed together with the statistics key,
  two blind indexes, all in the ``before_flush`` hook inside ``unit_of_work()``.

Conduct's persons are added to cases that already exist (several persons per case, each case
with its own data key); creating those cases and keys is timed separately and reported, not
counted. Writes are ORM ``add_all`` plus one commit per batch, the same way for all three (for
Conduct one ``unit_of_work()`` per batch, so each batch unwraps the data keys it needs, as
requests do). Reads query every person and turn every field into a Python value; Conduct
unwraps the data keys of all cases first with one query (``Vault.preload``).

Each repeat also times the floor of the design (see ``crypto_floor`` and ``index_floor``): the
cryptography alone in a bare loop, and the database's upkeep of the two blind indexes, as a
share of the plaintext write.

Run ``.venv/bin/python bench/encryption.py --help`` for the options; results are printed and
written to ``bench/results/encryption-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import statistics
import string
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import cryptography
import sqlalchemy_utils
from sqlalchemy import (
    Column,
    ForeignKey,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    create_engine,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, relationship
from sqlalchemy_utils.types.encrypted.encrypted_type import AesGcmEngine, StringEncryptedType
from support import conduct_app, save_results

from conduct import codes
from conduct.cases.models import Case, Person
from conduct.core.db import UtcDateTime, db, normalise_database_url, unit_of_work, utcnow
from conduct.core.missions import seed_missions
from conduct.crypto import current_vault
from conduct.crypto.columns import (
    _CODED_JSON,
    CODED_BLOCK,
    IDENTITY_BLOCK,
    _coded_names,
    _dump_identity,
)
from conduct.crypto.envelope import (
    _HEADER,
    SealingKey,
    cell_context,
    pad,
    row_binding,
    seal_cell,
)
from conduct.crypto.keys import init_key_dir, load_keyring, new_wrapped_key, unwrap_key
from conduct.crypto.vault import data_key_purpose

VARIANTS = ("plaintext", "sqlalchemy-utils", "conduct")
TARGETS = {"write": 1.2, "read": 2.5}  # Conduct's limits, as multiples of plaintext

IDENTIFYING = (
    "full_name",
    "aliases",
    "date_of_birth",
    "personnel_number",
    "national_id",
    "contact",
)
CODED = ("role", "sex", "age_group", "personnel_category", "nationality")
FIELDS = IDENTIFYING + CODED


# --- The data: the same persons for every variant -------------------------------------------

GIVEN = (
    "Aminata Jean-Baptiste Marie Ousmane Fatou Emmanuel Grace Ibrahim Christelle Moussa "
    "Esther Patrick Aïcha Didier Nadège Samuel Honorine Joseph Clarisse Abdoulaye"
)
FAMILY = (
    "Ndongo Kabila Mbeki Traoré Diallo Koné Nzeza Mukendi Okafor Banda Tshisekedi Sawadogo "
    "Ouédraogo Kamara Mensah Habimana Niyonzima Uwimana Baptiste Lumumba"
)


def generate_persons(rows: int, cases: int, seed: int) -> list[dict[str, Any]]:
    """``rows`` persons spread evenly over ``cases`` cases, in case order; deterministic."""
    rng = random.Random(seed)
    given_names, family_names = GIVEN.split(), FAMILY.split()
    countries = sorted(codes.COUNTRIES)
    persons = []
    for index in range(rows):
        given, family = rng.choice(given_names), rng.choice(family_names)
        born = date(rng.randint(1960, 2008), rng.randint(1, 12), rng.randint(1, 28))
        persons.append(
            {
                "case_index": index * cases // rows,
                "full_name": f"{given} {family}",
                "aliases": f"{given[:3]}{rng.choice(('', 'o', 'y', 'ou'))} {family[:1]}.",
                "date_of_birth": born,
                "personnel_number": f"{rng.choice(string.ascii_uppercase)}"
                f"{rng.choice(string.ascii_uppercase)}-{rng.randrange(10**6):06d}",
                "national_id": "".join(rng.choices(string.ascii_uppercase + string.digits, k=12)),
                "contact": f"+236 7{rng.randrange(10)} {rng.randrange(100):02d} "
                f"{rng.randrange(100):02d} {rng.randrange(100):02d}",
                "role": rng.choice(codes.PERSON_ROLE.codes),
                "sex": rng.choice(codes.SEX.codes),
                "age_group": rng.choice(codes.AGE_GROUP.codes),
                "personnel_category": rng.choice(codes.PERSONNEL_CATEGORY.codes),
                "nationality": rng.choice(countries),
            }
        )
    return persons


def as_text(person: dict[str, Any]) -> dict[str, Any]:
    """The fields of a person as the plain models store them (the date as ISO text)."""
    values = {name: person[name] for name in FIELDS}
    values["date_of_birth"] = person["date_of_birth"].isoformat()
    return values


def expected_rows(persons: list[dict[str, Any]]) -> list[tuple]:
    return sorted(tuple(as_text(person).values()) for person in persons)


def normalised_rows(rows: list[tuple]) -> list[tuple]:
    position = FIELDS.index("date_of_birth")
    return sorted(
        tuple(
            value.isoformat() if index == position and isinstance(value, date) else value
            for index, value in enumerate(row)
        )
        for row in rows
    )


# --- The two comparison models: plain SQLAlchemy 2, outside Conduct's metadata ---------------


class ComparisonBase(DeclarativeBase):
    pass


def comparison_models(variant: str, column_type: Callable[[], Any]) -> tuple[type, type]:
    """A cases table and a persons table shaped like Conduct's: the same id, case foreign key,
    timestamp columns (of the same type) and case relationship; every field ``column_type``."""
    suffix = variant.replace("-", "_")
    case_name, person_name = f"Case_{suffix}", f"Person_{suffix}"
    case_model = type(
        case_name,
        (ComparisonBase,),
        {
            "__tablename__": f"cases_{suffix}",
            "id": mapped_column(Uuid, primary_key=True),
            "persons": relationship(
                person_name, back_populates="case", cascade="all, delete-orphan"
            ),
        },
    )
    namespace: dict[str, Any] = {
        "__tablename__": f"persons_{suffix}",
        "id": mapped_column(Uuid, primary_key=True),
        "case_id": mapped_column(Uuid, ForeignKey(f"cases_{suffix}.id"), index=True),
        "created_at": mapped_column(UtcDateTime, default=utcnow),
        "updated_at": mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow),
        "case": relationship(case_name, back_populates="persons"),
    }
    for name in FIELDS:
        namespace[name] = mapped_column(column_type(), nullable=True)
    return case_model, type(person_name, (ComparisonBase,), namespace)


UTILS_KEY = os.urandom(32)
PLAIN_MODELS = comparison_models("plaintext", String)
UTILS_MODELS = comparison_models(
    "sqlalchemy-utils", lambda: StringEncryptedType(String, UTILS_KEY, AesGcmEngine)
)


# --- Databases ------------------------------------------------------------------------------


class Databases:
    """Fresh empty databases: SQLite files in a temporary directory, or PostgreSQL schemas
    inside a database made for this run and dropped at its end."""

    def __init__(self, url: str | None, workdir: Path):
        self.workdir = workdir
        self.count = 0
        self.admin = None
        self.run_url = None
        if url is not None:
            admin_url = make_url(normalise_database_url(url))
            name = f"conduct_bench_{uuid.uuid4().hex[:12]}"
            self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self.run_url = admin_url.set(database=name)
            self.name = "postgresql"
        else:
            self.name = "sqlite"

    def describe(self) -> str:
        if self.run_url is None:
            return f"sqlite (files in {self.workdir})"
        return self.run_url.render_as_string(hide_password=True)

    @contextmanager
    def fresh(self) -> Iterator[str]:
        self.count += 1
        if self.run_url is None:
            path = self.workdir / f"bench-{self.count}.db"
            try:
                yield f"sqlite:///{path}"
            finally:
                for leftover in path.parent.glob(path.name + "*"):
                    leftover.unlink()
            return
        schema = f"bench_{self.count}"
        engine = create_engine(self.run_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = self.run_url.update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()

    def close(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as connection:
            name = self.run_url.database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


# --- The three variants ---------------------------------------------------------------------


class Comparison:
    """plaintext and sqlalchemy-utils: one plain model, a plain Session on the app's engine."""

    def __init__(self, models: tuple[type, type]):
        self.case_model, self.person_model = models

    def prepare(self, case_ids: list[uuid.UUID], batch: int) -> float:
        ComparisonBase.metadata.create_all(
            db.engine, tables=[self.case_model.__table__, self.person_model.__table__]
        )
        started = time.perf_counter()
        with Session(db.engine) as session:
            for start in range(0, len(case_ids), batch):
                session.add_all(self.case_model(id=i) for i in case_ids[start : start + batch])
                session.commit()
        return time.perf_counter() - started

    def write(self, persons: list[dict[str, Any]], case_ids: list[uuid.UUID], batch: int) -> None:
        model = self.person_model
        with Session(db.engine) as session:
            for start in range(0, len(persons), batch):
                session.add_all(
                    [
                        model(id=uuid.uuid4(), case_id=case_ids[person["case_index"]], **fields)
                        for person, fields in persons[start : start + batch]
                    ]
                )
                session.commit()

    def read(self) -> list[tuple]:
        with Session(db.engine) as session:
            rows = session.scalars(select(self.person_model)).all()
            return [
                (
                    row.full_name,
                    row.aliases,
                    row.date_of_birth,
                    row.personnel_number,
                    row.national_id,
                    row.contact,
                    row.role,
                    row.sex,
                    row.age_group,
                    row.personnel_category,
                    row.nationality,
                )
                for row in rows
            ]

    @staticmethod
    def fields_of(person: dict[str, Any]) -> dict[str, Any]:
        return as_text(person)


class Conduct:
    """The real Person model, sealed in before_flush inside unit_of_work()."""

    def prepare(self, case_ids: list[uuid.UUID], batch: int) -> float:
        """Create the cases the persons are added to, each with its own data key."""
        db.create_all()
        with unit_of_work() as session:
            seed_missions(session)
        mission = codes.MISSIONS[0][0]
        started = time.perf_counter()
        for start in range(0, len(case_ids), batch):
            with unit_of_work() as session:
                session.add_all(
                    Case(
                        id=case_id,
                        reference=f"BENCH-{start + offset:06d}",
                        mission_code=mission,
                        received_on=date(2026, 1, 1),
                        narrative="A report received for the benchmark.",
                        source="victim",
                        category="sexual_abuse",
                        allegation_type="rape",
                        status="received",
                    )
                    for offset, case_id in enumerate(case_ids[start : start + batch])
                )
        db.session.remove()
        return time.perf_counter() - started

    def write(self, persons: list[dict[str, Any]], case_ids: list[uuid.UUID], batch: int) -> None:
        for start in range(0, len(persons), batch):
            with unit_of_work() as session:
                session.add_all(
                    [
                        Person(case_id=case_ids[person["case_index"]], **fields)
                        for person, fields in persons[start : start + batch]
                    ]
                )
        db.session.remove()

    def read(self) -> list[tuple]:
        with unit_of_work() as session:
            rows = session.scalars(select(Person)).all()
            current_vault().preload(session, {row.case_id for row in rows})
            values = [
                (
                    row.full_name,
                    row.aliases,
                    row.date_of_birth,
                    row.personnel_number,
                    row.national_id,
                    row.contact,
                    row.role,
                    row.sex,
                    row.age_group,
                    row.personnel_category,
                    row.nationality,
                )
                for row in rows
            ]
        db.session.remove()
        return values

    @staticmethod
    def fields_of(person: dict[str, Any]) -> dict[str, Any]:
        return {name: person[name] for name in FIELDS}


# --- The floor: what the design itself adds, with no glue around it --------------------------
#
# Whatever the code around it, writing a row the way the brief asks costs at least: its case's
# data key unwrapped (once per case and unit of work), two JSON documents, two AES-GCM sealings
# with fresh nonces (identities with the case's key, coded facts with the statistics key), the
# two blind-index HMACs, and the database keeping the two blind-index columns and their indexes.
# The floor times exactly that: the cryptography in a bare loop over the same persons, with the
# same primitives Conduct's path calls, and the blind indexes as the difference between two
# Core inserts of the same rows, with and without the two indexed columns. Compared with the
# plaintext write, it says how far below the target any implementation of the design could go.

SEALED_OVERHEAD = _HEADER + 16  # format, key id and nonce, then the GCM tag
INDEX_ROUNDS = 3  # inserts per shape, alternating, for the blind indexes' upkeep


def documents(fields: dict[str, Any]) -> tuple[bytes, bytes]:
    """A person's identity and coded documents, padded, made by the code Conduct seals them
    with (so the floor follows the real format)."""
    identity = _dump_identity(Person.__identifying__, fields)
    coded = _CODED_JSON.encode({name: fields[name] for name in _coded_names(Person)}).encode()
    return pad(identity, IDENTITY_BLOCK), pad(coded, CODED_BLOCK)


def crypto_floor(inputs, case_ids: list[uuid.UUID], key_dir: Path) -> float:
    """Seconds for the cryptography of writing every person, in a bare loop: no ORM, no
    database, keys unwrapped from records wrapped beforehand (not timed)."""
    keyring = load_keyring(key_dir)
    provider, statistics_key, indexer = keyring.provider, keyring.statistics, keyring.blind_index
    purposes = {case_id: data_key_purpose(case_id) for case_id in case_ids}
    wrapped = {case_id: new_wrapped_key(provider, purposes[case_id])[2] for case_id in case_ids}
    rows = [(uuid.uuid4(), case_ids[person["case_index"]], fields) for person, fields in inputs]
    identity_context = cell_context("persons", "identity")
    coded_context = cell_context("persons", "coded")

    def write() -> None:
        keys = {}
        for case_id in case_ids:
            key_id, material = unwrap_key(provider, purposes[case_id], wrapped[case_id])
            keys[case_id] = SealingKey.from_bytes(key_id, material)
        for row_id, case_id, fields in rows:
            binding = row_binding(row_id, case_id)
            identity, coded = documents(fields)
            seal_cell(keys[case_id], identity, identity_context + binding)
            seal_cell(statistics_key, coded, coded_context + binding)
            indexer.personnel_number(fields["personnel_number"])
            indexer.name_dob(fields["full_name"], fields["date_of_birth"])

    seconds, _ = timed(write, collect=False)
    return seconds


def index_floor(databases: Databases, inputs, batch: int) -> float:
    """Seconds the database spends on two blind-index columns and their indexes.

    Core inserts of rows shaped like the persons (random bytes as long as their sealed
    columns), with and without two indexed 32-byte columns, in batches of ``batch`` with a
    commit each, each insert in a fresh database. The two shapes alternate, ``INDEX_ROUNDS``
    times each; the difference of their medians."""
    rows = len(inputs)
    cases = [uuid.uuid4() for _ in range(max(1, rows // 4))]
    values = []
    for index, (_, fields) in enumerate(inputs):
        identity, coded = documents(fields)
        values.append(
            {
                "id": uuid.uuid4(),
                "case_id": cases[index * len(cases) // rows],
                "identity": os.urandom(len(identity) + SEALED_OVERHEAD),
                "coded": os.urandom(len(coded) + SEALED_OVERHEAD),
                "a": os.urandom(32),  # an HMAC-SHA256 looks like random bytes
                "b": os.urandom(32),
            }
        )
    spent: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(INDEX_ROUNDS):
        for blind in (False, True):
            spent[blind].append(insert_shaped(databases, values, blind, batch))
    return statistics.median(spent[True]) - statistics.median(spent[False])


def insert_shaped(databases: Databases, values, blind: bool, batch: int) -> float:
    metadata = MetaData()
    columns = [
        Column("id", Uuid, primary_key=True),
        Column("case_id", Uuid, index=True),
        Column("identity", LargeBinary),
        Column("coded", LargeBinary),
    ]
    if blind:
        columns += [Column("a", LargeBinary, index=True), Column("b", LargeBinary, index=True)]
    table = Table("floor_persons", metadata, *columns)
    names = [column.name for column in columns]
    shaped = [{name: row[name] for name in names} for row in values]
    with databases.fresh() as url:
        engine = create_engine(normalise_database_url(url))
        try:
            metadata.create_all(engine)

            def insert() -> None:
                for start in range(0, len(shaped), batch):
                    with engine.begin() as connection:
                        connection.execute(table.insert(), shaped[start : start + batch])

            seconds, _ = timed(insert, collect=False)
        finally:
            engine.dispose()
    return seconds


def run_floor(databases: Databases, key_dir: Path, args, persons, case_ids) -> dict[str, float]:
    inputs = [(person, Conduct.fields_of(person)) for person in persons]
    crypto = crypto_floor(inputs, case_ids, key_dir)
    indexes = index_floor(databases, inputs, args.batch)
    return {"crypto": crypto, "indexes": indexes}


def make_variant(name: str) -> Comparison | Conduct:
    if name == "plaintext":
        return Comparison(PLAIN_MODELS)
    if name == "sqlalchemy-utils":
        return Comparison(UTILS_MODELS)
    return Conduct()


# --- Running --------------------------------------------------------------------------------


def timed(action: Callable[[], Any], collect: bool = True) -> tuple[float, Any]:
    """Seconds ``action`` takes, after a full collection; with ``collect`` False, with the
    garbage collector off while it runs (the floor is a lower bound: no collector's share)."""
    gc.collect()
    if not collect:
        gc.disable()
    try:
        started = time.perf_counter()
        result = action()
        return time.perf_counter() - started, result
    finally:
        gc.enable()


def run_once(
    name: str, databases: Databases, workdir: Path, key_dir: Path, args, persons, case_ids
) -> dict[str, float]:
    """Write then read every person in a fresh database; check what came back."""
    variant = make_variant(name)
    inputs = [(person, variant.fields_of(person)) for person in persons]
    with databases.fresh() as url, conduct_app(url, workdir, key_dir):
        setup = variant.prepare(case_ids, args.batch)
        write, _ = timed(lambda: variant.write(inputs, case_ids, args.batch))
        read, rows = timed(variant.read)
    if normalised_rows(rows) != expected_rows(persons):
        raise SystemExit(f"{name}: the rows read back differ from the rows written")
    return {"setup": setup, "write": write, "read": read}


def profile(databases: Databases, workdir: Path, key_dir: Path, args, persons, case_ids) -> None:
    """Profile Conduct's write and read once each (not timed) and print the top costs."""
    variant = Conduct()
    inputs = [(person, variant.fields_of(person)) for person in persons]
    with databases.fresh() as url, conduct_app(url, workdir, key_dir):
        variant.prepare(case_ids, args.batch)
        for phase, action in (
            ("write", lambda: variant.write(inputs, case_ids, args.batch)),
            ("read", variant.read),
        ):
            profiler = cProfile.Profile()
            profiler.runcall(action)
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(args.profile_sort)
            stats.print_stats(args.profile_lines)
            print(f"--- conduct {phase}, sorted by {args.profile_sort} ---")
            print(out.getvalue())


STATISTICS = {"best": min, "median": statistics.median}


def summarise(samples: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, dict]]:
    """Per statistic (best, median) and variant: seconds and ratios to plaintext."""
    summary: dict[str, dict[str, dict]] = {}
    for statistic, reduce in STATISTICS.items():
        table = summary[statistic] = {}
        for name, runs in samples.items():
            table[name] = {phase: reduce([run[phase] for run in runs]) for phase in runs[0]}
        base = table["plaintext"]
        for values in table.values():
            for phase in ("write", "read"):
                values[f"{phase}_ratio"] = values[phase] / base[phase]
    return summary


def summarise_floor(floors: list[dict[str, float]], summary) -> dict[str, float]:
    """Medians of the floor's parts, and each as a share of plaintext's median write."""
    plaintext = summary["median"]["plaintext"]["write"]
    floor = {part: statistics.median(run[part] for run in floors) for part in floors[0]}
    floor["total"] = floor["crypto"] + floor["indexes"]
    for part in ("crypto", "indexes", "total"):
        floor[f"{part}_share"] = floor[part] / plaintext
    return floor


def print_floor(floor: dict[str, float]) -> None:
    allowed = TARGETS["write"] - 1
    print(
        "\nfloor of the design (medians), as a share of plaintext's median write:\n"
        f"  cryptography alone, in a bare loop: {floor['crypto']:.3f} s "
        f"({floor['crypto_share']:.1%})\n"
        f"  the database keeping the two blind indexes: {floor['indexes']:.3f} s "
        f"({floor['indexes_share']:.1%})\n"
        f"  together: {floor['total']:.3f} s ({floor['total_share']:.1%}); "
        f"the write target leaves {allowed:.0%} for everything Conduct adds"
    )


def print_table(summary, args, databases: Databases, cases: int) -> None:
    print(
        f"\nField encryption: {args.rows:,} persons (6 identifying fields, 5 coded facts), "
        f"{databases.name},\n{args.repeats} fresh databases per variant, "
        f"one commit per {args.batch:,} rows"
    )
    for statistic, table in summary.items():
        print(f"\n{statistic} of {args.repeats}")
        print(f"{'variant':<18} {'write s':>9} {'read s':>9} {'write x':>9} {'read x':>9}")
        for name in VARIANTS:
            values = table[name]
            print(
                f"{name:<18} {values['write']:>9.3f} {values['read']:>9.3f} "
                f"{values['write_ratio']:>9.2f} {values['read_ratio']:>9.2f}"
            )
    setup = summary["median"]["conduct"]["setup"]
    print(
        f"\nconduct: persons added to {cases:,} existing cases ({args.rows // cases} per case), "
        f"each case with its own data key;\n  creating those cases and keys is not counted "
        f"above: {setup:.3f} s (median)."
    )
    for phase, limit in TARGETS.items():
        ratios = {
            statistic: table["conduct"][f"{phase}_ratio"] for statistic, table in summary.items()
        }
        verdict = "met" if max(ratios.values()) <= limit else "NOT met"
        shown = ", ".join(f"{ratio:.2f}x ({statistic})" for statistic, ratio in ratios.items())
        print(f"target: conduct {phase} <= {limit}x plaintext: {shown}: {verdict}")


def save(summary, samples, floor, floors, args, databases: Databases, cases: int) -> Path:
    fields = {
        "database": databases.name,
        "rows": args.rows,
        "cases": cases,
        "persons_per_case": args.rows // cases,
        "batch": args.batch,
        "repeats": args.repeats,
        "conduct_measures": "persons added to existing cases; case and key creation is 'setup'",
        "targets": {f"conduct_{phase}_ratio_max": limit for phase, limit in TARGETS.items()},
        "summary": summary,
        "samples": samples,
        "floor": floor,
        "floor_samples": floors,
    }
    versions = {
        "sqlalchemy_utils": sqlalchemy_utils.__version__,
        "cryptography": cryptography.__version__,
    }
    return save_results("encryption", fields, versions)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="persons to write (20,000)")
    parser.add_argument("--per-case", type=int, default=4, help="persons per case (4)")
    parser.add_argument("--batch", type=int, default=1_000, help="rows per commit (1,000)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh databases per variant (3)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL; a database is made for the run and dropped "
        "(default: SQLite files in a temporary directory)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile Conduct's write and read once with cProfile instead of timing",
    )
    parser.add_argument("--profile-sort", default="tottime", help="pstats sort key (tottime)")
    parser.add_argument("--profile-lines", type=int, default=25, help="profile rows shown (25)")
    parser.add_argument("--seed", type=int, default=20260301, help="data generator seed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cases = max(1, args.rows // args.per_case)
    persons = generate_persons(args.rows, cases, args.seed)
    case_ids = [uuid.uuid4() for _ in range(cases)]
    with tempfile.TemporaryDirectory(prefix="conduct-bench-") as tmp:
        workdir = Path(tmp)
        key_dir = workdir / "keys"
        init_key_dir(key_dir)
        databases = Databases(args.database_url, workdir)
        try:
            print(f"database: {databases.describe()}", file=sys.stderr)
            if args.profile:
                profile(databases, workdir, key_dir, args, persons, case_ids)
                return 0
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
            floors: list[dict[str, float]] = []
            for repeat in range(args.repeats):
                for name in VARIANTS:
                    run = run_once(name, databases, workdir, key_dir, args, persons, case_ids)
                    samples[name].append(run)
                    print(
                        f"repeat {repeat + 1}/{args.repeats} {name}: write {run['write']:.3f} s, "
                        f"read {run['read']:.3f} s",
                        file=sys.stderr,
                    )
                floors.append(run_floor(databases, key_dir, args, persons, case_ids))
                print(
                    f"repeat {repeat + 1}/{args.repeats} floor: cryptography "
                    f"{floors[-1]['crypto']:.3f} s, blind indexes {floors[-1]['indexes']:.3f} s",
                    file=sys.stderr,
                )
        finally:
            databases.close()
    summary = summarise(samples)
    floor = summarise_floor(floors, summary)
    print_table(summary, args, databases, cases)
    print_floor(floor)
    print(f"\nresults: {save(summary, samples, floor, floors, args, databases, cases)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
