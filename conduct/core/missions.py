"""Missions: the one code list kept in a table, because a case's mission is plain."""

from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from conduct.codes import MISSIONS
from conduct.core.db import db


class Mission(db.Model):
    __tablename__ = "missions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


def seed_missions(session: Session) -> int:
    """Add any mission of ``conduct.codes.MISSIONS`` not yet in the table; return how many."""
    known = set(session.scalars(select(Mission.code)))
    added = [
        Mission(code=code, name=name, active=active)
        for code, name, active in MISSIONS
        if code not in known
    ]
    session.add_all(added)
    return len(added)
