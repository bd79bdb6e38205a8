"""Sealing statistics snapshots with the statistics key.

A snapshot holds the coded facts statistics count, one record per counted unit, so that a
table can be computed without opening every row again (``conduct.reports.units``). It is
sealed like a coded cell, with the statistics key only, and bound to its name and generation:
a snapshot moved to another name, or relabelled with another generation, fails to open.
Plaintexts are padded to whole blocks of :data:`SNAPSHOT_BLOCK` bytes, so that a snapshot's
length says only roughly how many units it holds (the number of victims is not plain
anywhere else).
"""

from __future__ import annotations

from .envelope import cell_context, open_cell, pad, seal_cell, unpad
from .vault import Vault

SNAPSHOT_BLOCK = 1 << 20
_CONTEXT = cell_context("statistics_snapshots", "sealed")


def _binding(name: str, generation: int) -> bytes:
    return _CONTEXT + name.encode() + b"\x00" + generation.to_bytes(8, "big")


def seal_snapshot(vault: Vault, name: str, generation: int, data: bytes) -> bytes:
    """``data`` sealed for the snapshot ``name`` at ``generation``."""
    plain = pad(data, SNAPSHOT_BLOCK)
    return seal_cell(vault.statistics_key, plain, _binding(name, generation))


def open_snapshot(vault: Vault, name: str, generation: int, token: bytes) -> bytes:
    """The data of a snapshot sealed by :func:`seal_snapshot`, or IntegrityError."""
    return unpad(open_cell(vault.statistics_key, bytes(token), _binding(name, generation)))
