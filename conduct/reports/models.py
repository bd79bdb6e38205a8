"""The one table of statistics: each table's records, sealed (``conduct.reports.snapshots``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from conduct.core.db import db


class StatisticsSnapshot(db.Model):
    """One table's records (``conduct.reports.units``) as read at ``generation``, sealed with
    the statistics key and bound to the name and the generation."""

    __tablename__ = "statistics_snapshots"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
