"""What the auditor workspace costs on a large log: event pages, filters, CSV, case access, flags.

    .venv/bin/python bench/audit_workspace.py                       # 200,000 events, SQLite
    .venv/bin/python bench/audit_workspace.py --events 20000 --repeats 2
    .venv/bin/python bench/audit_workspace.py --database-url postgresql://postgres@127.0.0.1:5432/test

The log is generated straight into ``audit_events`` (bulk inserts, not ``record()``: the
recorder's own cost is the encryption and case benchmarks' business): ``--accounts`` officers
working on ``--cases`` cases over 30 days, mostly case reads in working hours, with lists,
changes, logins, some refusals (a few on other missions' cases), night work and exports. An
auditor then asks through the API with the test client, as a browser or script would (each
answer also writes and commits the auditor's own audit event): the first page, each filter, a
deep keyset page, a case's access, the flags of the last 7 days (all kinds and each kind), and
the CSV export of every event. Median of ``--repeats`` runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import (  # noqa: E402
    conduct_app,
    logged_in_client,
    save_results,
    scratch_database,
)
from conduct.audit.models import AuditEvent  # noqa: E402
from conduct.core.db import db, unit_of_work  # noqa: E402
from conduct.core.missions import seed_missions  # noqa: E402
from conduct.crypto.keys import init_key_dir  # noqa: E402
from tests.factories import make_user  # noqa: E402

DAYS = 30
# Share of each kind of event an officer writes.
ACTIONS = [
    ("case.read", 0.62),
    ("case.list", 0.12),
    ("case.update", 0.10),
    ("case.deadlines", 0.06),
    ("login.succeeded", 0.06),
    ("request.refused", 0.035),
    ("audit.export.csv", 0.005),
]


def median_ms(action: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)


def _moment(rng: random.Random, now: datetime) -> datetime:
    """Mostly a weekday between 08:00 and 18:00 UTC; one event in twenty at night."""
    day = now - timedelta(days=rng.randrange(DAYS))
    hour = rng.randrange(0, 6) if rng.random() < 0.05 else rng.randrange(8, 18)
    return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))


def _event(rng: random.Random, now: datetime, officer, references: list[str]) -> dict:
    action = rng.choices([name for name, _ in ACTIONS], [share for _, share in ACTIONS])[0]
    row = {
        "occurred_at": _moment(rng, now),
        "action": action,
        "outcome": "success",
        "actor_id": officer,
        "actor_roles": "officer",
        "fields": "",
        "request_id": uuid.uuid4().hex,
        "client_address": "10.0.0.7",
        # Every row names every column: one executemany statement for the batch.
        **dict.fromkeys(("object_type", "object_id", "case_id", "case_reference")),
    }
    if action in ("case.read", "case.update", "case.deadlines", "request.refused"):
        reference = rng.choice(references)
        row.update(case_reference=reference, case_id=uuid.uuid5(uuid.NAMESPACE_URL, reference))
        row.update(object_type="case", object_id=str(row["case_id"]), fields="category,status")
    if action == "request.refused":
        row.update(outcome="denied", object_type="endpoint", object_id="cases_api.get_case")
        row["fields"] = "mission" if rng.random() < 0.3 else ""
    return row


def generate_log(size: int, accounts: int, cases: int, seed: int = 7) -> list:
    """Officers' accounts and ``size`` events; returns the officers' ids."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    references = [f"MINUSCA-2026-{number:04d}" for number in range(1, cases + 1)]
    with unit_of_work():
        officers = [make_user(("officer",), ("MINUSCA",)).id for _ in range(accounts)]
    batch = 10_000
    for start in range(0, size, batch):
        rows = [
            _event(rng, now, rng.choice(officers), references)
            for _ in range(min(batch, size - start))
        ]
        with unit_of_work() as session:
            session.execute(AuditEvent.__table__.insert(), rows)
    return officers


def logged_in_auditor(app):
    with unit_of_work():
        auditor = make_user(("auditor",), ())
    return logged_in_client(app, auditor.id)


def measure(client, officer_email: str, repeats: int) -> dict[str, float]:
    def get(url: str, **params):
        def run():
            answer = client.get(url, query_string=params)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
            return answer

        return run

    week_ago = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    events = "/api/v1/audit/events"
    cursor = None
    for _ in range(20):  # 1,000 events deep
        body = client.get(events, query_string={"cursor": cursor} if cursor else {}).get_json()
        cursor = body["next_cursor"]
    timings = {
        "first_page": median_ms(get(events), repeats),
        "actor_email": median_ms(get(events, actor=officer_email), repeats),
        "case": median_ms(get(events, case="MINUSCA-2026-0042"), repeats),
        "action_prefix_week": median_ms(get(events, action="case.", since=week_ago), repeats),
        "outcome_denied": median_ms(get(events, outcome="denied"), repeats),
        "page_21": median_ms(get(events, cursor=cursor), repeats),
        "case_access": median_ms(get("/api/v1/audit/cases/MINUSCA-2026-0042/access"), repeats),
        "flags_week": median_ms(get("/api/v1/audit/flags"), repeats),
    }
    for kind in ("many_cases", "outside_missions", "denials", "unusual_hours", "exports"):
        timings[f"flags_week_{kind}"] = median_ms(get("/api/v1/audit/flags", kind=kind), repeats)
    return timings


def measure_csv(client, size: int) -> dict[str, float]:
    started = time.perf_counter()
    answer = client.get("/api/v1/audit/events.csv")
    lines = sum(chunk.count(b"\n") for chunk in answer.response)
    seconds = time.perf_counter() - started
    assert lines >= size + 1, (lines, size)
    return {"csv_all_ms": round(seconds * 1000, 1), "csv_rows_per_s": round(lines / seconds)}


def run(size: int, accounts: int, cases: int, repeats: int, url: str | None) -> dict:
    from flask import current_app

    from conduct.auth.models import User

    workdir = Path(tempfile.mkdtemp(prefix="conduct-bench-"))
    key_dir = workdir / "keys"
    init_key_dir(key_dir)
    with (
        scratch_database(url, workdir, "bench-audit-workspace.db") as (name, database_url),
        conduct_app(database_url, workdir, key_dir),
    ):
        app = current_app._get_current_object()
        db.create_all()
        with unit_of_work() as session:
            seed_missions(session)
        started = time.perf_counter()
        officers = generate_log(size, accounts, cases)
        generated = time.perf_counter() - started
        with unit_of_work():
            officer_email = db.session.get(User, officers[0]).email
        client = logged_in_auditor(app)
        timings = measure(client, officer_email, repeats)
        timings.update(measure_csv(client, size))
    return {"database": name, "events": size, "generate_s": round(generated, 1), **timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url")
    arguments = parser.parse_args()
    result = run(
        arguments.events,
        arguments.accounts,
        arguments.cases,
        arguments.repeats,
        arguments.database_url,
    )
    for name, value in result.items():
        print(f"{name:>28}: {value}")
    save_results("audit_workspace", {"repeats": arguments.repeats, **result})


if __name__ == "__main__":
    main()
