"""Password hashing (argon2id) and the password policy.

Hashes use the RFC 9106 "low memory" profile (argon2id, t=3, m=64 MiB, p=4), which also meets
the OWASP recommendation; a stored hash made with other parameters is replaced at the next
successful login. The policy: at least 12 characters, not the email, not a common password
(zxcvbn's bundled frequency lists), and a zxcvbn score of at least 3.
"""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from conduct.core.i18n import DEFAULT_LANGUAGE, current_language

MIN_LENGTH = 12
MIN_SCORE = 3
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])

PRODUCTION_HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Tests only: the same algorithm with tiny costs, so hundreds of logins run in seconds.
TESTING_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class PasswordPolicyError(ValueError):
    """The password is refused; the message says why and is safe to show."""


def hasher_for(env: str) -> PasswordHasher:
    return TESTING_HASHER if env == "testing" else PRODUCTION_HASHER


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored: str | None, password: str) -> bool:
    """Check a password in constant time per hash; a missing hash costs the same as a real one."""
    try:
        return hasher.verify(stored or _dummy_hash(hasher), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


_DUMMIES: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of nothing anyone types, made with the same costs, for unknown accounts."""
    key = id(hasher)
    if key not in _DUMMIES:
        _DUMMIES[key] = hasher.hash("no account has this password: timing equaliser")
    return _DUMMIES[key]


def needs_rehash(hasher: PasswordHasher, stored: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def check_password_policy(password: str, email: str = "", display_name: str = "") -> None:
    """Raise PasswordPolicyError with a readable reason when ``password`` is not acceptable."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(gettext("use at least %(count)d characters", count=MIN_LENGTH))
    lowered = password.lower()
    local_part = email.lower().split("@", 1)[0]
    if lowered == email.lower() or (len(local_part) >= 4 and local_part in lowered):
        raise PasswordPolicyError(gettext("do not use your email address in your password"))
    if lowered in _COMMON:
        raise PasswordPolicyError(
            gettext("this is one of the most common passwords; choose another")
        )
    result = zxcvbn(password[:100], user_inputs=[email, local_part, display_name, "conduct"])
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "add more unusual words"
        if current_language() != DEFAULT_LANGUAGE:
            # zxcvbn's warnings are English only: other languages get the general advice.
            hint = gettext("add more unusual words")
        raise PasswordPolicyError(gettext("too easy to guess: %(hint)s", hint=hint).rstrip("."))
