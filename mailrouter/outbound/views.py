"""Staff pages for outgoing mail and the auto-reply templates.

* ``/staff/mail``: every mail we sent or will send (from the database, whether it went to a
  relay or to ``instance/outbox/``), failed ones with the reason and a retry button;
* ``/staff/templates``: the auto-reply templates; admins edit them (checked with
  ``validate_template`` before saving), preview them against a real ticket, and reset them to
  the shipped default (which deletes the override).

Staff only see mail of tickets they may see (``support.auth.can_see_ticket``).
"""

from __future__ import annotations

import logging
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, NamedTuple

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from jinja2 import TemplateNotFound
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from faq.matching import answers_for
from mailrouter.models import ReplyTemplate
from mailrouter.outbound.autoreply import (
    REPLY_LANGUAGES,
    build_context,
    offers_faq,
    part_in_simplified,
    part_in_traditional,
)
from mailrouter.outbound.reply_templates import (
    TEMPLATE_VARIABLES,
    list_template_keys,
    missing_paragraphs,
    render_template_source,
    shipped_paragraph,
    shipped_template_source,
    template_variables,
    validate_template,
)
from support.auth import current_user, login_required, role_required
from support.core.config import relay_host
from support.core.db import db_session
from support.core.html import sanitize_html
from support.core.text import writes_traditional
from support.core.web import page_number
from support.desk.access import can_see_ticket, visible_ticket_clause
from support.desk.models import OUTBOUND_STATES, AuditEvent, Message, OutboundMail, Ticket, User
from support.desk.outbox import KIND_ACCOUNT_LINK, KIND_DIGEST, AccountLinkGone, retry_mail

logger = logging.getLogger(__name__)

bp = Blueprint("outbox_views", __name__, url_prefix="/staff")

PAGE_SIZE = 50
#: Pages of sent mail reachable by number (its offset stays within what the database takes).
MAX_PAGE = 10_000
STAFF_LAYOUT = "staff/layout.html"
MAX_TEMPLATE_CHARS = 50_000
#: The variables the edit page lists: every one a template may use (the FAQ answers' fields).
_VARIABLES_SHOWN = ", ".join(
    f"{name} (question, excerpt, url, solved_url)" if name == "faq_suggestions" else name
    for name in sorted(TEMPLATE_VARIABLES)
)

#: Template keys as documented in mailrouter.outbound.reply_templates: name[.urgency].language.part
TEMPLATE_KEY_RE = re.compile(
    r"^[a-z0-9_-]{1,40}(?:\.[1-5])?\.[a-z]{2}(?:-[a-z0-9]{2,8})?\.(?:subject|txt|html)$"
)


@bp.context_processor
def _layout() -> dict[str, str]:
    """Staff pages use the staff layout when the staff package provides one."""
    try:
        current_app.jinja_env.get_template(STAFF_LAYOUT)
    except TemplateNotFound:
        return {"mail_layout": "base.html"}
    return {"mail_layout": STAFF_LAYOUT}


def _signed_in_user() -> User:
    """The staff member of the request; every page here is behind login_required/role_required."""
    user = current_user()
    assert user is not None
    return user


# --- sent mail ---------------------------------------------------------------------------------


def _visible_mail_or_404(session: Session, mail_id: int) -> OutboundMail:
    mail = session.get(OutboundMail, mail_id)
    if mail is None:
        abort(404)
    user = _signed_in_user()
    ticket = session.get(Ticket, mail.ticket_id) if mail.ticket_id is not None else None
    allowed = can_see_ticket(user, ticket) if ticket is not None else user.role == "admin"
    if mail.kind == KIND_DIGEST and user.role != "admin":
        allowed = user.email.lower() in (r.lower() for r in mail.recipients or [])
    if not allowed:
        abort(404)  # never confirm that mail of another department exists
    return mail


