"""Choosing a password by a one-time link: the invitation a new staff member gets, and
"Forgot your password?" on the sign-in page.

The link's token travels in the query string (``/staff/password?token=...``), never in the
path that an error's log line names, and the form carries it on in its body; the page sends
no Referer. The request for a reset answers the same sentence whether the address has an
account or not, no sooner than RESET_ANSWER_SECONDS whichever it is, and is limited per address
and per client (support.core.rate_limits).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length

from support.auth import forget_login_failures, set_password, sign_in
from support.core import rate_limits
from support.core.config import company_name, relay_host
from support.core.db import db_session, utcnow
from support.core.text import convert_keeping, to_traditional
from support.core.web import client_address, public_url
from support.desk import staff_tokens
from support.desk.mail import in_language, language_of, reads_traditional
from support.desk.models import AuditEvent, User
from support.desk.outbox import enqueue_account_mail
from support.desk.staff_names import staff_name
from support.staff.blueprints import bp
from support.staff.forms import PASSWORD_LENGTH

log = logging.getLogger(__name__)

RESET_WINDOW = timedelta(hours=1)
#: A reset request is answered no sooner than this: a known address's token and mail took
#: ~7 ms more than an unknown one's (docs/measurements.md), which would tell them apart.
RESET_ANSWER_SECONDS = 0.25


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[InputRequired(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class SetPasswordForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Length(max=staff_tokens.MAX_TOKEN_CHARS)])
    new = PasswordField(
        _l("New password (at least 10 characters)"), validators=[InputRequired(), PASSWORD_LENGTH]
    )
    again = PasswordField(
        _l("The same password again"),
        validators=[InputRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Save password and sign in"))


def _lifetime(purpose: str, config: Mapping[str, Any]) -> timedelta:
    if purpose == staff_tokens.PURPOSE_INVITE:
        return timedelta(hours=max(1, int(config["STAFF_INVITATION_HOURS"])))
    return timedelta(minutes=max(1, int(config["STAFF_RESET_MINUTES"])))


def send_password_link(session: Session, user: User, purpose: str) -> None:
    """Queue the invitation or reset mail with a new link (older links of the purpose end),
    in the user's language; it leaves after the caller commits."""
    config = current_app.config
    lifetime = _lifetime(purpose, config)
    token = staff_tokens.issue(session, user, purpose, lifetime=lifetime, now=utcnow())
    link = public_url(url_for("staff.set_password", token=token))
    language = language_of(user, config)
    with in_language(language):
        company = company_name(config, language)
        name = staff_name(user.name) or user.email
        if purpose == staff_tokens.PURPOSE_INVITE:
            subject = _("Your account on the %(company)s help desk", company=company)
            text = _(
                "Hello %(name)s,\n\n"
                "An account on the %(company)s help desk was made for you. Choose your "
                "password here (the link works once, for %(days)s days):\n\n%(link)s\n\n"
                "You sign in with this address, %(email)s.",
                name=name,
                company=company,
                days=max(1, round(lifetime / timedelta(days=1))),
                link=link,
                email=user.email,
            )
        else:
            subject = _("Reset your password for the %(company)s help desk", company=company)
            text = _(
                "Hello %(name)s,\n\n"
                "Someone asked to reset the password of your help-desk account. Choose a new "
                "one here (the link works once, for %(minutes)s minutes):\n\n%(link)s\n\n"
                "If it was not you, ignore this mail: your password stays as it is.",
                name=name,
                minutes=int(lifetime / timedelta(minutes=1)),
                link=link,
            )
    if language == "zh" and reads_traditional(user):  # 繁體, Taiwan's words; their name as written
        subject = convert_keeping(subject, to_traditional, (name, company))
        text = convert_keeping(text, to_traditional, (name, company))
    enqueue_account_mail(
        session, to=user.email, subject=subject, text=text, config=config, language=language
    )


def _no_referrer(page: str, status: int = 200):
    response = make_response(page, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _no_relay_notice() -> str | None:
    """With no outgoing mail server (a fresh install) no link ever leaves, and the file written
    to instance/outbox/ has the link taken out: how else to get in. The same for every address,
    so it says nothing about who has an account."""
    if relay_host(current_app.config):
        return None
    return _(
        "No outgoing mail server is set up yet, so no link can reach you. Whoever runs the "
        "desk's server sets a new password with: %(command)s",
        command=".venv/bin/support set-password ADDRESS",
    )


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        started = time.monotonic()
        session = db_session()
        config = current_app.config
        now = utcnow()
        email = (form.email.data or "").strip().lower()
        client = rate_limits.client_network(client_address() or "unknown")
        if not rate_limits.take(
            session,
            rate_limits.limit_key("reset-ip", client),
            now,
            limit=int(config["STAFF_RESET_CLIENT_MAX_PER_HOUR"]),
            window=RESET_WINDOW,
        ):
            flash(_("Too many requests from your network. Try again in an hour."), "error")
            return render_template("auth/forgot_password.html", form=form), 429
        # Unknown addresses count too: the limit says nothing about who has an account.
        allowed = rate_limits.take(
            session,
            rate_limits.limit_key("reset-account", email),
            now,
            limit=int(config["STAFF_RESET_MAX_PER_HOUR"]),
            window=RESET_WINDOW,
        )
        user = session.scalar(select(User).where(func.lower(User.email) == email))
        if allowed and user is not None and user.is_active:
            send_password_link(session, user, staff_tokens.PURPOSE_RESET)
            session.add(
                AuditEvent(
                    actor_label="system",
                    action="user.password_reset_sent",
                    subject_type="user",
                    subject_id=user.id,
                    data={"remote_addr": client},
                )
            )
        session.flush()  # the writes' work inside the wait, as far as it can be
        time.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))
        flash(
            _(
                "If this address belongs to a staff account, a link to choose a new password "
                "is on its way to it."
            ),
            "info",
        )
        if notice := _no_relay_notice():
            flash(notice, "warning")
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/forgot_password.html", form=form, no_relay_notice=_no_relay_notice()
    )


@bp.route("/password", methods=["GET", "POST"], endpoint="set_password")
def set_password_page():
    """The page an invitation or reset link opens."""
    session = db_session()
    form = SetPasswordForm()
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
        if not form.token.data:  # no link followed: the way to get one
            return redirect(url_for("staff.forgot_password"))
    found = staff_tokens.valid_token(session, form.token.data or "", utcnow())
    if found is None:
        return _no_referrer(render_template("auth/password_link_invalid.html"), 410)
    user = found.user
    if form.validate_on_submit():
        now = utcnow()
        purpose = found.purpose
        if not staff_tokens.use(session, found, now):  # spent meanwhile by another request
            return _no_referrer(render_template("auth/password_link_invalid.html"), 410)
        set_password(user, form.new.data or "")
        forget_login_failures(session, user.email)
        user.last_login_at = now
        session.add(
            AuditEvent(
                actor_id=user.id,
                actor_label="staff",
                action="user.password_set_by_link",
                subject_type="user",
                subject_id=user.id,
                data={"purpose": purpose},
            )
        )
        sign_in(user)
        flash(_("Your password is saved and you are signed in."), "info")
        return redirect(url_for("staff.inbox"))
    return _no_referrer(render_template("auth/set_password.html", form=form, user=user))
