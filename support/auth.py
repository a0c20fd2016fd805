"""Staff accounts on the web: sign-in with lockout, role checks on views, API tokens.

Who may see which ticket is decided in `support.desk.access`; a ticket of another department is
a 404 everywhere (`visible_ticket_or_404`), never a 403 that would confirm it exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import InputRequired, Length

from support.core.db import db_session, utcnow
from support.core.passwords import hash_password, needs_rehash, verify_password
from support.desk.access import can_see_ticket, has_role
from support.desk.models import AuditEvent, Ticket, User

log = logging.getLogger(__name__)

SESSION_USER_KEY = "staff_user_id"
SESSION_STAMP_KEY = "staff_auth_stamp"
API_TOKEN_PREFIX = "sup_"
_UNKNOWN_TRACKED = 10_000

F = TypeVar("F", bound=Callable[..., Any])
#: Sign-in and sign-out under /staff.
bp = Blueprint("auth", __name__, url_prefix="/staff")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=500)])
    submit = SubmitField(_l("Sign in"))


class LogoutForm(FlaskForm):
    """Signing out is a POST with the CSRF token."""


# --- who is signed in --------------------------------------------------------------------------


def _auth_stamp(user: User) -> str:
    """Changes when the password changes, which signs out every other session of the user."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:20]


def current_user() -> User | None:
    """The signed-in, active staff member of this request (pages) or API token (API)."""
    if "staff_user" in g:
        return g.staff_user
    user = None
    user_id = session.get(SESSION_USER_KEY)
    if isinstance(user_id, int):
        found = db_session().get(User, user_id)
        if (
            found is not None
            and found.is_active
            and hmac.compare_digest(session.get(SESSION_STAMP_KEY, ""), _auth_stamp(found))
        ):
            user = found
    g.staff_user = user
    return user


def sign_in(user: User) -> None:
    session.clear()  # a fresh session: nothing an attacker planted before login survives
    session[SESSION_USER_KEY] = user.id
    session[SESSION_STAMP_KEY] = _auth_stamp(user)
    g.staff_user = user


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def role_required(*roles: str) -> Callable[[F], F]:
    """Sign-in plus one of `roles` (admins always pass); others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not has_role(current_user(), *roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def visible_ticket_or_404(session: Session, user: User, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if not can_see_ticket(user, ticket):
        abort(404)
    assert ticket is not None
    return ticket


# --- signing in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    locked_until: datetime | None = None


class _UnknownAddressFailures:
    """Failed sign-ins for addresses without an (active) account, counted like real ones.

    Locking unknown addresses too means the lockout message cannot reveal which addresses
    have accounts. Kept in memory (bounded): it only needs to be as good as the real counter.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()

    def locked_until(self, key: str, now: datetime) -> datetime | None:
        with self._lock:
            _count, until = self._entries.get(key, (0, None))
            return until if until and until > now else None

    def record_failure(self, key: str, now: datetime, limit: int, minutes: int) -> datetime | None:
        with self._lock:
            count, until = self._entries.pop(key, (0, None))
            if until and until <= now:
                count = 0
            count += 1
            locked = now + timedelta(minutes=minutes) if count >= limit else None
            self._entries[key] = (0 if locked else count, locked)
            while len(self._entries) > _UNKNOWN_TRACKED:
                self._entries.popitem(last=False)
            return locked


@cache
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so both answers take the same time."""
    return hash_password(secrets.token_urlsafe(16))


def _unknown_failures() -> _UnknownAddressFailures:
    return current_app.extensions.setdefault(
        "staff_unknown_login_failures", _UnknownAddressFailures()
    )


def authenticate(
    session: Session, email: str, password: str, config: Mapping[str, Any], now: datetime
) -> LoginOutcome:
    """Check a sign-in; counts failures and locks the address after LOGIN_MAX_FAILURES."""
    email = (email or "").strip().lower()
    limit = max(1, int(config["LOGIN_MAX_FAILURES"]))
    minutes = int(config["LOGIN_LOCKOUT_MINUTES"])
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.is_active:
        tracker = _unknown_failures()
        if until := tracker.locked_until(email, now):
            return LoginOutcome(None, until)
        verify_password(_dummy_hash(), password)
        return LoginOutcome(None, tracker.record_failure(email, now, limit, minutes))
    if user.locked_until and user.locked_until > now:
        return LoginOutcome(None, user.locked_until)
    if not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= limit:
            user.locked_until = now + timedelta(minutes=minutes)
            user.failed_logins = 0
            session.add(
                AuditEvent(
                    actor_label="system",
                    action="user.locked",
                    subject_type="user",
                    subject_id=user.id,
                    data={"until": user.locked_until.isoformat(), "failures": limit},
                )
            )
            log.warning("account %s locked after %d failed sign-ins", user.id, limit)
            return LoginOutcome(None, user.locked_until)
        return LoginOutcome(None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(
        AuditEvent(
            actor_id=user.id,
            actor_label="staff",
            action="user.login",
            subject_type="user",
            subject_id=user.id,
        )
    )
    return LoginOutcome(user)


def _safe_next(target: str | None) -> str | None:
    """Only local paths: a login link must not bounce the user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user() is not None and request.method == "GET":
        return redirect(url_for("staff.inbox"))
    if form.validate_on_submit():
        database = db_session()
        outcome = authenticate(
            database, form.email.data or "", form.password.data or "", current_app.config, utcnow()
        )
        if outcome.user is not None:
            sign_in(outcome.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("staff.inbox"))
        if outcome.locked_until is not None:
            minutes = max(1, int((outcome.locked_until - utcnow()).total_seconds() // 60) + 1)
            flash(
                _(
                    "Too many failed sign-ins for this address. Sign-in is blocked for "
                    "%(minutes)s more minutes; try again later or ask an administrator.",
                    minutes=minutes,
                ),
                "error",
            )
        else:
            flash(_("Wrong email address or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        session.clear()
        g.pop("staff_user", None)
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


# --- API tokens --------------------------------------------------------------------------------


def hash_api_token(token: str) -> str:
    """Tokens are 256 random bits, so a fast hash is enough and allows an indexed lookup."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(
    session: Session, user: User, *, actor: User | None = None, actor_label: str = "staff"
) -> str:
    """A new token for `user` (the old one stops working); shown once, stored hashed."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    user.api_token_hash = hash_api_token(token)
    session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            actor_label=actor_label,
            action="user.api_token_issued",
            subject_type="user",
            subject_id=user.id,
        )
    )
    return token


def user_for_api_token(session: Session, token: str) -> User | None:
    if not token or not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        return None
    user = session.scalar(select(User).where(User.api_token_hash == hash_api_token(token)))
    return user if user is not None and user.is_active else None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
