"""Administration: staff accounts and departments (admins), and each user's own account page."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from support.auth import (
    authenticate,
    current_user,
    forget_login_failures,
    issue_api_token,
    login_required,
    role_required,
    set_password,
    sign_in,
)
from support.core.commands import command_line
from support.core.config import company_name, mail_domains, relay_host
from support.core.db import db_session, utcnow
from support.core.web import OWN_LANGUAGES, client_address
from support.desk.models import AuditEvent, Department, User
from support.desk.outbox import team_name
from support.desk.staff_names import staff_name
from support.desk.staff_tokens import PURPOSE_INVITE, end_all, unusable_password
from support.staff.blueprints import bp
from support.staff.forms import (
    LANGUAGE_NAMES,
    ActionForm,
    DepartmentForm,
    NotificationLanguageForm,
    OwnNameForm,
    PasswordChangeForm,
    UserForm,
    checklist_sent,
    language_choices,
    options,
)
from support.staff.password_links import send_password_link

log = logging.getLogger(__name__)


def _audit(
    session: Session, actor: User, action: str, subject_type: str, subject_id: int, **data: Any
) -> None:
    session.add(
        AuditEvent(
            created_at=utcnow(),
            actor_id=actor.id,
            actor_label="staff",
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            data=data,
        )
    )


def _department_choices(session: Session) -> list[tuple[int, str]]:
    return [
        (d.id, d.label(g.get("lang", "en")) + ("" if d.is_active else f" ({_('retired')})"))
        for d in session.scalars(select(Department).order_by(Department.name))
    ]


def _member_choices(session: Session, department: Department | None) -> list[tuple[int, str]]:
    """Active staff, and anyone inactive still listed as a member (so saving keeps them)."""
    members = set(department.members) if department else set()
    return [
        (u.id, f"{staff_name(u.name)} <{u.email}>")
        for u in session.scalars(select(User).order_by(User.name))
        if u.is_active or u in members
    ]


@bp.get("/admin/users")
@role_required("admin")
def users():
    found = db_session().scalars(select(User).order_by(User.is_active.desc(), User.name)).all()
    return render_template("staff/admin_users.html", users=found, invite_form=ActionForm())


@bp.route("/admin/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_form(user_id: int | None):
    session = db_session()
    admin = current_user()
    assert admin is not None
    user = session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user) if user else UserForm()
    form.departments.choices = options(_department_choices(session))
    form.language.choices = language_choices()
    if user is not None and not form.is_submitted():
        form.departments.data = [d.id for d in user.departments]
        form.language.data = user.language or ""
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        clash = session.scalar(select(User).where(func.lower(User.email) == email))
        if clash is not None and clash is not user:
            form.email.errors.append(_("Another account uses this address."))
        elif user is admin and (form.role.data != "admin" or not form.is_active.data):
            form.role.errors.append(
                _("You cannot remove your own admin role or deactivate yourself.")
            )
        else:
            creating = user is None
            if user is None:  # they choose their password by the invitation's link
                user = User(email=email, name="", password_hash=unusable_password())
                session.add(user)
            readdressed = not creating and user.email != email
            before = {
                "role": user.role,
                "is_active": user.is_active,
                "departments": sorted(d.code for d in user.departments),
            }
            user.email = email
            user.name = (form.name.data or "").strip()
            user.display_alias = (form.display_alias.data or "").strip() or None
            user.role = form.role.data or "agent"
            user.can_triage = bool(form.can_triage.data)
            user.is_active = bool(form.is_active.data)
            user.language = form.language.data if form.language.data in OWN_LANGUAGES else None
            if checklist_sent(form.departments, request.form):
                chosen = set(form.departments.data or [])
                user.departments = [
                    d for d in session.scalars(select(Department)) if d.id in chosen
                ]
            if form.password.data and not creating:
                set_password(user, form.password.data)
                forget_login_failures(session, user.email)
            if not user.is_active:
                user.api_token_hash = None
                end_all(session, user)  # reactivating it later wakes no old link
            session.flush()
            after = {
                "role": user.role,
                "is_active": user.is_active,
                "departments": sorted(d.code for d in user.departments),
            }
            _audit(
                session,
                admin,
                "user.created" if creating else "user.updated",
                "user",
                user.id,
                before=None if creating else before,
                after=after,
                password_changed=bool(form.password.data) and not creating,
            )
            flash(_("Saved %(email)s.", email=user.email), "info")
            if creating and user.is_active:
                send_password_link(session, user, PURPOSE_INVITE)
                _flash_invitation(
                    _(
                        "An invitation is on its way to %(email)s: they choose their own "
                        "password by its link.",
                        email=user.email,
                    ),
                    user.email,
                )
            elif readdressed and user.is_active and user.last_login_at is None:
                # The old address's link has ended (staff_tokens.password_stamp): a new one.
                send_password_link(session, user, PURPOSE_INVITE)
                _flash_invitation(
                    _("A new invitation is on its way to %(email)s.", email=user.email),
                    user.email,
                )
            # Saved, but with nothing to work on, and no page would have said why.
            idle = not (user.departments or user.can_triage or user.role == "admin")
            if idle and user.is_active:
                flash(
                    _(
                        "%(name)s is in no department and does not triage: they see no "
                        "tickets and cannot be assigned any until you tick a department.",
                        name=staff_name(user.name) or user.email,
                    ),
                    "warning",
                )
            return redirect(url_for("staff.users"))
    return render_template("staff/admin_user_form.html", form=form, user=user)


def _flash_invitation(on_its_way: str, email: str) -> None:
    """`on_its_way` when mail goes out. With no outgoing relay (OUTBOUND_SMTP_HOST, unset on a
    fresh install) the invitation is only written to instance/outbox/: "on its way" left the
    admin waiting for a colleague who never got it. Say so instead, and name the two ways on."""
    if relay_host(current_app.config):
        flash(on_its_way, "info")
        return
    flash(
        _(
            "No outgoing mail server is set up (outbound_smtp_host in %(config)s), so this "
            "invitation was written to a file in %(folder)s, not sent. Set the server up and "
            'restart, then press "%(button)s"; or give %(email)s a password now with: '
            "%(command)s set-password %(email)s",
            command=command_line(absolute=True, instance=current_app.instance_path),
            config=Path(current_app.instance_path) / "config.toml",
            folder=Path(current_app.instance_path) / "outbox",
            button=_("Resend invitation"),
            email=email,
        ),
        "warning",
    )


@bp.post("/admin/users/<int:user_id>/invitation")
@role_required("admin")
def resend_invitation(user_id: int):
    """A new invitation link for a member who has not signed in yet (the old link ends)."""
    session = db_session()
    admin = current_user()
    assert admin is not None
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if user.is_active and user.last_login_at is None:
        send_password_link(session, user, PURPOSE_INVITE)
        _audit(session, admin, "user.invitation_sent", "user", user.id)
        _flash_invitation(
            _("A new invitation is on its way to %(email)s.", email=user.email), user.email
        )
    return redirect(url_for("staff.users"))


@bp.get("/admin/departments")
@role_required("admin")
def departments():
    found = (
        db_session()
        .scalars(select(Department).order_by(Department.is_active.desc(), Department.name))
        .all()
    )
    # The company's names come from the configuration, not the database: the page says where,
    # as a new admin looks for them among the administration pages (seen from a fresh start.sh).
    # Read as mail and pages read them (`company_name`): the reader's language first, a name
    # shared by both languages once.
    readers = "zh" if g.get("lang") == "zh" else "en"
    names: list[tuple[str, str]] = []
    for language in (readers, "en" if readers == "zh" else "zh"):
        name = company_name(current_app.config, language)
        if name and name not in (shown for _, shown in names):
            names.append((language, name))
    # Addresses outside MAIL_DOMAINS (the demo's example.com after the admin set their own):
    # auto-replies would leave from a domain not theirs.
    domains = mail_domains(current_app.config)
    outside = {
        d.id for d in found if d.is_active and d.email_address.rpartition("@")[2] not in domains
    }
    # The name each department's mail is from, as customers see it in each language (Chinese
    # mail uses its Chinese name: outbox.team_name), the reader's language first.
    labels = {"en": _("English mail"), "zh": _("Chinese mail")}
    mail_names = {
        d.id: [
            (labels[language], team_name(d, current_app.config, language=language))
            for language in (readers, "en" if readers == "zh" else "zh")
        ]
        for d in found
    }
    return render_template(
        "staff/admin_departments.html",
        departments=found,
        mail_names=mail_names,
        outside=outside,
        mail_domains=domains,
        # Where a mail server delivers: the "Receive mail at your own domain" step.
        intake=f"{current_app.config['SMTP_HOST']}:{current_app.config['SMTP_PORT']}",
        company_names=names,
        config_file=Path(current_app.instance_path) / "config.toml",
    )


@bp.route("/admin/departments/new", methods=["GET", "POST"], defaults={"department_id": None})
@bp.route("/admin/departments/<int:department_id>", methods=["GET", "POST"])
@role_required("admin")
def department_form(department_id: int | None):
    """Add, rename or retire a department (retired ones keep their tickets and history)."""
    session = db_session()
    admin = current_user()
    assert admin is not None
    department = session.get(Department, department_id) if department_id else None
    if department_id and department is None:
        abort(404)
    form = DepartmentForm(obj=department) if department else DepartmentForm()
    form.members.choices = options(_member_choices(session, department))
    if department is not None and not form.is_submitted():
        form.members.data = [u.id for u in department.members]
    if form.validate_on_submit():
        code = (form.code.data or "").strip()
        address = (form.email_address.data or "").strip().lower()
        clash_code = session.scalar(select(Department).where(Department.code == code))
        clash_address = session.scalar(
            select(Department).where(func.lower(Department.email_address) == address)
        )
        if clash_code is not None and clash_code is not department:
            form.code.errors.append(_("Another department uses this code."))
        elif clash_address is not None and clash_address is not department:
            form.email_address.errors.append(_("Another department uses this address."))
        else:
            creating = department is None
            if department is None:
                department = Department(code=code, name="", email_address=address, display_name="")
                session.add(department)
            before = {
                "code": department.code,
                "name": department.name,
                "email_address": department.email_address,
                "is_active": department.is_active,
                "members": sorted(u.email for u in department.members),
            }
            department.code = code
            department.name = (form.name.data or "").strip()
            department.name_zh = (form.name_zh.data or "").strip()
            department.email_address = address
            department.display_name = (form.display_name.data or "").strip()
            department.description = (form.description.data or "").strip()
            department.is_active = bool(form.is_active.data)
            if checklist_sent(form.members, request.form):
                chosen = set(form.members.data or [])
                department.members = [u for u in session.scalars(select(User)) if u.id in chosen]
            session.flush()
            action = (
                "department.created"
                if creating
                else (
                    "department.retired"
                    if before["is_active"] and not department.is_active
                    else "department.updated"
                )
            )
            _audit(
                session,
                admin,
                action,
                "department",
                department.id,
                before=None if creating else before,
                after={
                    "code": department.code,
                    "name": department.name,
                    "email_address": department.email_address,
                    "is_active": department.is_active,
                    "members": sorted(u.email for u in department.members),
                },
            )
            flash(_("Saved department %(name)s.", name=department.name), "info")
            return redirect(url_for("staff.departments"))
    return render_template("staff/admin_department_form.html", form=form, department=department)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's own page: name, password, language, an API token (shown once)."""
    session = db_session()
    user = current_user()
    assert user is not None
    password_form = PasswordChangeForm(prefix="password")
    language_form = NotificationLanguageForm(prefix="language")
    language_form.language.choices = language_choices()
    if not language_form.is_submitted():
        language_form.language.data = user.language or ""
    name_form = OwnNameForm(prefix="name")
    if not name_form.is_submitted():
        # "Administrator" is no name to keep: the field asks for one.
        name_form.name.data = "" if user.needs_name else user.name
        name_form.display_alias.data = user.display_alias or ""
    token_form = ActionForm(prefix="token")
    token = None
    if name_form.submit.data and name_form.validate_on_submit():
        named = {"name": user.name, "display_alias": user.display_alias}
        user.name = (name_form.name.data or "").strip() or user.name
        user.display_alias = (name_form.display_alias.data or "").strip() or None
        _audit(
            session,
            user,
            "user.name_changed",
            "user",
            user.id,
            before=named,
            after={"name": user.name, "display_alias": user.display_alias},
        )
        flash(_("Saved: your replies are signed “%(name)s”.", name=user.signature_name), "info")
        return redirect(url_for("staff.account"))
    if language_form.submit.data and language_form.validate_on_submit():
        before = user.language
        user.language = language_form.language.data or None
        _audit(
            session,
            user,
            "user.language_changed",
            "user",
            user.id,
            before={"language": before},
            after={"language": user.language},
        )
        flash(_("Saved: your pages and the mail to you are in the language chosen."), "info")
        return redirect(url_for("staff.account"))
    if password_form.submit.data and password_form.validate_on_submit():
        checked = authenticate(
            session,
            user.email,
            password_form.current.data or "",
            current_app.config,
            utcnow(),
            remote_addr=client_address(),
            signing_in=False,
        )
        if checked.retry_at is not None and checked.user is None:
            seconds = max(1, math.ceil((checked.retry_at - utcnow()).total_seconds()))
            password_form.current.errors.append(
                _(
                    "Too many failed sign-ins. Wait %(seconds)s seconds before trying again.",
                    seconds=seconds,
                )
            )
        elif checked.user is None or checked.user.id != user.id:
            password_form.current.errors.append(_("That is not your current password."))
        else:
            set_password(user, password_form.new.data or "")
            _audit(session, user, "user.password_changed", "user", user.id)
            sign_in(user)  # other sessions end; this one continues
            flash(_("Password changed."), "info")
            return redirect(url_for("staff.account"))
    elif token_form.is_submitted() and not (
        password_form.submit.data or language_form.submit.data or name_form.submit.data
    ):
        if not token_form.validate():
            abort(400)
        token = issue_api_token(session, user, actor=user)
    return render_template(
        "staff/account.html",
        desk_language=LANGUAGE_NAMES.get(
            current_app.config["DEFAULT_LANGUAGE"], current_app.config["DEFAULT_LANGUAGE"]
        ),
        password_form=password_form,
        language_form=language_form,
        name_form=name_form,
        token_form=token_form,
        token=token,
    )
