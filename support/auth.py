"""Staff accounts on the web: sign-in with throttling, role checks on views, API tokens.

A session ends on sign-out (everywhere: the user's session generation moves on), on a password
change, on deactivation and after STAFF_SESSION_IDLE_MINUTES without a request.

Who may see which ticket is decided in `support.desk.access`; a ticket of another department is
a 404 everywhere (`visible_ticket_or_404`), never a 403 that would confirm it exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    Response,
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
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import InputRequired, Length

from support.core import rate_limits, web
from support.core.db import READ_METHODS, db_session, get_db, utcnow
from support.core.passwords import hash_password, is_password_hash, needs_rehash, verify_password
from support.desk.access import can_see_ticket, has_role
from support.desk.models import AuditEvent, Ticket, User

log = logging.getLogger(__name__)

SESSION_USER_KEY = "staff_user_id"
SESSION_STAMP_KEY = "staff_auth_stamp"
SESSION_SEEN_KEY = "staff_seen"
API_TOKEN_PREFIX = "sup_"
#: The "last seen" time in the session is refreshed at most this often (fewer new cookies).
_SEEN_REFRESH_SECONDS = 60

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
    """Changes with the password and with the user's session generation: either change signs
    out every session holding the old stamp (sign-out, password change)."""
    material = f"{user.session_generation or 0}:{user.password_hash}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:20]


def revoke_sessions(user: User) -> None:
    """End every session of `user` (server-side: the signed cookies stay valid otherwise)."""
    user.session_generation = (user.session_generation or 0) + 1


def set_password(user: User, password: str) -> None:
    """A new password ends every session and the API token: whoever held a stolen session
    could have made a token, which would outlive the change otherwise."""
    user.password_hash = hash_password(password)
    user.api_token_hash = None
    revoke_sessions(user)


def _idle_limit_seconds() -> int:
    return max(1, int(current_app.config["STAFF_SESSION_IDLE_MINUTES"])) * 60


def current_user() -> User | None:
    """The signed-in, active staff member of this request (pages) or API token (API)."""
    if "staff_user" in g:
        return g.staff_user
    user = None
    user_id = session.get(SESSION_USER_KEY)
    if isinstance(user_id, int):
        now = int(time.time())
        value = session.get(SESSION_SEEN_KEY)
        seen = value if isinstance(value, int) else -1
        fresh = 0 <= now - seen <= _idle_limit_seconds()
        found = db_session().get(User, user_id) if fresh else None
        if (
            found is not None
            and found.is_active
            and hmac.compare_digest(session.get(SESSION_STAMP_KEY, ""), _auth_stamp(found))
        ):
            user = found
            if now - seen >= _SEEN_REFRESH_SECONDS:
                session[SESSION_SEEN_KEY] = now
        else:
            session.clear()  # idle, revoked or deactivated: the cookie is worth nothing now
    g.staff_user = user
    return user


def signed_in_user() -> User:
    """The staff member of a view behind ``login_required`` (or ``role_required``): never
    None there, which the type says once instead of every view module asserting it."""
    user = current_user()
    assert user is not None, "views are behind login_required"
    return user


def sign_in(user: User) -> None:
    session.clear()  # a fresh session: nothing an attacker planted before login survives
    session[SESSION_USER_KEY] = user.id
    session[SESSION_STAMP_KEY] = _auth_stamp(user)
    session[SESSION_SEEN_KEY] = int(time.time())
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
    #: Set when sign-ins are throttled: no attempt is checked before this moment.
    retry_at: datetime | None = None


@cache
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so both answers take the same time.

    Made on a process's first sign-in attempt, whichever address it names (``authenticate``
    asks for it before looking the address up): made only for an unknown one, that first
    attempt hashed twice and told the address had no account.
    """
    return hash_password(secrets.token_urlsafe(16))


def _account_key(email: str) -> str:
    return rate_limits.limit_key("login-account", (email or "").strip().lower())


def forget_login_failures(session: Session, email: str) -> None:
    """An administrator set a new password: the account's failed sign-ins no longer count."""
    rate_limits.forget(session, _account_key(email))


