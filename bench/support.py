"""What every benchmark here shares: the application on a database, and writing results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy

from conduct import create_app
from conduct.core.db import db

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
