"""Typed settings, read from defaults, then instance/config.py, then the environment.

Production refuses to start on unsafe settings, with a message that says what to do. The names
are those of brief section 6 (``CONDUCT_*``).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conduct.core.db import normalise_database_url

ENVIRONMENTS = ("development", "production", "testing")
_AUDIT_ORIGIN = re.compile(r"^[!-*,-~]{1,200}$")  # printable ASCII, no space, no '+'
_WEAK_SECRETS = {"", "dev", "development", "secret", "changeme", "change-me", "test"}
MIN_SECRET_LENGTH = 32


class ConfigurationError(Exception):
    """A setting is missing or unsafe; the message says what to do."""


@dataclass(frozen=True)
class Settings:
    env: str
    instance_path: Path
    database_url: str
    secret_key: str
    key_dir: Path
    kek: str | None
    redis_url: str | None
    suppression_threshold: int
    audit_seal_seconds: int
    allow_sqlite_in_production: bool
    secret_key_generated: bool
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    login_rate_limit: str = "20 per 5 minutes"
    deadline_referral_days: int = 7
    deadline_finding_days: int = 90
    deadline_member_state_working_days: int = 10
    attachment_dir: Path = Path("instance/attachments")
    attachment_max_bytes: int = 20 * 1024 * 1024
    # Unusual-access flags of the auditor workspace (docs/operations.md lists them).
    audit_flag_cases: int = 20
    audit_flag_window_minutes: int = 10
    audit_flag_denials: int = 1
    audit_flag_days: int = 7
    audit_working_hours: str = "07:00-19:00"
    audit_working_days: str = "mon,tue,wed,thu,fri"
    audit_timezone: str = "UTC"
    audit_origin: str | None = None
    # Retention (docs/operations.md, "Retention"): years a closed case keeps its identities;
    # unset means no policy is set, and `conduct retention apply` refuses to run.
    retention_years: int | None = None
    retention_substantiated_years: int | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _read_python_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - local config
    return {name: value for name, value in namespace.items() if name.startswith("CONDUCT_")}


def _as_int(name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from None


def _as_optional_int(name: str, value: Any) -> int | None:
    return None if value is None or value == "" else _as_int(name, value)


def _as_bool(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _development_secret(instance_path: Path) -> str:
    """A random secret kept in instance/secret_key, made at first run (development only)."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from defaults < instance/config.py < environment < ``overrides``."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    early = {**environ, **overrides}
    instance_path = Path(early.get("CONDUCT_INSTANCE_PATH") or "instance").resolve()
    values: dict[str, Any] = _read_python_config(instance_path / "config.py")
    values.update({k: v for k, v in environ.items() if k.startswith("CONDUCT_")})
    values.update(overrides)

    env = values.get("CONDUCT_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigurationError(f"CONDUCT_ENV must be one of {', '.join(ENVIRONMENTS)}")
    secret = values.get("CONDUCT_SECRET_KEY")
    generated = False
    if not secret and env != "production":
        secret, generated = _development_secret(instance_path), True
    database_url = values.get("CONDUCT_DATABASE_URL") or (
        f"sqlite:///{instance_path / 'conduct.db'}"
    )
    settings = Settings(
        env=env,
        instance_path=instance_path,
        database_url=normalise_database_url(database_url),
        secret_key=secret or "",
        key_dir=Path(values.get("CONDUCT_KEY_DIR") or instance_path / "keys").resolve(),
        kek=values.get("CONDUCT_KEK") or None,
        redis_url=values.get("CONDUCT_REDIS_URL") or None,
        suppression_threshold=_as_int(
            "CONDUCT_SUPPRESSION_THRESHOLD", values.get("CONDUCT_SUPPRESSION_THRESHOLD", 5)
        ),
        audit_seal_seconds=_as_int(
            "CONDUCT_AUDIT_SEAL_SECONDS", values.get("CONDUCT_AUDIT_SEAL_SECONDS", 30)
        ),
        allow_sqlite_in_production=_as_bool(values.get("CONDUCT_ALLOW_SQLITE", False)),
        secret_key_generated=generated,
        session_idle_minutes=_as_int(
            "CONDUCT_SESSION_IDLE_MINUTES", values.get("CONDUCT_SESSION_IDLE_MINUTES", 30)
        ),
        session_max_hours=_as_int(
            "CONDUCT_SESSION_MAX_HOURS", values.get("CONDUCT_SESSION_MAX_HOURS", 12)
        ),
        lockout_attempts=_as_int(
            "CONDUCT_LOCKOUT_ATTEMPTS", values.get("CONDUCT_LOCKOUT_ATTEMPTS", 5)
        ),
        lockout_minutes=_as_int(
            "CONDUCT_LOCKOUT_MINUTES", values.get("CONDUCT_LOCKOUT_MINUTES", 15)
        ),
        login_rate_limit=str(values.get("CONDUCT_LOGIN_RATE_LIMIT", "20 per 5 minutes")),
        deadline_referral_days=_as_int(
            "CONDUCT_DEADLINE_REFERRAL_DAYS", values.get("CONDUCT_DEADLINE_REFERRAL_DAYS", 7)
        ),
        deadline_finding_days=_as_int(
            "CONDUCT_DEADLINE_FINDING_DAYS", values.get("CONDUCT_DEADLINE_FINDING_DAYS", 90)
        ),
        deadline_member_state_working_days=_as_int(
            "CONDUCT_DEADLINE_MEMBER_STATE_WORKING_DAYS",
            values.get("CONDUCT_DEADLINE_MEMBER_STATE_WORKING_DAYS", 10),
        ),
        attachment_dir=Path(
            values.get("CONDUCT_ATTACHMENT_DIR") or instance_path / "attachments"
        ).resolve(),
        attachment_max_bytes=_as_int(
            "CONDUCT_ATTACHMENT_MAX_BYTES",
            values.get("CONDUCT_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024),
        ),
        **_audit_flag_settings(values),
        audit_origin=values.get("CONDUCT_AUDIT_ORIGIN") or None,
        retention_years=_as_optional_int(
            "CONDUCT_RETENTION_YEARS", values.get("CONDUCT_RETENTION_YEARS")
        ),
        retention_substantiated_years=_as_optional_int(
            "CONDUCT_RETENTION_SUBSTANTIATED_YEARS",
            values.get("CONDUCT_RETENTION_SUBSTANTIATED_YEARS"),
        ),
    )
    check_settings(settings)
    return settings


def _audit_flag_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Thresholds of the auditor workspace's unusual-access flags."""
    numbers = {
        "audit_flag_cases": ("CONDUCT_AUDIT_FLAG_CASES", 20),
        "audit_flag_window_minutes": ("CONDUCT_AUDIT_FLAG_WINDOW_MINUTES", 10),
        "audit_flag_denials": ("CONDUCT_AUDIT_FLAG_DENIALS", 1),
        "audit_flag_days": ("CONDUCT_AUDIT_FLAG_DAYS", 7),
    }
    texts = {
        "audit_working_hours": ("CONDUCT_AUDIT_WORKING_HOURS", "07:00-19:00"),
        "audit_working_days": ("CONDUCT_AUDIT_WORKING_DAYS", "mon,tue,wed,thu,fri"),
        "audit_timezone": ("CONDUCT_AUDIT_TIMEZONE", "UTC"),
    }
    found: dict[str, Any] = {
        key: _as_int(name, values.get(name, default)) for key, (name, default) in numbers.items()
    }
    found.update({key: str(values.get(name, default)) for key, (name, default) in texts.items()})
    return found


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def working_hours(text: str) -> tuple[time, time]:
    """``"07:00-19:00"`` as (start, end) local times; the end is not a working minute."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ConfigurationError(
            f"CONDUCT_AUDIT_WORKING_HOURS must look like 07:00-19:00, got {text!r}"
        ) from None
    if not start < end:
        raise ConfigurationError("CONDUCT_AUDIT_WORKING_HOURS must start before it ends")
    return start, end


def working_days(text: str) -> frozenset[int]:
    """``"mon,tue,wed,thu,fri"`` as weekday numbers (Monday is 0)."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names or any(name not in WEEKDAYS for name in names):
        raise ConfigurationError(
            "CONDUCT_AUDIT_WORKING_DAYS must list days as mon,tue,wed,thu,fri,sat,sun"
        )
    return frozenset(WEEKDAYS.index(name) for name in names)


def audit_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"CONDUCT_AUDIT_TIMEZONE must be a time zone name such as UTC or Africa/Bangui, "
            f"got {name!r}"
        ) from None


def _check_audit_flag_settings(settings: Settings) -> None:
    working_hours(settings.audit_working_hours)
    working_days(settings.audit_working_days)
    audit_timezone(settings.audit_timezone)
    if settings.audit_flag_cases < 2:
        raise ConfigurationError("CONDUCT_AUDIT_FLAG_CASES must be at least 2")


def _check_retention_settings(settings: Settings) -> None:
    years, substantiated = settings.retention_years, settings.retention_substantiated_years
    for name, value in (
        ("CONDUCT_RETENTION_YEARS", years),
        ("CONDUCT_RETENTION_SUBSTANTIATED_YEARS", substantiated),
    ):
        if value is not None and not 1 <= value <= 100:
            raise ConfigurationError(f"{name} must be a number of years from 1 to 100")
    if substantiated is None:
        return
    if years is None:
        raise ConfigurationError(
            "CONDUCT_RETENTION_SUBSTANTIATED_YEARS needs CONDUCT_RETENTION_YEARS: set both, "
            "or neither"
        )
    if substantiated < years:
        raise ConfigurationError(
            "CONDUCT_RETENTION_SUBSTANTIATED_YEARS must be at least CONDUCT_RETENTION_YEARS: "
            "a case with a substantiated finding is kept at least as long as any other"
        )


def check_settings(settings: Settings) -> None:
    """Refuse unsafe settings. Production is strict; every environment gets sane numbers."""
    if settings.suppression_threshold < 2:
        raise ConfigurationError("CONDUCT_SUPPRESSION_THRESHOLD must be at least 2")
    if settings.audit_seal_seconds < 1:
        raise ConfigurationError("CONDUCT_AUDIT_SEAL_SECONDS must be at least 1")
    for name, value in (
        ("CONDUCT_SESSION_IDLE_MINUTES", settings.session_idle_minutes),
        ("CONDUCT_SESSION_MAX_HOURS", settings.session_max_hours),
        ("CONDUCT_LOCKOUT_ATTEMPTS", settings.lockout_attempts),
        ("CONDUCT_LOCKOUT_MINUTES", settings.lockout_minutes),
        ("CONDUCT_DEADLINE_REFERRAL_DAYS", settings.deadline_referral_days),
        ("CONDUCT_DEADLINE_FINDING_DAYS", settings.deadline_finding_days),
        ("CONDUCT_DEADLINE_MEMBER_STATE_WORKING_DAYS", settings.deadline_member_state_working_days),
        ("CONDUCT_ATTACHMENT_MAX_BYTES", settings.attachment_max_bytes),
        ("CONDUCT_AUDIT_FLAG_WINDOW_MINUTES", settings.audit_flag_window_minutes),
        ("CONDUCT_AUDIT_FLAG_DENIALS", settings.audit_flag_denials),
        ("CONDUCT_AUDIT_FLAG_DAYS", settings.audit_flag_days),
    ):
        if value < 1:
            raise ConfigurationError(f"{name} must be at least 1")
    _check_audit_flag_settings(settings)
    _check_retention_settings(settings)
    if settings.audit_origin is not None and not _AUDIT_ORIGIN.match(settings.audit_origin):
        raise ConfigurationError(
            "CONDUCT_AUDIT_ORIGIN must be printable ASCII without spaces or '+', such as "
            "conduct.example.org/audit"
        )
    if not settings.is_production:
        return
    secret = settings.secret_key
    if secret.strip().lower() in _WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            "CONDUCT_SECRET_KEY is missing or weak: set it to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters, for example from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    dev_secret = settings.instance_path / "secret_key"
    if dev_secret.exists() and dev_secret.read_text().strip() == secret:
        raise ConfigurationError(
            "CONDUCT_SECRET_KEY is the development secret from instance/secret_key: "
            "generate a new one for production"
        )
    if settings.uses_sqlite and not settings.allow_sqlite_in_production:
        raise ConfigurationError(
            "production needs PostgreSQL: set CONDUCT_DATABASE_URL=postgresql://..., or set "
            "CONDUCT_ALLOW_SQLITE=1 to accept a single-server SQLite deployment"
        )