def authenticate(
    session: Session,
    email: str,
    password: str,
    config: Mapping[str, Any],
    now: datetime,
    *,
    remote_addr: str | None = None,
    signing_in: bool = True,
) -> LoginOutcome:
    """Check a sign-in, throttled per IP address and per account (never a hard lock).

    ``signing_in`` False: a signed-in user confirming their password (the account page), which
    counts towards the same limits (a stolen session must not be a free password oracle) but
    is no sign-in to record.

    Unknown addresses are throttled exactly like accounts, so the answer cannot reveal which
    addresses have one. An attacker's failures slow down their own address; the account itself
    slows down only after LOGIN_ACCOUNT_MAX_FAILURES failures from anywhere, so its owner,
    from another address, still signs in. The counts are shared by every web process and
    host (``support.core.rate_limits``).
    """
    email = (email or "").strip().lower()
    ip_key = rate_limits.limit_key("login-ip", rate_limits.client_network(remote_addr or "unknown"))
    account_key = _account_key(email)
    waits = [
        t
        for t in (
            rate_limits.blocked_until(session, ip_key, now),
            rate_limits.blocked_until(session, account_key, now),
        )
        if t
    ]
    if waits:
        return LoginOutcome(None, max(waits))
    dummy = _dummy_hash()  # before the look-up: the same work for every address
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    known = user is not None and user.is_active
    # An invited account has no password yet: checking one against it takes no time, which
    # would tell an address just invited from any other. The stand-in hash's work instead.
    usable = known and user is not None and is_password_hash(user.password_hash)
    if user is not None and usable and verify_password(user.password_hash, password):
        rate_limits.forget(session, account_key)
        if not signing_in:
            return LoginOutcome(user)
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
    if not usable:
        verify_password(dummy, password)
    base = timedelta(seconds=max(1, int(config["LOGIN_THROTTLE_SECONDS"])))
    cap = max(base, timedelta(minutes=int(config["LOGIN_LOCKOUT_MINUTES"])))
    ip_until = rate_limits.record_failure(
        session, ip_key, now, limit=max(1, int(config["LOGIN_MAX_FAILURES"])), base=base, cap=cap
    )
    account_limit = max(1, int(config["LOGIN_ACCOUNT_MAX_FAILURES"]))
    account_until = rate_limits.record_failure(
        session, account_key, now, limit=account_limit, base=base, cap=cap
    )
    if ip_until is not None:
        log.warning("sign-ins from %s throttled until %s", remote_addr, ip_until.isoformat())
    if account_until is not None and known and user is not None:
        session.add(
            AuditEvent(
                actor_label="system",
                action="user.login_throttled",
                subject_type="user",
                subject_id=user.id,
                data={"until": account_until.isoformat(), "remote_addr": remote_addr or ""},
            )
        )
        log.warning("sign-ins for account %s throttled until %s", user.id, account_until)
    waits = [t for t in (ip_until, account_until) if t]
    return LoginOutcome(None, max(waits) if waits else None)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user() is not None and request.method == "GET":
        return redirect(url_for("staff.inbox"))
    if form.validate_on_submit():
        database = db_session()
        outcome = authenticate(
            database,
            form.email.data or "",
            form.password.data or "",
            current_app.config,
            utcnow(),
            remote_addr=web.client_address(),
        )
        if outcome.user is not None:
            sign_in(outcome.user)
            return redirect(web.local_path(request.args.get("next")) or url_for("staff.inbox"))
        if outcome.retry_at is not None:
            seconds = max(1, math.ceil((outcome.retry_at - utcnow()).total_seconds()))
            flash(
                _(
                    "Too many failed sign-ins. Wait %(seconds)s seconds before trying again.",
                    seconds=seconds,
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
        user = current_user()
        if user is not None:
            revoke_sessions(user)  # a copy of the cookie (or another device) is signed out too
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


def _own_language() -> str | None:
    user = current_user()
    return user.language if user is not None else None


def _remember_page_language(response: Response) -> Response:
    """A staff member without their own language ("Default") reads their pages in the
    browser's language, or the one the switch at the top chose: remember it, so the mail to
    them comes in it too (`support.desk.mail.language_of`), not in the desk's default."""
    user = g.get("staff_user")
    if (
        user is None
        or user.language
        or not request.path.startswith("/staff")
        or response.status_code >= 400
        or response.mimetype != "text/html"
    ):
        return response
    shown = web.page_language()
    if shown == user.page_language:
        return response
    if request.method not in READ_METHODS:  # the request's own write, committed after this
        user.page_language = shown
    else:  # a GET reads: a short write of its own, only when the language changed
        try:
            with get_db().session() as writing:
                writing.execute(update(User).where(User.id == user.id).values(page_language=shown))
        except SQLAlchemyError:  # the page is fine; the next one tries again
            log.warning("could not remember the page language of user %s", user.id)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    web.own_language(app, _own_language)
    app.after_request(_remember_page_language)
