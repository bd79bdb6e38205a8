"""KEK rotation: every wrapped key wrapped again under the current (newest) KEK.

Only keys change: no sealed value is touched, so a rotation of a large database takes seconds
per hundred thousand cases. It can be resumed: each batch of case data keys is a transaction of
its own and only keys not yet under the current KEK are picked, so a rotation that stopped half
way continues where it stopped when run again.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .keys import KekProvider, rewrap_key
from .models import DataKey
from .vault import data_key_purpose


def data_keys_to_rewrap(session: Session, provider: KekProvider) -> int:
    """How many case data keys are wrapped by an older KEK than the current one."""
    current = provider.current().version
    return session.scalar(
        select(func.count()).select_from(DataKey).where(DataKey.kek_version != current)
    )


def rewrap_data_keys(session: Session, provider: KekProvider, limit: int) -> int:
    """Rewrap up to ``limit`` case data keys under the current KEK; return how many.

    Rows are locked as they are picked (PostgreSQL skips rows another rotation holds), so two
    rotations running at once never wrap the same key twice.
    """
    current = provider.current().version
    records = session.scalars(
        select(DataKey)
        .where(DataKey.kek_version != current)
        .order_by(DataKey.case_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for record in records:
        purpose = data_key_purpose(record.case_id)
        record.wrapped = rewrap_key(provider, purpose, bytes(record.wrapped))
        record.kek_version = current
    session.flush()
    return len(records)


def kek_versions_in_use(session: Session) -> list[int]:
    """KEK versions that still wrap at least one case data key."""
    return sorted(session.scalars(select(DataKey.kek_version).distinct()))
