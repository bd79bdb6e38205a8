"""The reports package reaches coded facts through the statistics key and nothing else."""

from __future__ import annotations

import ast
import pkgutil
from datetime import date
from pathlib import Path

import pytest

import conduct.reports
from conduct import models  # noqa: F401 - every model registered
from conduct.core.db import db, unit_of_work
from conduct.crypto import SealedRow
from conduct.crypto.vault import Vault
from conduct.reports import services
from tests.factories import make_case, make_person

PACKAGE = Path(conduct.reports.__file__).parent
# What reaching a case's data key or an identifying field would take.
KEY_NAMES = {
    "data_key",
    "loaded_data_key",
    "preload",
    "create_data_key",
    "unwrap_key",
    "DataKey",
    "IdentifyingField",
    "identity_sealed",
    "identity_values",
    "open_identity_document",
    "open_cell",
    "open_sealed",
}


def _identifying_names() -> set[str]:
    names = set()
    for model in db.Model.registry.mappers:
        cls = model.class_
        if issubclass(cls, SealedRow):
            for name in cls.__identifying__:
                names.add(name)
    return names


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.alias):
            used.add(node.name.rsplit(".", 1)[-1])
    return used


def test_no_module_of_the_package_names_a_data_key_or_an_identifying_field():
    forbidden = KEY_NAMES | _identifying_names()
    assert "full_name" in forbidden and "narrative" in forbidden
    modules = [PACKAGE / f"{info.name}.py" for info in pkgutil.iter_modules([str(PACKAGE)])]
    assert len(modules) >= 6
    for path in modules:
        assert not (_names_used(path) & forbidden), path.name


@pytest.fixture
def cases(app):
    with app.app_context(), unit_of_work():
        for number in range(6):
            case = make_case(received_on=date(2025, 1 + number, 1))
            make_person(case, sex="female", age_group="child")
            make_person(case, role="subject", personnel_category="un_volunteer")


def test_every_table_computes_with_data_keys_out_of_reach(app, cases, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("statistics reached for a case's data key")

    for name in ("data_key", "preload", "loaded_data_key", "_remember"):
        monkeypatch.setattr(Vault, name, refuse)
    monkeypatch.setattr("conduct.crypto.vault.unwrap_key", refuse)
    with app.app_context(), unit_of_work():
        for table in ("allegations", "victims", "subjects", "timeliness"):
            computed = services.computed_table(table, 5, date(2026, 6, 1))
            assert int(computed.published[()]) in (6, services.HIDDEN)
        victims = services.computed_table("victims", 5)
        assert int(victims.published[("age_group",)][1]) == 6
