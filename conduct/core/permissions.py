"""The permission table: which role holds which permission. The only place that says so.

Access is checked in three places: the request guard (deny by default: a route with no
declared permission is closed), the permission declared on each view (``@requires``), and the
object rules in the services (mission scope, case team, recusal). docs/permissions.md is
generated from this table (``conduct users permissions --markdown``) and a test keeps them equal.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort

from conduct.codes import ROLES

PERMISSIONS: dict[str, str] = {
    "account:self": "manage one's own password and second factor",
    "case:create": "record a new case",
    "case:read": "read cases of one's missions (identities of victims only for the case team)",
    "case:read_identity": "see identities of a case's victims when on the case team",
    "case:update": "change a case and its persons, referrals, measures, findings",
    "case:transition": "move a case along the workflow",
    "case:transfer": "transfer a case to another mission",
    "case:attach": "upload and download evidence attachments",
    "case:import": "import cases from a CSV file",
    "report:view": "view anonymised statistics",
    "report:export": "export anonymised statistics as CSV",
    "audit:read": "read the audit log and checkpoints",
    "audit:export": "export the audit log for offline verification",
    "user:manage": "create, disable and reset accounts; assign roles and missions",
    "mission:manage": "add missions and mark them active or closed",
    "screening:query": "ask whether a person has a substantiated SEA record (yes or no)",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "officer": frozenset(
        {
            "account:self",
            "case:create",
            "case:read",
            "case:read_identity",
            "case:update",
            "case:transition",
            "case:transfer",
            "case:attach",
            "case:import",
        }
    ),
    "leadership": frozenset({"account:self", "report:view", "report:export"}),
    "auditor": frozenset({"account:self", "audit:read", "audit:export"}),
    "admin": frozenset({"account:self", "user:manage", "mission:manage"}),
    "vetting": frozenset({"account:self", "screening:query"}),
}

# Permissions that act on one case and, beyond the mission scope, need the user to be on the
# case's team: changing a case is for the officers who handle it.
TEAM_ONLY: frozenset[str] = frozenset(
    {"case:read_identity", "case:update", "case:transition", "case:transfer", "case:attach"}
)

# Endpoints anyone may reach, logged in or not. Everything else needs a login, a completed
# second factor, and the permission its view declares.
OPEN_ENDPOINTS = frozenset(
    {
        "static",
        "health.healthz",
        "health.readyz",
        "auth.login",
        "auth.login_mfa",
        "auth.enroll",
        "auth.logout",
        "auth.set_language",
        "auth_api.create_session",
        "auth_api.confirm_mfa",
        "auth_api.delete_session",
        "api_docs.openapi",
    }
)

assert set(ROLE_PERMISSIONS) == set(ROLES), "every role needs a row in the permission table"
assert all(perms <= set(PERMISSIONS) for perms in ROLE_PERMISSIONS.values())

View = TypeVar("View", bound=Callable)


def permissions_of(roles) -> frozenset[str]:
    held: set[str] = set()
    for role in roles:
        held |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(held)


def has_permission(user, permission: str) -> bool:
    return user is not None and permission in permissions_of(getattr(user, "roles", ()))


def requires(permission: str) -> Callable[[View], View]:
    """Declare the permission a view needs. The request guard enforces it before the view runs.

    The declaration is stored on the view, so the guard, the route-walking test and the docs
    all read the same fact.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args, **kwargs):
            return view(*args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def required_permission(view) -> str | None:
    return getattr(view, "required_permission", None)


def deny() -> None:
    abort(403)


def permission_table_markdown() -> str:
    """docs/permissions.md, from the table above."""
    roles = list(ROLE_PERMISSIONS)
    lines = [
        "# Permissions",
        "",
        "Generated from `conduct/core/permissions.py` by `conduct users permissions "
        "--markdown`; a test keeps this file equal to the table.",
        "",
        "Access is denied by default: a route is closed until its view declares a permission,",
        "and a user reaches it only through a role that holds that permission. Object rules",
        "then apply in the services: officers see only cases of their missions, identities of",
        "victims only on the case team, and never a case they are recused from.",
        "",
        "| permission | meaning | " + " | ".join(roles) + " |",
        "| --- | --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for permission, meaning in PERMISSIONS.items():
        marks = ["yes" if permission in ROLE_PERMISSIONS[role] else "" for role in roles]
        lines.append(f"| `{permission}` | {meaning} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "On one case, these also need the user to be on the case's team: "
        + ", ".join(f"`{name}`" for name in sorted(TEAM_ONLY))
        + ".",
        "",
        "Open to everyone (no login): " + ", ".join(f"`{e}`" for e in sorted(OPEN_ENDPOINTS)),
        "",
    ]
    return "\n".join(lines)
