"""The audit log's speed goals: seal and verify a million events, then verify 10,000 more.

1. ``--events`` generated audit events (1,000,000) are bulk-inserted into ``audit_events``
   (Core executemany, ``--batch`` rows per commit; shaped like real ones: actions, actors,
   roles, cases, references, field names, request ids, addresses). Loading is timed and
   printed, not counted.
2. One seal gives them all their leaves and signs a checkpoint (the real ``seal``).
3. A full verify (the real ``verify_log``, as ``conduct audit verify`` runs it): every leaf
   recomputed from its event, the tree rebuilt, the checkpoint's root and signature checked.
4. ``--new-events`` more events (10,000) are inserted and sealed; then an incremental verify
   from the first checkpoint (``conduct audit verify --from``): its signature, the stored tree
   at its size, and only the new leaves.

Targets: full verify <= 10 s; incremental verify of 10,000 new events <= 0.5 s.

Run ``.venv/bin/python bench/audit.py --help`` for the options; results are printed and written
to ``bench/results/audit-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from support import conduct_app, refresh_planner_statistics, save_results, scratch_database

from conduct.audit.checkpoints import log_origin
from conduct.audit.cli import snapshot
from conduct.audit.models import AuditEvent
from conduct.audit.sealer import seal
from conduct.audit.verify import verify_log
from conduct.core.db import db, utcnow
from conduct.crypto.audit_signing import audit_public_key
from conduct.crypto.keys import init_key_dir

FULL_VERIFY_TARGET_S = 10.0
INCREMENTAL_VERIFY_TARGET_S = 0.5

ACTIONS = {
    "case.read": ("category,narrative,persons,status", "case"),
    "case.list": ("", "mission"),
    "case.update": ("location,narrative", "case"),
    "person.create": ("full_name,role,sex", "person"),
    "referral.create": ("details,entity,purpose", "referral"),
    "case.transition": ("reason,status", "case"),
    "screening.query": ("personnel_number", "screening"),
    "auth.login": ("", "user"),
    "request.refused": ("", "endpoint"),
}
ROLES = ("officer", "officer", "officer", "leadership", "auditor", "vetting")


# --- The data -------------------------------------------------------------------------------


class EventMaker:
    """Generated events like the service writes, deterministic for a seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.actors = [(uuid.UUID(int=self.rng.getrandbits(128)), self.rng.choice(ROLES))
                       for _ in range(300)]  # fmt: skip
        self.cases = [
            (uuid.UUID(int=self.rng.getrandbits(128)), f"MINUSCA-2026-{number:04d}")
            for number in range(1, 5001)
        ]
        self.actions = list(ACTIONS)
        self.started = utcnow() - timedelta(days=365)

    def rows(self, count: int, offset: int) -> list[dict[str, Any]]:
        rng, rows = self.rng, []
        for number in range(offset, offset + count):
            action = rng.choice(self.actions)
            fields, object_type = ACTIONS[action]
            actor_id, role = rng.choice(self.actors)
            case_id, reference = rng.choice(self.cases)
            on_case = object_type in ("case", "person", "referral")
            rows.append(
                {
                    "occurred_at": self.started + timedelta(seconds=number * 30),
                    "action": action,
                    "outcome": "success" if rng.random() < 0.97 else "denied",
                    "actor_id": actor_id,
                    "actor_roles": role,
                    "object_type": object_type,
                    "object_id": str(case_id) if on_case else None,
                    "case_id": case_id if on_case else None,
                    "case_reference": reference if on_case else None,
                    "fields": fields,
                    "request_id": f"{rng.getrandbits(128):032x}",
                    "client_address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.7",
                }
            )
        return rows


def load_events(maker: EventMaker, count: int, offset: int, batch: int) -> float:
    """Bulk-insert ``count`` events, ``batch`` per transaction; seconds taken."""
    started = time.perf_counter()
    for start in range(0, count, batch):
        rows = maker.rows(min(batch, count - start), offset + start)
        with db.engine.begin() as connection:
            connection.execute(insert(AuditEvent), rows)
    return time.perf_counter() - started


# --- The measures ---------------------------------------------------------------------------


