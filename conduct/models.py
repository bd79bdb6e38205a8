"""Imports every model so the metadata (Alembic, create_all) sees all tables."""

from conduct.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from conduct.auth.models import RecoveryCode, User, UserMission, UserRole, WebSession
from conduct.cases.generation import StatisticsChange, StatisticsGeneration
from conduct.cases.models import (
    Attachment,
    Case,
    CaseRecusal,
    CaseTeamMember,
    CaseTransfer,
    Finding,
    InterimMeasure,
    PaternityClaim,
    Person,
    ReferenceCounter,
    Referral,
    StatusChange,
)
from conduct.core.missions import Mission
from conduct.crypto.models import DataKey
from conduct.reports.models import StatisticsSnapshot

__all__ = [
    "Attachment",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditLeaf",
    "Case",
    "CaseRecusal",
    "CaseTeamMember",
    "CaseTransfer",
    "DataKey",
    "Finding",
    "InterimMeasure",
    "Mission",
    "PaternityClaim",
    "RecoveryCode",
    "Person",
    "ReferenceCounter",
    "Referral",
    "StatisticsChange",
    "StatisticsGeneration",
    "StatisticsSnapshot",
    "StatusChange",
    "User",
    "UserMission",
    "UserRole",
    "WebSession",
]
