"""Staff's "spam / not spam" decisions, the install's model learned from them, and the purge.

A decision stores the mail (``SpamExample``); ``retrain`` rebuilds the install's model as the
shipped model's training mails plus every decision (each counting ``STAFF_DECISION_WEIGHT``
mails: they are about this install's own mail), fitted again (a few seconds), and writes it
atomically, and workers pick it up on their next mail (``verdict.current_model`` reloads a
changed file). "Not spam" teaches the customer-mail class of ham. Nothing is learned from
mail nobody looked at.

Held spam is kept for SPAM_KEEP_DAYS (suspected) or SPAM_CERTAIN_KEEP_DAYS (certain) and
then deleted; the decisions staff made stay, so the filter does not forget.
"""

from __future__ import annotations

import functools
import logging
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mailrouter.models import InboundMail, SpamExample
from mailrouter.parsing import parse_message
from mailrouter.spam import verdict
from mailrouter.spam.features import mail_tokens
from mailrouter.spam.model import (
    CUSTOMER,
    SPAM,
    is_current_format,
    load_model,
    shipped_model_path,
)
from support.core.db import Database, get_db, utcnow
from support.core.runner import PeriodicTask, Service
from support.desk.models import Setting

log = logging.getLogger(__name__)

SPAM_LABEL = "spam"
HAM_LABEL = "ham"
#: A staff decision counts as this many mails of the shipped corpus.
STAFF_DECISION_WEIGHT = 3
#: Bytes of a mail kept for learning (the text and headers the filter reads are near the top).
MAX_EXAMPLE_BYTES = 256 * 1024
_TRAINED_ON_KEY = "spam_model.trained_on"


def record_decision(
    session: Session,
    *,
    raw: bytes,
    label: str,
    inbound_mail_id: int | None = None,
    ticket_id: int | None = None,
    user_id: int | None = None,
) -> SpamExample:
    """Remember one decision; the next ``retrain`` learns it. The caller commits."""
    if label not in (SPAM_LABEL, HAM_LABEL):
        raise ValueError(f"label must be spam or ham, not {label!r}")
    example = SpamExample(
        label=label,
        raw=bytes(raw[:MAX_EXAMPLE_BYTES]),
        inbound_mail_id=inbound_mail_id,
        ticket_id=ticket_id,
        user_id=user_id,
    )
    session.add(example)
    return example


@dataclass(frozen=True)
class RetrainResult:
    trained: bool
    examples: int
    message: str


@functools.cache  # a package's files do not change while it runs
def _fingerprint_of(shipped: Path) -> str:
    """Which shipped model an install's model is built on: a release whose shipped model was
    retrained on new training mails (same format, so the file alone looks current) must
    rebuild the install's model too, not only the next staff decision."""
    try:
        return f"{zlib.crc32(shipped.read_bytes()):08x}"
    except OSError:
        return "unreadable"


def retrain(
    database: Database,
    config: Mapping[str, Any],
    instance_path: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
) -> RetrainResult:
    """Rebuild the install's model from the shipped training mails and all decisions, when
    either changed since the last time (a new decision, or a release's new shipped model), or
    ``force``."""
    path = verdict.model_path(config, instance_path)
    with database.read_session() as session:
        count, last_id = session.execute(
            select(func.count(SpamExample.id), func.max(SpamExample.id))
        ).one()
        marker = session.scalar(select(Setting.value).where(Setting.key == _TRAINED_ON_KEY))
    shipped = shipped_model_path()
    fingerprint = f"{count}:{last_id or 0}:{_fingerprint_of(shipped)}"
    # A file of an older format (written before an upgrade) is rebuilt from the decisions.
    if not count or (not force and marker == fingerprint and is_current_format(path)):
        return RetrainResult(False, count, "no new spam decisions")
    model = load_model(shipped)
    if model is None:
        return RetrainResult(False, count, "the shipped spam model cannot be read")
    with database.read_session() as session:
        for label, raw in session.execute(select(SpamExample.label, SpamExample.raw)):
            tokens = mail_tokens(parse_message(raw), raw)
            target = SPAM if label == SPAM_LABEL else CUSTOMER
            model.add(tokens, label=target, times=STAFF_DECISION_WEIGHT)
    model.refresh()
    model.save(path)
    verdict.forget_model()
    with database.session() as session:
        verdict.SHARED_MODEL.publish(session, path, fingerprint)
        setting = session.scalar(select(Setting).where(Setting.key == _TRAINED_ON_KEY))
        if setting is None:
            session.add(Setting(key=_TRAINED_ON_KEY, value=fingerprint))
        else:
            setting.value = fingerprint
    message = f"spam model retrained on the shipped corpus and {count} staff decisions"
    log.info("%s: %s", message, path)
    return RetrainResult(True, count, message)


def purge_held_spam(
    session: Session, config: Mapping[str, Any], *, now: datetime | None = None
) -> int:
    """Delete held spam older than its keeping time; returns how many. The caller commits."""
    moment = now or utcnow()
    deleted = 0
    for state, days in (
        (verdict.SUSPECTED, config["SPAM_KEEP_DAYS"]),
        (verdict.CERTAIN, config["SPAM_CERTAIN_KEEP_DAYS"]),
    ):
        result = session.execute(
            delete(InboundMail).where(
                InboundMail.spam_state == state,
                InboundMail.ticket_id.is_(None),
                InboundMail.state == "processed",
                InboundMail.received_at < moment - timedelta(days=float(days)),
            )
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    if deleted:
        log.info("purged %s held spam mails past their keeping time", deleted)
    return deleted


def services(app: Flask) -> list[Service]:
    """For `support run`: purge old spam and retrain on new decisions every few minutes."""
    minutes = float(app.config["SPAM_MAINTENANCE_MINUTES"])
    if minutes <= 0:
        return []

    def maintain() -> None:
        database = get_db(app)
        with database.session() as session:
            purge_held_spam(session, app.config)
        retrain(database, app.config, app.instance_path)

    return [PeriodicTask("spam-maintenance", minutes * 60, maintain)]
