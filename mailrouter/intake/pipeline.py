"""What the worker does with one queued message: parse, recognise, thread, store, route.

Everything but parsing (``parse_inbound``) and reading the text (``analyse``: routing model
and FAQ answers), which the worker runs before its write transaction opens, happens in the
caller's transaction, which also marks the InboundMail processed,
so a crash leaves either nothing or everything, and a retry cannot duplicate a ticket.
Mail from a contact form (channel "web") is a real RFC 5322 message and takes the same path.

Decisions:

* The same Message-ID twice from the same sender with the same text (CC to two department
  addresses delivered separately, a duplicate delivery, an IMAP copy of SMTP mail) is one
  message: later copies only point their InboundMail at the existing ticket. A Message-ID
  that is already taken by a different sender's mail (or a different text) is a collision,
  not a copy: the mail is stored under an id derived from its bytes, with a parse defect.
* Automatic mail (bounce, out-of-office, read receipt, calendar invitation, list;
  ``mailrouter.automatic``) is never answered. When it threads, it is
  stored on its ticket without reopening it; a bounce also flags the failing customer
  address. When it threads nowhere it is "set aside": processed, with no ticket and no
  customer, listed for staff on the quarantine page, where one click makes it a ticket.
* Spam (``mailrouter.spam``; the worker judges it before its write transaction) that would
  open a new conversation is held instead: processed with no ticket, no customer, no
  notification and no auto-reply, its score and reasons on the row, listed on the Spam page
  where "not spam" queues it again as a ticket. Automatic mail judged spam is held as spam,
  not set aside, except a mail system's report (a delivery failure, delay or complaint that
  ``bounce_info`` reads) and an out-of-office (``automatic.is_auto_reply``), which are set
  aside as such unless a real filter is certain they are spam (``_sets_aside_despite_spam``).
  A reply that threads into an existing conversation is
  held only when a real filter (in front, or spamd) says it is certain spam: the customer's
  own reply to our mail is not second-guessed by our learned filter. Staff replies by mail
  are never checked. Nor is a new conversation held on our learned filter's "suspected"
  alone when staff have written to its sender before, or to another address of its domain
  when a trusted Authentication-Results authenticated that domain (``_known_correspondent``;
  not free mail): it becomes a ticket, without an auto-reply, with the reason in its audit.
  Someone we answered is a customer, and so is his company; the filter's mistakes on customer
  mail (Chinese business mail with prices and phone numbers looks like advertising to it)
  then cost an auto-reply, not the mail.
* A customer's reply to a resolved or closed ticket that only thanks or praises ("Thank you!",
  "谢谢", ``faq.matching.only_thanks``: no question, no problem, no attachment) is added to the
  conversation without reopening it and without a notice (MAIL_REOPEN_ON_THANKS turns that
  off); anything else reopens the ticket (or, with MAIL_REOPEN_MODE=new, starts a new one).
* A trusted Authentication-Results that calls the sender forged (DMARC fail under
  p=reject/quarantine, SPF fail) still makes a ticket, but gets no auto-reply and the
  message shows "unverified sender"; it joins no conversation (below) and is no staff reply.
* Mail that names a ticket (Message-ID, subject token) from someone who takes no part in it
  (``conversations.sender_takes_part``) is a new conversation like any other, but for its
  ``refers_to_ticket_id``: the named ticket does not change, and nothing of it reaches the
  sender. Automatic mail from such a sender is set aside (its detail names the ticket), unless
  it is a delivery report on our mail (named by its Message-ID) to one of the ticket's people,
  which joins the ticket as automatic mail.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, literal, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from faq.matching import only_thanks
from mailrouter import flood
from mailrouter.automatic import (
    BounceInfo,
    auto_reply_detail,
    automatic_reason,
    bounce_info,
    has_report_structure,
    is_auto_reply,
    report_label,
)
from mailrouter.intake import queue
from mailrouter.intake.conversations import (
    SUBJECT_TOKEN,
    ThreadMatch,
    find_conversation,
    open_successor,
)
from mailrouter.intake.queue import SpamCheck
from mailrouter.intake.staff_replies import handle_staff_mail_reply, staff_reply_target
from mailrouter.models import ClaimedMail
from mailrouter.outbound import autoreply
from mailrouter.parsing import GENERATED_ID_DOMAIN, ParsedMail, parse_message
from mailrouter.routing import decisions as routing
from mailrouter.routing import repeats
from mailrouter.spam.reputation import correspondent_domain
from mailrouter.spam.verdict import BUILTIN, CERTAIN, NOT_CHECKED, SUSPECTED, SpamVerdict, judge
from mailrouter.tokens import strip_subject_prefixes
from support.core.concurrency import dialect_of, serialise_on
from support.core.db import utcnow
from support.core.direct_insert import insert_new
from support.core.text import language_of_name
from support.core.zones import own_clock
from support.desk import search, snooze
from support.desk.audit import record_event
from support.desk.customers import (
    CUSTOMER_JOIN_ON,
    find_or_create_customer,
    flag_failing_address,
    normalise_address,
)
from support.desk.models import Attachment, Customer, Message, Ticket
from support.desk.notifications import notify_customer_reply
from support.desk.outbox import own_addresses
from support.desk.reply_cc import takes_part

log = logging.getLogger(__name__)

NEW_TICKET = "new_ticket"
FOLLOW_UP = "follow_up"
REOPENED = "reopened"
#: A thank-you stored on a resolved or closed ticket, which stays so.
THANKS_ON_CLOSED = "thanks_on_closed"
NEW_TICKET_AFTER_CLOSED = "new_ticket_after_closed"
DUPLICATE = "duplicate"
AUTOMATIC_ON_TICKET = "automatic_on_ticket"
SET_ASIDE = "set_aside"
SPAM_HELD = "spam_held"
STAFF_REPLY = "staff_reply"
#: The worker no longer holds the message's claim (another took it over, or it was erased):
#: nothing was written.
TAKEN_OVER = "taken_over"
#: The audit reason of a contact-form question whose address was over the form's hourly limit.
FORM_ADDRESS_OVER_LIMIT = "contact form: the address was over its hourly limit"
#: The audit reason of a ticket not auto-answered for its spam score (SPAM_NO_AUTOREPLY_SCORE).
SKIP_SPAM_SCORE = "spam_score"

#: How many of a delivery report's addresses are checked against a ticket's people.
MAX_REPORTED = 20
#: Stands in for the sender of mail with no usable From or envelope sender.
UNKNOWN_SENDER = f"unknown-sender@{GENERATED_ID_DOMAIN}"
CLOSED_STATUSES = ("resolved", "closed")
_TICKET_CHANNEL = {"smtp": "email", "imap": "imap", "web": "web", "api": "api"}
_MESSAGES = Message.__table__
_MESSAGE_BY_ID = select(
    _MESSAGES.c.id, _MESSAGES.c.ticket_id, _MESSAGES.c.from_address, _MESSAGES.c.body_text
).where(_MESSAGES.c.message_id == bindparam("message_id"))
#: In one answer: whether the worker still holds its claim (queue.CLAIM_HELD), _MESSAGE_BY_ID's
#: row (its columns None when there is none) and the sender's customer (None when new).
_ONE_ROW = select(literal(1).label("one")).subquery()
_FIRST_FROM = _ONE_ROW.outerjoin(
    _MESSAGES, _MESSAGES.c.message_id == bindparam("message_id")
).outerjoin(Customer, CUSTOMER_JOIN_ON)
_FIRST_READ = (
    select(queue.CLAIM_HELD.label("claimed"), *_MESSAGE_BY_ID.selected_columns, Customer)
    .select_from(_FIRST_FROM)
    .limit(1)
)


@dataclass(frozen=True)
class _ReadAhead:
    """What the first statement of the transaction read besides _FIRST_READ, on PostgreSQL for
    mail that may open a ticket, so that neither costs a wait for the server of its own (with
    the database on another host, a round trip costs more than a message's work): the sender's
    customer's earlier messages (``repeats.EARLIER_AS_JSON``; None: not read), and the
    sender's flood row, locked (``flood.LOCKED_SENDER``; None: not locked)."""

    earlier_reports: list[dict[str, Any]] | None = None
    locked_sender: flood.LockedSender | None = None


_NOTHING_AHEAD = _ReadAhead()
_FIRST_READS: dict[tuple[bool, bool], Any] = {}


def _first_read(earlier: bool, lock: bool) -> Any:
    """_FIRST_READ, with the earlier messages and the sender's lock (see _ReadAhead)."""
    statement = _FIRST_READS.get((earlier, lock))
    if statement is None:
        statement = _FIRST_READ
        if earlier:
            statement = statement.add_columns(repeats.EARLIER_AS_JSON)
        if lock:
            statement = statement.add_columns(*flood.SENDER_LOCK_COLUMNS).select_from(
                _FIRST_FROM.join(flood.LOCKED_SENDER, true())
            )
        _FIRST_READS[(earlier, lock)] = statement
    return statement


@dataclass(frozen=True)
class Analysis:
    """What a mail's text says, worked out before the write transaction opens: the routing
    model's verdict and the FAQ answers for an auto-reply. Both read only the parsed mail,
    the model file and the search index, and both cost time in proportion to the text, so
    nobody waits on the database's write lock for them. Each part is used only if it fits the
    ticket that is finally written (the same text, model and language); otherwise the step
    that needs it works it out again."""

    prediction: routing.MailPrediction | None = None
    answers: autoreply.PreparedAnswers | None = None
    #: The ticket search row's words for the subject and text (`search.new_ticket_words`).
    search_words: Mapping[str, tuple[str, ...]] | None = None


#: Outcomes whose ticket search row is written already (a new ticket writes its own; a
#: duplicate changed nothing).
_INDEXED_ALREADY = frozenset({DUPLICATE, NEW_TICKET, NEW_TICKET_AFTER_CLOSED})


@dataclass(frozen=True)
class PipelineResult:
    outcome: str
    ticket_id: int | None
    message_pk: int | None
    detail: str = ""
    spam: SpamVerdict | None = None
    #: The mail is held as spam (on the Spam page), not a ticket.
    held_as_spam: bool = False
    subject: str = ""


def ticket_reference(ticket_id: int) -> dict[str, str]:
    """A new ticket's reference, from the id the database gave it."""
    return {"reference": f"SUP-{ticket_id:05d}"}


def parse_inbound(
    inbound: ClaimedMail, config: Mapping[str, Any], own: Collection[str]
) -> ParsedMail:
    """Parse a queued message (no database: the worker does it before its write transaction).
    ``own``: our own addresses (``own_addresses``); a forward of our own mail is not read as
    the sender's words."""
    parsed = parse_message(
        inbound.raw, max_attachment_bytes=config["MAIL_MAX_ATTACHMENT_BYTES"], own_addresses=own
    )
    if inbound.channel == "web":  # the Date header is the form's, from the browser's clock
        parsed.date_offset_minutes = queue.form_utc_offset(inbound.raw)
    return parsed


def analyse(
    session: Session,
    parsed: ParsedMail,
    config: Mapping[str, Any],
    *,
    inbound: ClaimedMail | None = None,
    spam: SpamVerdict | None = None,
) -> Analysis:
    """The routing verdict and FAQ answers for a mail that may open a ticket (reads only).

    Replies (In-Reply-To or References) usually join a ticket and need neither, and neither
    does automatic mail (bounces, out-of-office, lists: no ticket, never an auto-reply; the FAQ
    matching is most of a mail's cost): they are skipped, and in the rare case one opens a
    ticket, its steps work them out in place. Given the queued mail and its spam verdict, the
    FAQ answers are also skipped for mail whose ticket would get no auto-reply step at all
    (`may_be_answered`) or whose auto-reply offers none (`offers_no_faq_answers`): nothing
    would read them.
    """
    if parsed.in_reply_to or parsed.references:
        return Analysis()
    if automatic_reason(parsed, own_addresses(session, config)):
        return Analysis()
    subject = ticket_subject(parsed)
    prediction = routing.predict_mail(subject, parsed.reading_text(), config)
    answered = inbound is None or (
        not offers_no_faq_answers(session, inbound, config)
        and (spam is None or may_be_answered(inbound, parsed, spam, config))
    )
    return Analysis(
        prediction,
        autoreply.prepare_answers(session, parsed, subject) if answered else None,
        search.new_ticket_words(subject, parsed.new_text or parsed.text or ""),
    )


def may_be_answered(
    inbound: ClaimedMail, parsed: ParsedMail, spam: SpamVerdict, config: Mapping[str, Any]
) -> bool:
    """Whether a new ticket of this mail gets its auto-reply (`auto_reply_step`), which alone
    reads the FAQ answers (offers and demand). Finding answers for mail that gets none would
    cost the model's forward passes (most of a new mail's cost) for nothing."""
    return auto_reply_step(inbound, mail_sender(parsed, inbound), spam, config) == ""


def offers_no_faq_answers(
    session: Session, inbound: ClaimedMail, config: Mapping[str, Any]
) -> bool:
    """Whether a new ticket of this mail surely goes to a department whose auto-replies offer
    no FAQ answers (AUTOREPLY_NO_FAQ_DEPARTMENTS, `autoreply.offers_faq`): mail to the address
    of an active one goes there whatever the model says (`routing.route_new_ticket`), so its
    answers would be dropped unread, demand and all. Only the address is trusted here: where
    the model decides, a ticket routed elsewhere would have to find its answers inside the
    write transaction."""
    code = inbound.department_code
    if not code or not autoreply.offers_no_faq(code, config):
        return False  # nearly all mail: no read of the departments
    return code in routing.active_departments(session)


def mail_sender(parsed: ParsedMail, inbound: ClaimedMail) -> str:
    """Who the mail is from (lower-case; "" when nobody): its From, else the envelope's."""
    return (parsed.from_address or inbound.envelope_from or "").strip().lower()


def auto_reply_step(
    inbound: ClaimedMail, sender: str, spam: SpamVerdict, config: Mapping[str, Any]
) -> str | None:
    """What becomes of a new ticket's auto-reply, decided once for ``analyse`` (whether to
    find FAQ answers ahead) and for the ticket itself: "" it is sent; None there is none to
    send (no sender, a forged sender or spam, mail released too late: `_may_auto_reply`);
    otherwise why it is withheld, written to the ticket's audit (a spam score in the band
    that gets no answer: `_spam_withholds_auto_reply`)."""
    if not sender or not _may_auto_reply(inbound, config, spam):
        return None
    if (inbound.meta or {}).get(queue.NO_AUTO_REPLY):
        return FORM_ADDRESS_OVER_LIMIT
    return _spam_withholds_auto_reply(spam, config)


def ticket_subject(parsed: ParsedMail) -> str:
    """A new ticket's subject: the mail's, without Re:/Fwd: prefixes."""
    subject = strip_subject_prefixes(parsed.subject) or parsed.subject.strip() or routing.NO_SUBJECT
    return subject[:500]


def process_inbound(
    session: Session,
    inbound: ClaimedMail,
    config: Mapping[str, Any],
    *,
    parsed: ParsedMail | None = None,
    analysis: Analysis | None = None,
    spam: SpamVerdict | None = None,
    claimed_by: str | None = None,
) -> PipelineResult:
    """Turn one queued message into (part of) a conversation; the caller commits.

    ``parsed`` is the message already parsed by ``parse_inbound`` (parsed here when None);
    ``analysis`` is what ``analyse`` made of it before the write transaction, ``spam`` its
    spam verdict (``judge_spam``; judged here without spamd when None). ``claimed_by``: the
    worker that claimed it (its claim is locked here, ``queue.lock_claim``); if it no longer
    holds it, the outcome is TAKEN_OVER and nothing is written.
    """
    analysis = analysis or Analysis()
    if parsed is None:
        parsed = parse_inbound(inbound, config, own_addresses(session, config))
    if spam is None:
        spam = judge_spam(inbound, parsed, config, ask_spamd=False)
    result = _process(session, inbound, config, parsed, spam, analysis, claimed_by)
    if result.outcome == TAKEN_OVER:
        return result
    if result.ticket_id is not None and result.outcome not in _INDEXED_ALREADY:
        search.index_tickets(session, [result.ticket_id])
    return replace(result, spam=spam, subject=parsed.subject)


def judge_spam(
    inbound: ClaimedMail,
    parsed: ParsedMail,
    config: Mapping[str, Any],
    *,
    ask_spamd: bool = True,
    instance_path: str | None = None,
) -> SpamVerdict:
    """The spam verdict on a queued message (no database; may ask spamd: the worker calls it
    before its write transaction). Mail staff released ("not spam") and web-form mail,
    which we wrote ourselves, are not judged. ``instance_path`` is where the install's model
    is (the app's instance folder; needed outside an app context)."""
    if inbound.meta.get("spam_released") or inbound.channel in ("web", "api"):
        return NOT_CHECKED
    try:
        return judge(inbound.raw, parsed, config, ask_spamd=ask_spamd, instance_path=instance_path)
    except Exception:  # a bug in the spam check must not keep a customer's mail from us
        log.exception("spam check of inbound mail %s failed; treated as not spam", inbound.id)
        return NOT_CHECKED


def _read_ahead(
    session: Session,
    inbound: ClaimedMail,
    config: Mapping[str, Any],
    sender: str,
    spam: SpamVerdict,
    analysis: Analysis,
) -> tuple[dict[str, Any] | None, bool]:
    """What the first statement reads ahead (_ReadAhead): the earlier messages' window (None:
    not read) and whether it locks the sender's flood row. On PostgreSQL, for mail that
    ``analyse`` found may open a ticket (not a reply, not automatic, not spam); the lock only
    when that ticket may get an auto-reply. Read ahead for nothing, they cost the server a
    little and the lock is held a few statements longer; not read, the steps read them."""
    if analysis.prediction is None or dialect_of(session) != "postgresql":
        return None, False
    window = repeats.earlier_window(inbound.received_at, config)
    lock = bool(config["AUTOREPLY_ENABLED"] and sender and _may_auto_reply(inbound, config, spam))
    return window, lock


def _process(
    session: Session,
    inbound: ClaimedMail,
    config: Mapping[str, Any],
    parsed: ParsedMail,
    spam: SpamVerdict,
    analysis: Analysis,
    claimed_by: str | None,
) -> PipelineResult:
    sender = mail_sender(parsed, inbound)
    message_id = parsed.message_id[:998]
    if claimed_by is None:
        serialise_on(session, f"message-id:{message_id}")
    else:  # the claim's lock and this one in one statement
        queue.lock_claim(
            session, inbound.id, worker_id=claimed_by, serialise_key=f"message-id:{message_id}"
        )

    existing: Any
    looked_up: tuple[Customer | None] | None = None  # the sender's customer, read with the claim
    ahead = _NOTHING_AHEAD
    if claimed_by is None:
        existing = session.execute(_MESSAGE_BY_ID, {"message_id": message_id}).first()
    else:
        customer_email = normalise_address(sender or UNKNOWN_SENDER)
        parameters: dict[str, Any] = {
            "message_id": message_id,
            "claim_row_id": inbound.id,
            "claim_worker_id": claimed_by,
            "customer_email": customer_email,
        }
        window, lock = _read_ahead(session, inbound, config, sender, spam, analysis)
        if window is not None:
            parameters.update(window)
        if lock:
            parameters.update(flood.sender_lock_parameters(customer_email[:254], config))
        existing = session.execute(_first_read(window is not None, lock), parameters).one()
        if existing.claimed is None:
            return PipelineResult(TAKEN_OVER, None, None)
        looked_up = (existing.Customer,)
        ahead = _ReadAhead(
            list(existing.earlier_reports or []) if window is not None else None,
            flood.LockedSender.of(existing) if lock else None,
        )
        if existing.id is None:
            existing = None
    if existing is not None and not _is_copy(existing, sender, parsed):
        # Another sender's mail (or another text) under a Message-ID we already hold: a
        # clash, not a copy. Folding it into the first ticket would lose it silently.
        collided = message_id
        message_id = _collision_message_id(inbound.raw)
        parsed.message_id = message_id
        parsed.defects.append(
            f"Message-ID <{collided[:200]}> already used by another message; stored as a new one"
        )
        log.warning(
            "inbound mail %s reuses Message-ID %r of message %s from another sender or text;"
            " stored as a new message",
            inbound.id,
            collided[:200],
            existing.id,
        )
        serialise_on(session, f"message-id:{message_id}")
        existing = session.execute(_MESSAGE_BY_ID, {"message_id": message_id}).first()
    if existing is not None:
        log.info(
            "inbound mail %s is a copy of message %s (ticket %s)",
            inbound.id,
            message_id,
            existing.ticket_id,
        )
        return PipelineResult(DUPLICATE, existing.ticket_id, existing.id)

    force_ticket = bool(inbound.meta.get("force_ticket"))
    own = own_addresses(session, config)
    reason = automatic_reason(parsed, own)
    # A contact-form question proves nothing about the address typed into it: a subject
    # token would let anyone who knows a customer's address and reference write into that
    # ticket, so the question starts its own (staff may merge). A person typed it, whatever
    # its words or address: one of ours typed makes it no loop and no bounce, and setting it
    # aside told whoever typed an address that it is ours (its page never got a reference).
    # It is a ticket, to triage and never auto-answered (`_new_ticket` with its reason).
    from_form = (inbound.meta or {}).get("source") == "contact_form"
    bounce = bounce_info(parsed, inbound.raw) if reason and not from_form else None
    match = find_conversation(
        session,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        subject="" if from_form else parsed.subject,
        from_address=sender,
        key=str(config["SECRET_KEY"]).encode(),
        preferred_ids=[bounce.original_message_id] if bounce and bounce.original_message_id else [],
        own=own,
        sender_verified=not spam.sender_unverified,
        sender_customer_id=looked_up[0].id if looked_up and looked_up[0] is not None else None,
    )
    # A sender who takes no part in the ticket the mail names (a stranger, or a forged sender)
    # opens a ticket of its own, which refers to that one for staff only; automatic mail of
    # theirs is set aside (below). Only a delivery report on our mail to one of the ticket's
    # people joins it (a bounce comes from a mail server, never a participant): it never
    # reopens, notifies, is answered or joins the Cc list.
    refers_to: Ticket | None = None
    if (
        match is not None
        and not match.sender_takes_part
        and not (reason and _reports_on_its_people(session, match, bounce, own))
    ):
        refers_to, match = match.ticket, None

    if reason and bounce is not None:
        _flag_bounced_addresses(session, bounce, match.ticket if match else None, reason)

    if reason and not force_ticket and not from_form:
        auto_reply = bounce is None and is_auto_reply(parsed)
        if (
            match is None
            and spam.is_spam
            and not _sets_aside_despite_spam(inbound, parsed, bounce, spam, auto_reply=auto_reply)
        ):
            return _hold_as_spam(inbound, spam)
        if match is None:
            if bounce is not None:
                reason = f"{report_label(bounce)}: {reason}"
            elif auto_reply:
                reason = auto_reply_detail(reason)
            log.info("inbound mail %s set aside: automatic (%s), no ticket", inbound.id, reason)
            if refers_to is not None:
                reason = f"{reason}; names {refers_to.reference}, in which its sender takes no part"
            return PipelineResult(SET_ASIDE, None, None, reason)
        message = _add_message(session, match.ticket, parsed, inbound, reason)
        log.info("automatic mail %s stored on %s (%s)", inbound.id, match.ticket.reference, reason)
        return PipelineResult(AUTOMATIC_ON_TICKET, match.ticket.id, message.id, reason)

    if not reason and not spam.sender_unverified:
        staff_reply = _staff_reply(session, parsed, inbound, config)
        if staff_reply is not None:
            return staff_reply

    if match is None:
        known = _known_correspondent(session, sender, spam) if not force_ticket else ""
        if spam.is_spam and not force_ticket and not known:
            return _hold_as_spam(inbound, spam)
        result = _new_ticket(
            session,
            parsed,
            inbound,
            config,
            sender=sender,
            reason=reason,
            spam=spam,
            analysis=analysis,
            looked_up=looked_up,
            ahead=ahead,
            refers_to=refers_to,
        )
        if known:
            _spared_as_known(session, result, inbound, spam, known)
        return result
    if spam.level == CERTAIN and spam.from_trusted_filter and not force_ticket:
        return _hold_as_spam(inbound, spam)

    ticket = match.ticket
    session.refresh(ticket, with_for_update=True)  # one reopen even with two replies racing
    if ticket.status in CLOSED_STATUSES:
        if not config["MAIL_REOPEN_ON_THANKS"] and _only_thanks(parsed):
            message = _add_message(session, ticket, parsed, inbound, reason, spam)
            _audit(session, ticket, "ticket.thanks_kept_closed", {"inbound_mail_id": inbound.id})
            log.info(
                "thank-you %s stored on %s, left %s", inbound.id, ticket.reference, ticket.status
            )
            return PipelineResult(THANKS_ON_CLOSED, ticket.id, message.id, match.via)
        if config["MAIL_REOPEN_MODE"] == "new":
            successor = open_successor(session, ticket)
            if successor is None:
                return _new_ticket(
                    session,
                    parsed,
                    inbound,
                    config,
                    sender=sender,
                    reason=reason,
                    previous=ticket,
                    analysis=analysis,
                    looked_up=looked_up,
                    spam=spam,
                    ahead=ahead,
                )
            ticket = successor
        else:
            _reopen(session, ticket, inbound)
            message = _add_follow_up(session, ticket, parsed, inbound, config, reason, spam)
            return PipelineResult(REOPENED, ticket.id, message.id, match.via)
    message = _add_follow_up(session, ticket, parsed, inbound, config, reason, spam)
    return PipelineResult(FOLLOW_UP, ticket.id, message.id, match.via)


def spam_check(result: PipelineResult) -> SpamCheck | None:
    """What ``queue.mark_processed`` stores of the verdict (None when nothing was checked)."""
    spam = result.spam
    if spam is None or spam.source == NOT_CHECKED.source:
        return None
    return SpamCheck(
        state=spam.level if result.held_as_spam else None,
        score=spam.score,
        detail=spam.detail(result.subject),
    )


def _sets_aside_despite_spam(
    inbound: ClaimedMail,
    parsed: ParsedMail,
    bounce: BounceInfo | None,
    spam: SpamVerdict,
    *,
    auto_reply: bool,
) -> bool:
    """Whether automatic mail the spam check calls spam is set aside as what it is: a mail
    system's report, or an out-of-office (``is_auto_reply``). A real filter's certain verdict
    still holds either.

    A report: ``bounce_info`` read one (a delivery failure, delay or complaint) and it came
    from the null sender or is built as a report (``has_report_structure``), so that phishing
    worded as a delivery failure stays spam. Our learned filter reads the returned mail and the
    MTA's links as an advert's (59 of the 611 corpus bounces), and on the Spam page a bounce
    hides among adverts and "not spam" teaches the filter from it.

    An out-of-office: its signature's website, WeChat id, hotline and phone numbers, or QQ
    Mail's "Re:" subject without In-Reply-To, read as an advert's (4 of the 6 out-of-office
    fixtures of tests/mailrouter/fixtures/realmail, the corpus's rfc3834-04). Set aside, it is
    no ticket and never answered all the same; none of the corpus spam reads as one."""
    if spam.from_trusted_filter and spam.level == CERTAIN:
        return False
    if bounce is None:
        return auto_reply
    # Over SMTP the envelope shows the null sender; IMAP has none (its Return-Path header does).
    null_sender = inbound.channel == "smtp" and inbound.envelope_from in ("", "<>")
    return null_sender or has_report_structure(parsed)


def _hold_as_spam(inbound: ClaimedMail, spam: SpamVerdict) -> PipelineResult:
    """Spam is kept (on the Spam page) but becomes nothing: no ticket, customer or reply."""
    log.info(
        "inbound mail %s held as %s spam (%s, score %s)",
        inbound.id,
        spam.level,
        spam.source,
        spam.score,
    )
    return PipelineResult(SPAM_HELD, None, None, spam.level, held_as_spam=True)


def _staff_wrote_to(customer: Any) -> Any:
    """A staff reply ("out", written by a person) on a ticket, not spam, of such a customer."""
    return (
        select(Message.__table__.c.id)
        .join(Ticket, Ticket.id == Message.__table__.c.ticket_id)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(
            customer,
            Customer.erased_at.is_(None),
            Ticket.status != "spam",
            Message.__table__.c.direction == "out",
            Message.__table__.c.author_id.is_not(None),
        )
        .limit(1)
    )


_STAFF_WROTE_TO = _staff_wrote_to(Customer.email == bindparam("sender"))
_STAFF_WROTE_TO_DOMAIN = _staff_wrote_to(Customer.email.like(bindparam("pattern"), escape="\\"))


def _known_correspondent(session: Session, sender: str, spam: SpamVerdict) -> str:
    """What vouches for a new conversation our learned filter only suspects: the sender's
    address when staff have written to it (on a ticket not marked spam), else its domain when
    a trusted result authenticated that domain and staff have written to an address there
    (``spam.reputation``); "" when nothing does, or something says the sender is forged. A
    real filter's verdict and a certain one still hold the mail. Asked only of suspected mail."""
    if spam.source != BUILTIN or spam.level != SUSPECTED or spam.sender_unverified or not sender:
        return ""
    if session.execute(_STAFF_WROTE_TO, {"sender": sender[:254]}).first() is not None:
        return sender
    domain = correspondent_domain(spam.sender_authenticated)
    if not domain or sender.rpartition("@")[2] != domain:
        return ""
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found = session.execute(_STAFF_WROTE_TO_DOMAIN, {"pattern": f"%@{escaped}"}).first()
    return domain if found is not None else ""


def _spared_as_known(
    session: Session,
    result: PipelineResult,
    inbound: ClaimedMail,
    spam: SpamVerdict,
    known: str,
) -> None:
    log.info(
        "inbound mail %s suspected as spam (score %s) but from %s, which staff wrote to:"
        " ticket %s, no auto-reply",
        inbound.id,
        spam.score,
        known,
        result.ticket_id,
    )
    detail: dict[str, Any] = {
        "score": spam.score,
        "reasons": list(spam.reasons)[:6],
        "inbound_mail_id": inbound.id,
    }
    if "@" not in known:
        detail["domain"] = known
    record_event(
        session,
        "spam.known_correspondent",
        detail,
        ticket_id=result.ticket_id,
        actor_label="system",
        subject_type="ticket",
        subject_id=result.ticket_id,
    )


def _is_copy(existing: Any, sender: str, parsed: ParsedMail) -> bool:
    """Whether a stored message with the same Message-ID is this very mail (another copy)."""
    stored_sender = (existing.from_address or "").strip().lower()
    return (
        stored_sender == sender[:254]
        and (existing.body_text or "").strip() == (parsed.text or "").strip()
    )


def _collision_message_id(raw: bytes) -> str:
    """The id a mail whose Message-ID was taken is stored under; the same bytes, the same id."""
    return f"collision.{hashlib.sha256(raw).hexdigest()[:40]}@{GENERATED_ID_DOMAIN}"


def _staff_reply(
    session: Session, parsed: ParsedMail, inbound: ClaimedMail, config: Mapping[str, Any]
) -> PipelineResult | None:
    """A staff member answering a notification from their mail program: the customer gets it.

    Checked before customer threading, because the notification carries the ticket's subject
    token and Message-ID chain and would otherwise look like the customer writing again.
    """

    target = staff_reply_target(session, parsed, config)
    if target is None:
        return None
    user, ticket = target
    message = handle_staff_mail_reply(session, parsed, user, ticket, config)
    log.info("inbound mail %s is %s answering %s by mail", inbound.id, user.email, ticket.reference)
    return PipelineResult(STAFF_REPLY, ticket.id, message.id if message else None, user.email)


def _reports_on_its_people(
    session: Session, match: ThreadMatch, bounce: BounceInfo | None, own: Collection[str]
) -> bool:
    """Whether automatic mail from someone who takes no part in the matched ticket may still
    join it: a delivery report (or complaint) that names our mail by its Message-ID (not the
    subject's token, not its own headers) and reports on an address that takes part in the
    ticket. Any other automatic mail (an out-of-office, a list, a made-up Auto-Submitted header
    on a stranger's words) is no evidence of anything and adds nothing to the ticket."""
    if bounce is None or not bounce.original_message_id or match.via == SUBJECT_TOKEN:
        return False
    if match.evidence.strip("<> ") != bounce.original_message_id.strip("<> "):
        return False
    reported = [*bounce.failed_recipients, *bounce.delayed_recipients][:MAX_REPORTED]
    return any(takes_part(session, match.ticket, address, own) for address in reported if address)


def _flag_bounced_addresses(
    session: Session, bounce: BounceInfo, ticket: Ticket | None, reason: str
) -> None:
    """Flag the address of the ticket's customer when the bounce reports it failing.

    Anyone can write a bounce: one that names no mail of ours (no ticket), or an address that
    is not the customer of the ticket it names, flags nobody. A forged bounce listing any
    customer's address used to stop our auto-replies to them (emergency advice included).
    """
    if bounce.kind not in ("failure", "complaint"):
        return  # a delay report: the remote server is still trying
    if ticket is None:
        if bounce.failed_recipients:
            log.info(
                "bounce naming no mail of ours: %d addresses not flagged",
                len(bounce.failed_recipients),
            )
        return
    customer = session.get(Customer, ticket.customer_id)
    assert customer is not None  # tickets.customer_id is a non-null foreign key
    own = normalise_address(customer.email)
    named = {normalise_address(a) for a in bounce.failed_recipients if a}
    if not named and bounce.kind != "failure":
        return  # a complaint names the address it is about
    if named and own not in named:
        log.info(
            "bounce on %s names other addresses than its customer's; none flagged", ticket.reference
        )
        return
    addresses = [customer.email]
    label = "complaint (our mail was reported as spam)" if bounce.kind == "complaint" else reason
    details = " ".join(x for x in (bounce.status, bounce.diagnostic) if x)
    flag_failing_address(session, addresses, f"{label}: {details}" if details else label)


def _add_message(
    session: Session,
    ticket: Ticket,
    parsed: ParsedMail,
    inbound: ClaimedMail,
    reason: str | None,
    spam: SpamVerdict = NOT_CHECKED,
) -> Message:
    """The message on a ticket that is already written."""
    message = _new_message(ticket, parsed, inbound, reason, spam)
    insert_new(session, message, *message.attachments)
    return message


#: The To and Cc addresses kept on a message, each. A mail may name up to 50,000 (the parser's
#: bound); every later check of "the conversation's people" (a stranger naming the ticket, each
#: reply with a Cc) reads every stored address of every message, 0.11 s for 60,000. The raw mail
#: keeps them all; the spam filter counts them all before this cut.
MAX_KEPT_RECIPIENTS = 200


def _new_message(
    ticket: Ticket,
    parsed: ParsedMail,
    inbound: ClaimedMail,
    reason: str | None,
    spam: SpamVerdict = NOT_CHECKED,
) -> Message:
    message = Message(
        ticket=ticket,
        direction="in",
        channel=_TICKET_CHANNEL.get(inbound.channel, "email"),
        message_id=parsed.message_id[:998],
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        from_address=(parsed.from_address or inbound.envelope_from or "")[:254],
        from_name=(parsed.from_name or "")[:200],
        to_addresses=list(parsed.to[:MAX_KEPT_RECIPIENTS]),
        cc_addresses=list(parsed.cc[:MAX_KEPT_RECIPIENTS]),
        subject=(parsed.subject or "")[:998],
        body_text=parsed.text,
        new_text=parsed.new_text,
        quoted_text=parsed.quoted_text,
        forwarded_text=parsed.forwarded_text,
        signature=parsed.signature,
        html_sanitized=parsed.html_sanitized,
        language=(parsed.language or "")[:8] or None,
        is_automatic=reason is not None,
        automatic_reason=reason[:200] if reason else None,
        inbound_mail_id=inbound.id,
        parse_defects=list(parsed.defects),
        sender_unverified=spam.sender_unverified[:200] or None,
        date_offset_minutes=own_clock(parsed.date_offset_minutes),
        created_at=inbound.received_at,
    )
    message.attachments = [
        Attachment(
            filename=part.filename[:255],
            content_type=part.content_type[:255],
            size=part.size,
            sha256=hashlib.sha256(part.data).hexdigest() if part.data is not None else "",
            content_id=part.content_id,
            is_inline=part.is_inline,
            data=part.data,
            skipped_reason=part.skipped_reason,
        )
        for part in parsed.attachments
    ]
    return message


def _add_follow_up(
    session: Session,
    ticket: Ticket,
    parsed: ParsedMail,
    inbound: ClaimedMail,
    config: Mapping[str, Any],
    reason: str | None,
    spam: SpamVerdict,
) -> Message:
    message = _add_message(session, ticket, parsed, inbound, reason, spam)
    ticket.last_customer_message_at = inbound.received_at
    snooze.wake_on_customer(session, ticket, inbound.received_at or utcnow())
    if ticket.status == "waiting":
        ticket.status = "open"
        _audit(session, ticket, "ticket.status_changed", {"from": "waiting", "to": "open"})
    routing.route_follow_up(session, ticket, message, inbound, config)
    notify_customer_reply(session, ticket, message, config)
    log.info("inbound mail %s added to %s", inbound.id, ticket.reference)
    return message


def _only_thanks(parsed: ParsedMail) -> bool:
    """A reply that only thanks: nobody need act on it. An attachment is more than thanks."""
    return not parsed.attachments and only_thanks(f"{parsed.subject}\n{parsed.reading_text()}")


def _reopen(session: Session, ticket: Ticket, inbound: ClaimedMail) -> None:
    data = {
        "previous_status": ticket.status,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "inbound_mail_id": inbound.id,
    }
    ticket.status = "open"
    ticket.resolved_at = None
    ticket.closed_at = None
    _audit(session, ticket, "ticket.reopened", data)
    log.info("ticket %s reopened by a reply (inbound mail %s)", ticket.reference, inbound.id)


def _wordless_mail_language(
    session: Session,
    parsed: ParsedMail,
    customer: Customer,
    first_contact: bool,
    config: Mapping[str, Any],
) -> str:
    """The language a mail of no words (a photo alone) is answered in, by the hints at hand:
    the customer's earlier language (as imported, else that of their latest mail with
    words), then the script of the sender's display name ("John Smith" was answered in
    Chinese by a desk whose DEFAULT_LANGUAGE is zh), then the desk's DEFAULT_LANGUAGE (a
    photo from a bare qq.com address was answered in English)."""
    earlier = customer.language
    if not earlier and not first_contact:
        earlier = session.scalar(
            select(Message.language)
            .join(Ticket, Message.ticket_id == Ticket.id)
            .where(
                Ticket.customer_id == customer.id,
                Message.direction == "in",
                Message.language.is_not(None),
                Message.language != "",
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
    return earlier or language_of_name(parsed.from_name) or config.get("DEFAULT_LANGUAGE") or "en"


def _from_authenticated(sender: str, spam: SpamVerdict) -> bool:
    """Whether our MTA's trusted Authentication-Results tied the mail to its sender's domain
    (DMARC pass, or a DKIM signature of that domain): only such mail's From name may name the
    sender's existing customer (``find_or_create_customer``). Anyone can write any display
    name beside any address, in a mail as on the contact form (never judged, so never this)."""
    domain = spam.sender_authenticated
    return bool(domain) and sender.rpartition("@")[2] == domain


def _new_ticket(
    session: Session,
    parsed: ParsedMail,
    inbound: ClaimedMail,
    config: Mapping[str, Any],
    *,
    sender: str,
    reason: str | None,
    previous: Ticket | None = None,
    analysis: Analysis,
    spam: SpamVerdict = NOT_CHECKED,
    looked_up: tuple[Customer | None] | None = None,
    ahead: _ReadAhead = _NOTHING_AHEAD,
    refers_to: Ticket | None = None,
) -> PipelineResult:
    """``looked_up``: the sender's customer as the transaction read it, (None,) for none
    (None: not read yet); ``ahead``: what the transaction read with it (see _ReadAhead).
    ``refers_to``: the ticket the mail named although its sender takes no part in it: linked
    for staff, nothing of it taken over (department, subject) and nothing of it in the
    auto-reply."""
    customer, first_contact = find_or_create_customer(
        session,
        sender or UNKNOWN_SENDER,
        parsed.from_name,
        looked_up=looked_up,
        name_existing=_from_authenticated(sender, spam),
    )
    language = parsed.language or _wordless_mail_language(
        session, parsed, customer, first_contact, config
    )
    ticket = Ticket(
        subject=ticket_subject(parsed),
        customer_id=customer.id,
        channel=_TICKET_CHANNEL.get(inbound.channel, "email"),
        language=language[:8],
        status="new",
        urgency=2,
        # Mail we cannot answer (automatic, no sender) needs a person to look first.
        needs_triage=bool(reason) or not sender,
        created_at=inbound.received_at,
        updated_at=utcnow(),
        last_customer_message_at=inbound.received_at,
        previous_ticket_id=previous.id if previous is not None else None,
        refers_to_ticket_id=refers_to.id if refers_to is not None else None,
        department_id=previous.department_id if previous is not None else None,
    )
    # Known to the ticket without a change to the customer's (unloaded) list of tickets.
    set_committed_value(ticket, "customer", customer)
    message = _new_message(ticket, parsed, inbound, reason, spam)
    # Routed before anything is written, so one INSERT carries the department, urgency and
    # due times. Everything after refers to these rows.
    routing.route_new_ticket(
        session,
        ticket,
        message,
        inbound,
        config,
        prediction=analysis.prediction,
        first_contact=first_contact,
        # Read for the customer found then: not for one another worker created meanwhile.
        earlier_reports=(
            ahead.earlier_reports if looked_up is not None and looked_up[0] is customer else None
        ),
    )
    insert_new(session, ticket, message, *message.attachments, derived={ticket: ticket_reference})
    search.index_new_ticket(session, ticket, customer, [message], analysis.search_words)
    _audit(
        session,
        ticket,
        "ticket.created",
        {
            "channel": ticket.channel,
            "inbound_mail_id": inbound.id,
            "from": sender,
            "previous_ticket_id": ticket.previous_ticket_id,
            "refers_to_ticket_id": ticket.refers_to_ticket_id,
            "automatic_reason": reason,
        },
    )
    routing.announce_new_ticket(session, ticket, message, config)
    withheld = auto_reply_step(inbound, sender, spam, config) if reason is None else None
    if withheld:
        log.info("no auto-reply for ticket %s: %s", ticket.reference, withheld)
        _audit(session, ticket, "auto_reply_skipped", {"reason": withheld})
    elif withheld == "":
        # Only SMTP knows the envelope; "" there is MAIL FROM:<> (RFC 3834: never answer).
        envelope_from = inbound.envelope_from if inbound.channel == "smtp" else None
        autoreply.after_new_ticket(
            session,
            ticket,
            message,
            parsed,
            config,
            envelope_from=envelope_from,
            prepared=analysis.answers,
            locked_sender=ahead.locked_sender,
        )
    log.info("inbound mail %s opened ticket %s for %s", inbound.id, ticket.reference, sender)
    outcome = NEW_TICKET if previous is None else NEW_TICKET_AFTER_CLOSED
    return PipelineResult(outcome, ticket.id, message.id)


def _may_auto_reply(inbound: ClaimedMail, config: Mapping[str, Any], spam: SpamVerdict) -> bool:
    """Never to a forged sender or spam; to mail staff released from the Spam page only
    while it is recent (SPAM_RELEASE_AUTOREPLY_HOURS): an answer days later confuses."""
    if spam.sender_unverified or spam.is_spam:
        return False
    if inbound.meta.get("spam_released"):
        window = timedelta(hours=float(config["SPAM_RELEASE_AUTOREPLY_HOURS"]))
        return utcnow() - inbound.received_at <= window
    return True


def _spam_withholds_auto_reply(spam: SpamVerdict, config: Mapping[str, Any]) -> str:
    """Why a ticket gets no auto-reply although its mail was not held ("" if it may get one):
    a spam score in the band from SPAM_NO_AUTOREPLY_SCORE up to the held mail's. Most spam the
    filter lets through scores there, and an answer to it goes to a forged or harvested address
    (backscatter); a customer whose mail scores there still gets a ticket and a person's reply."""
    limit = float(config["SPAM_NO_AUTOREPLY_SCORE"])
    if spam.score is None or spam.score < limit:
        return ""
    return f"{SKIP_SPAM_SCORE}: {spam.score:g} >= SPAM_NO_AUTOREPLY_SCORE {limit:g} ({spam.source})"


def _audit(session: Session, ticket: Ticket, action: str, data: dict[str, Any]) -> None:
    record_event(
        session,
        action,
        data,
        ticket_id=ticket.id,
        actor_label="customer",
        subject_type="ticket",
        subject_id=ticket.id,
    )
