"""Fixtures of the statistics tests."""

from __future__ import annotations

import pytest

from conduct.reports import services


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts and ends without computed tables: the in-process cache outlives the
    test's database."""
    services.clear_cache()
    yield
    services.clear_cache()
