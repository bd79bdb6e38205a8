"""Keys: the key-encryption key (KEK) providers, wrapped keys and the deployment keyring.

The KEK never enters the database. It comes from a provider: key files in a directory (the
development default, made by ``conduct keys init``) or an environment variable; a KMS, Vault or
PKCS#11 HSM can serve it by implementing :class:`KekProvider`.

Every other key is stored wrapped by the KEK: one data key per case (in the database), and the
four deployment keys (statistics, blind index, audit signing, accounts: second-factor
secrets), each in its own file of the key
directory. A wrapped key is ``b"K1" | KEK version (4 bytes) | key id (16) | nonce (12) |
ciphertext and tag``, with associated data naming the key's purpose and id, so a wrapped key
cannot be swapped for another one.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .blind import BlindIndexer
from .envelope import SealingKey
from .errors import KeyFormatError, MissingKeyError, WrongKeyError

WRAP_FORMAT = b"K1"
_WRAP_HEADER = 2 + 4 + 16 + 12

STATISTICS = "statistics"
BLIND_INDEX = "blind-index"
AUDIT_SIGNING = "audit-signing"
ACCOUNTS = "accounts"
DEPLOYMENT_KEYS = (STATISTICS, BLIND_INDEX, AUDIT_SIGNING, ACCOUNTS)


@dataclass(frozen=True)
class Kek:
    """One version of the key-encryption key."""

    version: int
    _aead: AESGCM = field(repr=False)


class KekProvider(Protocol):
    """Where KEKs come from. ``current`` wraps new keys; ``get`` opens old ones."""

    def current(self) -> Kek: ...

    def get(self, version: int) -> Kek: ...

    def versions(self) -> list[int]: ...


def _kek_from_text(version: int, text: str, where: str) -> Kek:
    try:
        material = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"{where} is not base64") from None
    if len(material) != 32:
        raise KeyFormatError(f"{where} must hold a 32-byte key")
    return Kek(version, AESGCM(material))


class _MappingKekProvider:
    def __init__(self, keks: Mapping[int, Kek], where: str):
        if not keks:
            raise MissingKeyError(
                f"no key-encryption key in {where}: run `conduct keys init` in development, "
                "or provide the KEK as docs/operations.md describes"
            )
        self._keks = dict(keks)
        self.where = where

    def current(self) -> Kek:
        return self._keks[max(self._keks)]

    def get(self, version: int) -> Kek:
        try:
            return self._keks[version]
        except KeyError:
            raise MissingKeyError(
                f"KEK version {version} is needed but not in {self.where}"
            ) from None

    def versions(self) -> list[int]:
        return sorted(self._keks)


def kek_file_name(version: int) -> str:
    return f"kek-{version:04d}.key"


class FileKekProvider(_MappingKekProvider):
    """KEKs from ``kek-NNNN.key`` files (base64, mode 0600) in the key directory."""

    def __init__(self, key_dir: Path):
        self.key_dir = Path(key_dir)
        super().__init__(self._read_files(), str(key_dir))

    def _read_files(self) -> dict[int, Kek]:
        keks = {}
        for path in sorted(self.key_dir.glob("kek-*.key")):
            version = int(path.stem.split("-", 1)[1])
            check_private_file(path)
            keks[version] = _kek_from_text(version, path.read_text(), str(path))
        return keks

    def get(self, version: int) -> Kek:
        if version not in self._keks:
            # A KEK added by `conduct keys rotate --new-kek` after this process started: a
            # running server still opens the keys that the rotation wraps with it.
            self._keks.update(self._read_files())
        return super().get(version)


class EnvironmentKekProvider(_MappingKekProvider):
    """KEKs from ``CONDUCT_KEK``: ``VERSION:BASE64`` entries separated by commas."""

    def __init__(self, value: str):
        keks = {}
        for entry in filter(None, (part.strip() for part in value.split(","))):
            version_text, _, material = entry.partition(":")
            if not version_text.isdigit() or not material:
                raise KeyFormatError("CONDUCT_KEK must read VERSION:BASE64[,VERSION:BASE64]")
            keks[int(version_text)] = _kek_from_text(int(version_text), material, "CONDUCT_KEK")
        super().__init__(keks, "CONDUCT_KEK")


def check_private_file(path: Path) -> None:
    """Refuse key files that other accounts can read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise WrongKeyError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")


