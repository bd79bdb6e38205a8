"""The audit log: one append-only event for every access, written in the access's transaction."""

from .events import AuditError, record

__all__ = ["AuditError", "record"]
