"""Object rules for cases: the third layer of access control, applied in the services.

The guard has already checked the permission a route declares; these rules decide about one
case: officers see only cases of their missions, never a case they are recused from, and only
the case team sees identifying fields (identities, narratives, referral details).
"""

from __future__ import annotations

from conduct.core.permissions import has_permission

from .models import Case


def is_on_team(user, case: Case) -> bool:
    return user is not None and any(member.user_id == user.id for member in case.team)


def is_recused(user, case: Case) -> bool:
    return user is not None and any(row.user_id == user.id for row in case.recusals)


def in_scope(user, case: Case) -> bool:
    """The case belongs to one of the user's missions."""
    return user is not None and case.mission_code in getattr(user, "missions", ())


def can_view_case(user, case: Case) -> bool:
    return has_permission(user, "case:read") and in_scope(user, case) and not is_recused(user, case)


def can_change_case(user, case: Case) -> bool:
    """Changes to a case (fields, persons, referrals, workflow) are for its team."""
    return can_view_case(user, case) and is_on_team(user, case)


def can_see_identities(user, case: Case) -> bool:
    return (
        can_view_case(user, case)
        and has_permission(user, "case:read_identity")
        and is_on_team(user, case)
    )
