"""Password hashing with argon2id (argon2-cffi): the only place passwords are touched."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def is_password_hash(password_hash: str | None) -> bool:
    """Whether a password can verify against ``password_hash`` (an invited account's has none:
    support.desk.staff_tokens.unusable_password)."""
    return (password_hash or "").startswith("$argon2")


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
