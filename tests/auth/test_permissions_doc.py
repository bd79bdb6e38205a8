"""docs/permissions.md is generated from the permission table; this test keeps them equal."""

from __future__ import annotations

from pathlib import Path

from conduct.core.permissions import permission_table_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_the_permissions_doc_is_the_table():
    assert DOC.read_text(encoding="utf-8") == permission_table_markdown(), (
        "docs/permissions.md is out of date: run "
        "`conduct users permissions --markdown > docs/permissions.md`"
    )
