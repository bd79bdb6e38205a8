"""Errors of the crypto layer. None of them ever carries key material or plaintext."""


class CryptoError(Exception):
    """Base class: something about keys or sealed values is wrong."""


class MissingKeyError(CryptoError):
    """A key the service needs is not where the configuration says it is."""


class WrongKeyError(CryptoError):
    """A key exists but does not open what it should: the wrong key directory or KEK."""


class IntegrityError(CryptoError):
    """A sealed value failed authentication: altered, or moved to another cell."""


class ShreddedError(CryptoError):
    """The case's data key was destroyed; its identifying fields can never be read again."""


class NoVaultError(CryptoError):
    """Sealed fields were touched outside a unit of work that holds the keys."""


class KeyFormatError(CryptoError):
    """A key file or wrapped key is not in a format this version understands."""
