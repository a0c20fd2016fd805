"""One-time links that let a staff member choose a password: invitations and resets.

A link carries 256 random bits; only their SHA-256 is stored, so a copy of the database opens
no account. A link works once, until it expires, and only while the account's password and
address are the ones it had when the link was made: setting any password ends every link, and
so does a new address (the link went to the old one, perhaps a mistyped stranger's).
Deactivating the account ends them too (`end_all`), so reactivating it wakes no old link. A
new link for the same purpose replaces the older ones.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from support.desk.models import StaffToken, User

PURPOSE_INVITE = "invite"
PURPOSE_RESET = "reset"
PURPOSES = (PURPOSE_INVITE, PURPOSE_RESET)
#: Longer input is no token of ours: refused before hashing.
MAX_TOKEN_CHARS = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def password_stamp(user: User) -> str:
    """Changes whenever the user's password does (a new salt makes a new hash every time) and
    whenever their address does."""
    material = f"{(user.email or '').strip().lower()}\n{user.password_hash or ''}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def unusable_password() -> str:
    """The password hash of an invited account: no password verifies against it (it is no
    argon2 hash), and each invitation's differs, so its stamp is the account's own."""
    return "!invited:" + secrets.token_hex(16)


def issue(session: Session, user: User, purpose: str, *, lifetime: timedelta, now: datetime) -> str:
    """A new link token for ``user`` (the caller commits); older ones of the purpose end."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    session.execute(
        delete(StaffToken).where(StaffToken.user_id == user.id, StaffToken.purpose == purpose)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        StaffToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token),
            password_stamp=password_stamp(user),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def valid_token(session: Session, token: str, now: datetime) -> StaffToken | None:
    """The unused, unexpired token of an active account whose password has not changed."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    found = session.scalar(select(StaffToken).where(StaffToken.token_hash == _hash(token)))
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    user = found.user
    if not user.is_active or not secrets.compare_digest(found.password_stamp, password_stamp(user)):
        return None
    return found


def end_all(session: Session, user: User) -> None:
    """Every link of ``user`` ends (the account is deactivated)."""
    session.execute(delete(StaffToken).where(StaffToken.user_id == user.id))


def use(session: Session, found: StaffToken, now: datetime) -> bool:
    """Spend the token; the user's other links end with the password they now choose. False
    when another request spent it since ``valid_token`` read it (PostgreSQL runs two at once):
    one conditional UPDATE decides, so a link sets one password, once."""
    spent = session.execute(
        update(StaffToken)
        .where(StaffToken.id == found.id, StaffToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return False
    found.used_at = now
    session.execute(
        delete(StaffToken).where(StaffToken.user_id == found.user_id, StaffToken.id != found.id)
    )
    return True