def _wrap_aad(purpose: str, key_id: uuid.UUID) -> bytes:
    return b"conduct-key/v1\x00" + purpose.encode() + b"\x00" + key_id.bytes


def wrap_key(kek: Kek, purpose: str, key_id: uuid.UUID, material: bytes) -> bytes:
    """Encrypt ``material`` under ``kek`` for ``purpose``; the result names the KEK version."""
    nonce = os.urandom(12)
    header = WRAP_FORMAT + struct.pack(">I", kek.version) + key_id.bytes + nonce
    return header + kek._aead.encrypt(nonce, material, _wrap_aad(purpose, key_id))


def wrapped_kek_version(wrapped: bytes) -> int:
    if len(wrapped) < _WRAP_HEADER + 16 or wrapped[:2] != WRAP_FORMAT:
        raise KeyFormatError("not a wrapped key of a known format")
    return struct.unpack(">I", wrapped[2:6])[0]


def wrapped_key_id(wrapped: bytes) -> uuid.UUID:
    wrapped_kek_version(wrapped)
    return uuid.UUID(bytes=bytes(wrapped[6:22]))


def unwrap_key(provider: KekProvider, purpose: str, wrapped: bytes) -> tuple[uuid.UUID, bytes]:
    """Open a wrapped key with the KEK version it names; WrongKeyError if it does not open."""
    version = wrapped_kek_version(wrapped)
    key_id = wrapped_key_id(wrapped)
    kek = provider.get(version)
    try:
        material = kek._aead.decrypt(
            wrapped[22:_WRAP_HEADER], wrapped[_WRAP_HEADER:], _wrap_aad(purpose, key_id)
        )
    except InvalidTag:
        raise WrongKeyError(
            f"KEK version {version} does not open the {purpose} key: wrong KEK, or the key "
            "was altered; restore the key directory that belongs to this database"
        ) from None
    return key_id, material


def rewrap_key(provider: KekProvider, purpose: str, wrapped: bytes) -> bytes:
    """Wrap an existing key again under the current KEK, keeping its id."""
    key_id, material = unwrap_key(provider, purpose, wrapped)
    return wrap_key(provider.current(), purpose, key_id, material)


def new_wrapped_key(provider: KekProvider, purpose: str) -> tuple[uuid.UUID, bytes, bytes]:
    """A fresh random 256-bit key: (key id, plaintext material, wrapped)."""
    key_id = uuid.uuid4()
    material = AESGCM.generate_key(bit_length=256)
    return key_id, material, wrap_key(provider.current(), purpose, key_id, material)


def deployment_key_path(key_dir: Path, purpose: str) -> Path:
    return Path(key_dir) / f"{purpose}.key"


