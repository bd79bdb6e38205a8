"""The one table of the crypto layer: each case's data key, wrapped by the KEK."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from conduct.core.db import db, utcnow


class DataKey(db.Model):
    """A case's data key (DEK), wrapped. Deleting this row shreds the case.

    ``case_id`` carries no foreign key on purpose: the crypto layer knows nothing of cases, and
    shredding must stay possible whatever else refers to the case.
    """

    __tablename__ = "data_keys"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kek_version: Mapped[int]
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