class Clock:
    """Wall time, and the CPU time of this process and of the helper processes verify starts:
    on a machine others share, the CPU time says what the work costs; with SQLite it includes
    the database's own work (with PostgreSQL the server's is not in it)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = self._cpu() - self.cpu

    @staticmethod
    def _cpu() -> float:
        helpers = resource.getrusage(resource.RUSAGE_CHILDREN)  # ended and waited for
        return time.process_time() + helpers.ru_utime + helpers.ru_stime


def timed_seal() -> tuple[Clock, Any]:
    with Clock() as clock, db.engine.begin() as connection:
        result = seal(connection, wait=True, thorough=True)
    return clock, result


def timed_verify(trusted_note: str | None = None) -> tuple[Clock, Any]:
    public_key, origin = audit_public_key(), log_origin()
    with Clock() as clock, snapshot() as connection:
        report = verify_log(connection, public_key, origin, trusted_note=trusted_note)
    return clock, report


def run(args) -> dict[str, Any]:
    maker = EventMaker(args.seed)
    print(f"loading {args.events:,} events", file=sys.stderr)
    load_seconds = load_events(maker, args.events, 0, args.batch)
    refresh_planner_statistics()
    seal_clock, sealed = timed_seal()
    assert sealed.tree_size == args.events, sealed
    verify_clock, report = timed_verify()
    if not report.ok or report.tree_size != args.events:
        raise SystemExit(f"full verify failed: {report.problem}")

    load_events(maker, args.new_events, args.events, args.batch)
    new_seal_clock, resealed = timed_seal()
    assert resealed.sealed == args.new_events, resealed
    incremental_clock, incremental = timed_verify(sealed.note)
    if not incremental.ok or incremental.started_at != args.events:
        raise SystemExit(f"incremental verify failed: {incremental.problem}")
    return {
        "events": args.events,
        "new_events": args.new_events,
        "load_seconds": load_seconds,
        "seal_seconds": seal_clock.wall,
        "seal_cpu_seconds": seal_clock.cpu,
        "full_verify_seconds": verify_clock.wall,
        "full_verify_cpu_seconds": verify_clock.cpu,
        "seal_new_seconds": new_seal_clock.wall,
        "seal_new_cpu_seconds": new_seal_clock.cpu,
        "incremental_verify_seconds": incremental_clock.wall,
        "incremental_verify_cpu_seconds": incremental_clock.cpu,
        "load_average": os.getloadavg()[0],
    }


# --- Running --------------------------------------------------------------------------------


def print_table(results: dict[str, Any], name: str) -> None:
    events, new = results["events"], results["new_events"]
    print(f"\nAudit log, {name}: {events:,} events (loading took {results['load_seconds']:.1f} s)")
    print(f"(load average {results['load_average']:.1f} on {os.cpu_count()} CPUs)")
    print(f"{'step':<44} {'wall s':>8} {'cpu s':>8}")
    for label, key in (
        (f"seal {events:,} events", "seal_seconds"),
        (f"full verify of {events:,} leaves", "full_verify_seconds"),
        (f"seal {new:,} new events", "seal_new_seconds"),
        (f"incremental verify of {new:,} new leaves", "incremental_verify_seconds"),
    ):
        cpu = results[key.replace("_seconds", "_cpu_seconds")]
        print(f"{label:<44} {results[key]:>8.2f} {cpu:>8.2f}")
    for label, key, target in (
        ("full verify", "full_verify_seconds", FULL_VERIFY_TARGET_S),
        ("incremental verify", "incremental_verify_seconds", INCREMENTAL_VERIFY_TARGET_S),
    ):
        verdict = "met" if results[key] <= target else "NOT met"
        cpu = results[key.replace("_seconds", "_cpu_seconds")]
        print(f"target: {label} <= {target:g} s: {results[key]:.2f} s ({cpu:.2f} s CPU): {verdict}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events (1,000,000)")
    parser.add_argument("--new-events", type=int, default=10_000, help="events added (10,000)")
    parser.add_argument("--batch", type=int, default=20_000, help="events per insert (20,000)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL; a database is made for the run and dropped "
        "(default: an SQLite file in a temporary directory)",
    )
    parser.add_argument("--seed", type=int, default=20261128, help="data generator seed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="conduct-bench-") as tmp:
        key_dir = Path(tmp) / "keys"
        init_key_dir(key_dir)
        with (
            scratch_database(args.database_url, Path(tmp), "bench-audit.db") as (name, url),
            conduct_app(url, Path(tmp), key_dir),
        ):
            db.create_all()
            results = run(args)
    print_table(results, name)
    fields = {
        "database": name,
        "targets": {
            "full_verify_seconds_max": FULL_VERIFY_TARGET_S,
            "incremental_verify_seconds_max": INCREMENTAL_VERIFY_TARGET_S,
        },
        **results,
    }
    print(f"\nresults: {save_results('audit', fields)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
