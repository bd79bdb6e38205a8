"""Signing audit checkpoints with the audit-signing key (Ed25519), and checking signatures.

The audit log's sealer hands a checkpoint body here and gets a raw Ed25519 signature back; it
never sees the private key. The public key is given out raw (for signed notes) and as PEM (for
``openssl pkeyutl -verify``).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .keys import Keyring


def _keyring(keyring: Keyring | None) -> Keyring:
    if keyring is not None:
        return keyring
    from flask import current_app

    return current_app.extensions["conduct_keyring"]


def sign_checkpoint(body: bytes, keyring: Keyring | None = None) -> bytes:
    """The Ed25519 signature (64 bytes) of a checkpoint body by the audit-signing key."""
    return _keyring(keyring).audit_signing.sign(body)


def audit_public_key(keyring: Keyring | None = None) -> bytes:
    """The audit-signing public key, 32 raw bytes."""
    return _keyring(keyring).audit_signing.public_key().public_bytes_raw()


def audit_public_key_pem(keyring: Keyring | None = None) -> bytes:
    """The audit-signing public key as a PEM SubjectPublicKeyInfo (what openssl reads)."""
    public_key = _keyring(keyring).audit_signing.public_key()
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def is_valid_checkpoint_signature(public_key: bytes, body: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``body`` by ``public_key`` (raw)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, body)
    except (InvalidSignature, ValueError):
        return False
    return True
