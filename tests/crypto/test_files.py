"""Sealed files: bound to their attachment and case, padded so their size says little."""

from __future__ import annotations

import os
import uuid

import pytest

from conduct.crypto import IntegrityError
from conduct.crypto.envelope import SealingKey, open_file, padded_file_length, seal_file


def _key() -> SealingKey:
    return SealingKey.from_bytes(uuid.uuid4(), os.urandom(32))


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 70_000, 1_000_003])
def test_a_file_opens_only_for_its_own_ids(size):
    key, file_id, case_id = _key(), uuid.uuid4(), uuid.uuid4()
    data = os.urandom(size)
    sealed = seal_file(key, data, file_id, case_id)
    assert open_file(key, sealed, file_id, case_id) == data
    for other_file, other_case in ((uuid.uuid4(), case_id), (file_id, uuid.uuid4())):
        with pytest.raises(IntegrityError):
            open_file(key, sealed, other_file, other_case)
    with pytest.raises(IntegrityError):
        open_file(_key(), sealed, file_id, case_id)
    with pytest.raises(IntegrityError):
        open_file(key, sealed[:-1], file_id, case_id)


def test_padding_hides_the_exact_size_for_at_most_a_few_percent():
    assert padded_file_length(0) == padded_file_length(4000) == 4096
    sizes = {padded_file_length(n) for n in range(100_000, 101_000)}
    assert len(sizes) <= 2
    for n in (5000, 123_456, 20 * 1024 * 1024):
        assert n < padded_file_length(n) <= n * 1.13
