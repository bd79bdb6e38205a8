"""What an evidence file costs: sealing alone, and an upload and a download through the API.

    .venv/bin/python bench/attachments.py                  # 100 KiB, 1 MiB, 20 MiB on SQLite
    .venv/bin/python bench/attachments.py --sizes 1048576 --repeats 3
    .venv/bin/python bench/attachments.py --database-url postgresql://postgres@127.0.0.1:5432/test

For each size: ``seal_file``/``open_file`` with a case's data key (AES-256-GCM and padding, no
I/O), then the API with the test client: ``POST .../attachments`` (multipart parsing, type
check, sealing, atomic write with fsync, audit event, commit) and ``GET`` of the file (read,
open, audit event, commit). Best of ``--repeats`` runs, in milliseconds, and MiB/s.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import (  # noqa: E402
    conduct_app,
    logged_in_client,
    save_results,
    scratch_database,
)
from conduct.core.db import db, unit_of_work  # noqa: E402
from conduct.core.missions import seed_missions  # noqa: E402
from conduct.crypto import current_vault  # noqa: E402
from conduct.crypto.keys import init_key_dir  # noqa: E402
from tests.factories import make_case, make_user  # noqa: E402

DEFAULT_SIZES = (100 * 1024, 1024 * 1024, 20 * 1024 * 1024)


def best_ms(action: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def crypto_only(case_id, data: bytes, repeats: int) -> tuple[float, float, int]:
    """Best times to seal and to open ``data`` with the case's key, and the sealed size."""
    with unit_of_work() as session:
        vault, file_id = current_vault(), uuid.uuid4()
        sealed = vault.seal_file(session, case_id, file_id, data)
        seal = best_ms(lambda: vault.seal_file(session, case_id, file_id, data), repeats)
        opened = best_ms(lambda: vault.open_file(session, case_id, file_id, sealed), repeats)
    return seal, opened, len(sealed)


def run(sizes, repeats: int, database_url: str | None) -> list[dict]:
    """Each size on a throwaway database: SQLite, or one made on the PostgreSQL server."""
    with (
        tempfile.TemporaryDirectory(prefix="conduct-bench-") as tmp,
        scratch_database(database_url, Path(tmp), "bench.db") as (_name, url),
    ):
        workdir = Path(tmp)
        key_dir = workdir / "keys"
        init_key_dir(key_dir)
        return _measure(url, workdir, key_dir, sizes, repeats)


def _measure(url: str, workdir: Path, key_dir: Path, sizes, repeats: int) -> list[dict]:
    """Uploads and downloads of each size on a fresh database (``url``)."""
    from flask import current_app

    from conduct.cases.models import CaseTeamMember

    rows = []
    with conduct_app(url, workdir, key_dir):
        app = current_app._get_current_object()
        db.create_all()
        with unit_of_work() as session:
            seed_missions(session)
            officer = make_user(("officer",), ("MINUSCA",))
            case = make_case()
            case.team.append(CaseTeamMember(user_id=officer.id))
            user_id, case_id, reference = officer.id, case.id, case.reference
        client = logged_in_client(app, user_id)
        for size in sizes:
            data = b"%PDF-1.7\n" + os.urandom(size - 9)
            seal, opened, sealed_size = crypto_only(case_id, data, repeats)
            locations = []

            def upload(data=data, locations=locations):
                answer = client.post(
                    f"/api/v1/cases/{reference}/attachments",
                    data={"file": (io.BytesIO(data), "statement.pdf", "application/pdf")},
                    content_type="multipart/form-data",
                )
                assert answer.status_code == 201, answer.get_json()
                locations.append(answer.headers["Location"])

            def download(data=data, locations=locations):
                answer = client.get(locations[-1])
                assert answer.data == data

            uploaded = best_ms(upload, repeats)
            downloaded = best_ms(download, repeats)
            mib = size / 1024 / 1024
            rows.append(
                {
                    "bytes": size,
                    "seal_ms": round(seal, 2),
                    "open_ms": round(opened, 2),
                    "upload_ms": round(uploaded, 2),
                    "download_ms": round(downloaded, 2),
                    "upload_mib_s": round(mib / (uploaded / 1000), 1),
                    "download_mib_s": round(mib / (downloaded / 1000), 1),
                    "overhead_pct": round(100 * (sealed_size - size) / size, 2),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url")
    arguments = parser.parse_args()
    rows = run(arguments.sizes, arguments.repeats, arguments.database_url)
    header = list(rows[0])
    print(" | ".join(f"{name:>14}" for name in header))
    for row in rows:
        print(" | ".join(f"{row[name]:>14}" for name in header))
    print(f"median upload MiB/s: {statistics.median(r['upload_mib_s'] for r in rows)}")
    database = "postgresql" if arguments.database_url else "sqlite"
    save_results("attachments", {"database": database, "repeats": arguments.repeats, "rows": rows})


if __name__ == "__main__":
    main()