@bp.get("/mail")
@login_required
def sent_mail():
    session = db_session()
    user = _signed_in_user()
    state = request.args.get("state") or None
    if state not in (None, *OUTBOUND_STATES):
        abort(400)
    page = page_number(request.args.get("page"), MAX_PAGE)
    query = select(OutboundMail, Ticket).outerjoin(Ticket, Ticket.id == OutboundMail.ticket_id)
    if user.role != "admin":
        query = query.where(
            OutboundMail.ticket_id.is_not(None),
            visible_ticket_clause(user),
            OutboundMail.kind != KIND_DIGEST,  # it lists other tickets (see KIND_DIGEST)
        )
    counts_query = query.with_only_columns(OutboundMail.state, func.count()).group_by(
        OutboundMail.state
    )
    counts = dict(session.execute(counts_query.order_by(None)).all())
    if state:
        query = query.where(OutboundMail.state == state)
    rows = session.execute(
        query.order_by(OutboundMail.created_at.desc(), OutboundMail.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "mail/staff_sent_mail.html",
        rows=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        state=state,
        states=OUTBOUND_STATES,
        counts=counts,
        relay_host=relay_host(current_app.config),
        # Where an admin sets the relay up (the Getting started step that opens this page).
        config_file=Path(current_app.instance_path) / "config.toml"
        if user.role == "admin"
        else None,
    )


def _parsed(raw: bytes) -> tuple[EmailMessage, str, str | None]:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    html = sanitize_html(html_part.get_content()) if html_part is not None else None
    return message, text, html


@bp.get("/mail/<int:mail_id>")
@login_required
def mail_detail(mail_id: int):
    session = db_session()
    mail = _visible_mail_or_404(session, mail_id)
    message, text, html = _parsed(mail.raw)
    if mail.kind == KIND_ACCOUNT_LINK:  # its link would let the reader into the account
        text, html = _("(Not shown: this mail carries a one-time link to choose a password.)"), None
    ticket = session.get(Ticket, mail.ticket_id) if mail.ticket_id is not None else None
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "outbound_mail", AuditEvent.subject_id == mail.id)
        .order_by(AuditEvent.created_at)
    ).all()
    headers = [
        (name, str(message[name]))
        for name in (
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
            "Auto-Submitted",
        )
        if message[name] is not None
    ]
    return render_template(
        "mail/staff_mail_detail.html",
        mail=mail,
        ticket=ticket,
        headers=headers,
        text=text,
        html=html,
        events=events,
        relay_host=relay_host(current_app.config),
    )


@bp.post("/mail/<int:mail_id>/retry")
@login_required
def mail_retry(mail_id: int):
    session = db_session()
    mail = _visible_mail_or_404(session, mail_id)
    try:
        retry_mail(session, mail, actor=current_user())
    except AccountLinkGone:
        flash(
            _(
                "A password link is not sent again: send a new invitation from the staff list, "
                "or ask for a new link on the sign-in page."
            ),
            "warning",
        )
    except ValueError:
        flash(_("Only failed mail can be sent again."), "warning")
    else:
        flash(_("The mail is queued again and will be sent shortly."), "info")
    return redirect(url_for("outbox_views.mail_detail", mail_id=mail_id))


# --- auto-reply templates ----------------------------------------------------------------------


def _check_key(key: str) -> str:
    if not TEMPLATE_KEY_RE.match(key):
        abort(404)
    return key


def _override(session: Session, key: str) -> ReplyTemplate | None:
    return session.scalar(select(ReplyTemplate).where(ReplyTemplate.key == key))


@bp.get("/templates")
@login_required
def templates():
    session = db_session()
    overrides = {t.key: t for t in session.scalars(select(ReplyTemplate))}
    shipped = set(list_template_keys())
    rows = [
        {
            "key": key,
            "shipped": key in shipped,
            "override": overrides.get(key),
        }
        for key in sorted(shipped | set(overrides))
    ]
    return render_template(
        "mail/staff_templates.html", rows=rows, can_edit=_signed_in_user().role == "admin"
    )


@bp.post("/templates/new")
@role_required("admin")
def template_new():
    key = (request.form.get("key") or "").strip().lower()
    if not TEMPLATE_KEY_RE.match(key):
        flash(
            _("A template key looks like sales.4.zh.txt: name, optional urgency, language, part."),
            "error",
        )
        return redirect(url_for("outbox_views.templates"))
    return redirect(url_for("outbox_views.template_edit", key=key))


class Preview(NamedTuple):
    ticket: Ticket | None
    rendered: str | None
    error: str | None
    #: The ticket's customer writes Traditional characters: shown converted, as they get it.
    traditional: bool = False