def write_private(path: Path, data: bytes) -> None:
    """Write a key file readable by its owner only, atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _read_wrapped(path: Path) -> bytes:
    if not path.exists():
        raise MissingKeyError(
            f"{path} is missing: run `conduct keys init` in development, or restore the key "
            "directory from its backup"
        )
    check_private_file(path)
    try:
        return base64.b64decode(path.read_text().strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"{path} is not a wrapped key") from None


@dataclass(frozen=True)
class Keyring:
    """The deployment keys, unwrapped once at start-up, and the KEK provider.

    Case data keys are not here: they are unwrapped per unit of work by a Vault and forgotten
    at its end.
    """

    provider: KekProvider = field(repr=False)
    statistics: SealingKey = field(repr=False)
    blind_index: BlindIndexer = field(repr=False)
    audit_signing: Ed25519PrivateKey = field(repr=False)
    accounts: SealingKey = field(repr=False)

    @classmethod
    def load(cls, provider: KekProvider, key_dir: Path) -> Keyring:
        """Open every deployment key; raise MissingKeyError or WrongKeyError on any problem."""
        opened = {}
        for purpose in DEPLOYMENT_KEYS:
            wrapped = _read_wrapped(deployment_key_path(key_dir, purpose))
            opened[purpose] = unwrap_key(provider, purpose, wrapped)
        stats_id, stats_material = opened[STATISTICS]
        return cls(
            provider=provider,
            statistics=SealingKey.from_bytes(stats_id, stats_material),
            blind_index=BlindIndexer(opened[BLIND_INDEX][1]),
            audit_signing=Ed25519PrivateKey.from_private_bytes(opened[AUDIT_SIGNING][1]),
            accounts=SealingKey.from_bytes(*opened[ACCOUNTS]),
        )


def init_key_dir(key_dir: Path, provider_factory=FileKekProvider) -> list[str]:
    """Create whatever keys are missing in ``key_dir``; return the names of files created.

    Never overwrites an existing key: losing a key loses data.
    """
    key_dir = Path(key_dir)
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    created = []
    if not list(key_dir.glob("kek-*.key")):
        created.append(_write_new_kek(key_dir, 1))
    provider = provider_factory(key_dir)
    for purpose in DEPLOYMENT_KEYS:
        path = deployment_key_path(key_dir, purpose)
        if path.exists():
            continue
        key_id = uuid.uuid4()
        if purpose == AUDIT_SIGNING:
            material = Ed25519PrivateKey.generate().private_bytes_raw()
        else:
            material = AESGCM.generate_key(bit_length=256)
        wrapped = wrap_key(provider.current(), purpose, key_id, material)
        write_private(path, base64.b64encode(wrapped) + b"\n")
        created.append(path.name)
    return created


def _write_new_kek(key_dir: Path, version: int) -> str:
    name = kek_file_name(version)
    material = base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n"
    write_private(key_dir / name, material)
    return name


def add_kek(key_dir: Path) -> int:
    """Create the next KEK version in the key directory; it becomes the current KEK."""
    key_dir = Path(key_dir)
    version = max(FileKekProvider(key_dir).versions()) + 1
    _write_new_kek(key_dir, version)
    return version


def rewrap_deployment_keys(key_dir: Path, provider: KekProvider) -> list[str]:
    """Rewrap under the current KEK every deployment key file not yet under it; return the
    purposes rewrapped (none when run again: the rotation can be resumed)."""
    current = provider.current().version
    rewrapped_purposes = []
    for purpose in DEPLOYMENT_KEYS:
        path = deployment_key_path(key_dir, purpose)
        wrapped = _read_wrapped(path)
        if wrapped_kek_version(wrapped) == current:
            continue
        rewrapped = rewrap_key(provider, purpose, wrapped)
        write_private(path, base64.b64encode(rewrapped) + b"\n")
        rewrapped_purposes.append(purpose)
    return rewrapped_purposes


def deployment_key_status(key_dir: Path, provider: KekProvider) -> dict[str, int]:
    """KEK version of each deployment key file (raises if any is missing or unreadable)."""
    return {
        purpose: wrapped_kek_version(_read_wrapped(deployment_key_path(key_dir, purpose)))
        for purpose in DEPLOYMENT_KEYS
    }


def kek_provider(key_dir: Path, kek_value: str | None = None) -> KekProvider:
    """The KEK from ``CONDUCT_KEK`` when set, else from the key directory's files."""
    return EnvironmentKekProvider(kek_value) if kek_value else FileKekProvider(key_dir)


def load_keyring(key_dir: Path, kek_value: str | None = None) -> Keyring:
    """Open the deployment keys at start-up; any problem raises a CryptoError that says why."""
    key_dir = Path(key_dir)
    if not key_dir.is_dir():
        raise MissingKeyError(
            f"the key directory {key_dir} does not exist: run `conduct keys init` in "
            "development, or set CONDUCT_KEY_DIR to the directory restored from backup"
        )
    return Keyring.load(kek_provider(key_dir, kek_value), key_dir)
