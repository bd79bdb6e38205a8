"""What every benchmark here shares: the application on a database, and writing results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conduct import create_app
from conduct.core.db import db, normalise_database_url

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@contextmanager
def conduct_app(database_url: str, workdir: Path, key_dir: Path) -> Iterator[None]:
    """A Conduct application on ``database_url`` with the keys of ``key_dir``, its context
    pushed for the block; its sessions and engine are closed afterwards."""
    app = create_app(
        {
            "CONDUCT_ENV": "testing",
            "CONDUCT_INSTANCE_PATH": str(workdir / "instance"),
            "CONDUCT_DATABASE_URL": database_url,
            "CONDUCT_KEY_DIR": str(key_dir),
            "CONDUCT_SECRET_KEY": "bench-" + "x" * 40,
        }
    )
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


@contextmanager
def scratch_database(url: str | None, workdir: Path, file_name: str) -> Iterator[tuple[str, str]]:
    """``(name, url)`` of an empty database for the run: an SQLite file ``file_name`` in
    ``workdir``, or a PostgreSQL database created on the given server and dropped at the end."""
    if url is None:
        yield "sqlite", f"sqlite:///{workdir / file_name}"
        return
    server = make_url(normalise_database_url(url))
    name = f"conduct_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield "postgresql", server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def refresh_planner_statistics() -> None:
    """ANALYZE after a bulk load, as autovacuum (or SQLite's optimize) would in service; on
    PostgreSQL also VACUUM, as autovacuum does, which lets index-only scans skip the table."""
    command = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(command))


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def save_results(
    benchmark: str, fields: Mapping[str, Any], versions: Mapping[str, str] | None = None
) -> Path:
    """Write ``bench/results/<benchmark>-<UTC time>.json``: the run's fields, with the commit,
    the library versions and the machine."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = RESULTS_DIR / f"{benchmark}-{now:%Y%m%dT%H%M%SZ}.json"
    document = {
        "benchmark": benchmark,
        "at": now.isoformat(timespec="seconds"),
        "commit": git_commit(),
        **fields,
        "versions": {
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            **(versions or {}),
        },
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def logged_in_client(app, user_id):
    """A test client of ``app`` logged in as the user, through the API as a script would."""
    from tests.factories import api_login

    client = app.test_client()
    answer = api_login(client, user_id)
    assert answer.status_code == 200, answer.get_json()
    return client