def _preview(session: Session, key: str, source: str, reference: str) -> Preview:
    """Render ``source`` for a real ticket as its customer would get it. Changes nothing."""
    reference = reference.strip()
    if not reference:
        return Preview(None, None, None)
    ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
    if ticket is None or not can_see_ticket(current_user(), ticket):
        return Preview(None, None, _("No ticket %(reference)s.", reference=reference))
    language = key.split(".")[-2] if key.split(".")[-2] in REPLY_LANGUAGES else "en"
    first = session.scalar(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == "in")
        .order_by(Message.created_at, Message.id)
        .limit(1)
    )
    text = f"{ticket.own_subject}\n{first.new_text or first.body_text}" if first is not None else ""
    traditional = language == "zh" and writes_traditional(text)
    html = key.endswith(".html")
    with session.no_autoflush:
        offers = text and ticket.urgency != 1 and offers_faq(ticket, current_app.config)
        matches = answers_for(session, text, language) if offers else []
        context = build_context(
            session,
            ticket,
            current_app.config,
            language=language,
            matches=matches,
            traditional=traditional,
        )
    try:
        rendered = render_template_source(source, template_variables(context), html=html)
    except Exception as exc:  # an admin's draft may fail; show why
        return Preview(ticket, None, str(exc))
    own = (context.original_subject, context.customer_name)
    if traditional:
        rendered = part_in_traditional(rendered, own, html=html)
    elif language == "zh":
        rendered = part_in_simplified(rendered, (*own, context.company_name), html=html)
    return Preview(ticket, sanitize_html(rendered) if html else rendered, None, traditional)


def _edit_page(
    key: str,
    source: str,
    *,
    problems: list[str] | None = None,
    status: int = 200,
    hint: str | None = None,
    saving: bool = True,
) -> Any:
    session = db_session()
    override = _override(session, key)
    reference = request.values.get("ticket", "")
    preview = _preview(session, key, source, reference)
    session.rollback()  # a preview may compute due times; never keep them
    # What the mails it answers would lose against the shipped text, with the paragraph to copy.
    *_, language, part = key.split(".")
    left_out = [
        (variable, shipped_paragraph(variable, language, part))
        for variable in missing_paragraphs(key, source)
    ]
    return (
        render_template(
            "mail/staff_template_edit.html",
            key=key,
            source=source,
            shipped=shipped_template_source(key),
            override=override,
            problems=problems or [],
            saving=saving,
            hint=hint,
            reference=reference,
            preview_ticket=preview.ticket,
            preview=preview.rendered,
            preview_error=preview.error,
            preview_traditional=preview.traditional,
            is_html=key.endswith(".html"),
            can_edit=_signed_in_user().role == "admin",
            variables=_VARIABLES_SHOWN,
            left_out=left_out,
        ),
        status,
    )


@bp.get("/templates/<key>")
@login_required
def template_edit(key: str):
    _check_key(key)
    override = _override(db_session(), key)
    source = override.source if override is not None else shipped_template_source(key) or ""
    return _edit_page(key, source)


@bp.post("/templates/<key>")
@role_required("admin")
def template_save(key: str):
    _check_key(key)
    source = (request.form.get("source") or "").replace("\r\n", "\n")
    if request.form.get("action") == "preview":
        # Pressing Preview showed nothing when the draft was broken or no ticket was named.
        hint = None
        if not request.form.get("ticket", "").strip():
            hint = _("Name a ticket (such as SUP-00001) to preview the mail for it.")
        return _edit_page(key, source, problems=validate_template(source), hint=hint, saving=False)
    problems = validate_template(source)
    if not source.strip():
        problems.insert(0, _("The template is empty."))
    if len(source) > MAX_TEMPLATE_CHARS:
        problems.insert(0, _("The template is too long."))
    if problems:
        return _edit_page(key, source, problems=problems, status=400)
    session = db_session()
    user = _signed_in_user()
    override = _override(session, key)
    if override is None:
        override = ReplyTemplate(key=key, source=source, updated_by_id=user.id)
        session.add(override)
    else:
        override.source = source
        override.updated_by_id = user.id
    session.add(
        AuditEvent(
            actor_id=user.id,
            actor_label="staff",
            action="reply_template_saved",
            subject_type="reply_template",
            data={"key": key},
        )
    )
    flash(_("Template saved; new auto-replies use it."), "info")
    return redirect(url_for("outbox_views.template_edit", key=key))


@bp.post("/templates/<key>/reset")
@role_required("admin")
def template_reset(key: str):
    _check_key(key)
    session = db_session()
    override = _override(session, key)
    if override is not None:
        session.delete(override)
        user = _signed_in_user()
        session.add(
            AuditEvent(
                actor_id=user.id,
                actor_label="staff",
                action="reply_template_reset",
                subject_type="reply_template",
                data={"key": key, "previous_source": override.source[:MAX_TEMPLATE_CHARS]},
            )
        )
        flash(_("Template reset to the shipped default."), "info")
    if shipped_template_source(key) is None:
        return redirect(url_for("outbox_views.templates"))
    return redirect(url_for("outbox_views.template_edit", key=key))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
