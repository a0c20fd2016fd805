"""Demo content for `support init`: a bilingual FAQ and a few routed tickets, so a newcomer sees a
living system. The tickets come in as real mail through the same queue and worker as SMTP mail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from importlib import resources

from flask import Flask
from sqlalchemy import func, select

from faq import index_sync
from faq.importexport import import_articles
from faq.models import Article
from mailrouter.intake.queue import department_addresses, department_for_recipients, store_inbound
from mailrouter.intake.worker import Worker
from support.core.db import get_db, utcnow
from support.desk.models import Department, Ticket

#: The demo FAQ's made-up addresses and whose real address each one names: a customer who
#: writes to the address an article gives must reach this desk (support@lumenhome.example was
#: refused by the SMTP intake as no address of ours).
DEMO_ADDRESSES = {
    "support@lumenhome.example": None,  # the general address (MAIL_GENERAL_ADDRESS)
    "business@lumenhome.example": "sales",
    "jobs@lumenhome.example": "hr",
}


def demo_mail() -> list[dict[str, str]]:
    text = resources.files("support").joinpath("demo_data/demo_mail.json").read_text("utf-8")
    return json.loads(text)


def build_demo_message(item: dict[str, str]) -> bytes:
    message = EmailMessage()
    message["From"] = item["from"]
    message["To"] = item["to"]
    message["Subject"] = item["subject"]
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="demo.example.net")
    message.set_content(item["body"])
    return message.as_bytes()


def with_desk_addresses(text: str, general: str, by_department: dict[str, str]) -> str:
    """The demo FAQ's text with its made-up addresses replaced by this desk's own (the general
    address, a department's); one whose department or general address is missing stays."""
    for made_up, code in DEMO_ADDRESSES.items():
        real = general if code is None else by_department.get(code, "")
        if real and "@" in real and '"' not in real and "\\" not in real:
            text = text.replace(made_up, real)
    return text


def load_demo_content(app: Flask) -> Iterator[str]:
    """Load the demo FAQ and demo tickets once; yields lines describing what was done."""

    database = get_db(app)
    with database.session() as session:
        has_articles = session.execute(select(func.count()).select_from(Article)).scalar_one() > 0
        if not has_articles:
            source = resources.files("faq").joinpath("demo_content.json")
            text = with_desk_addresses(
                source.read_text("utf-8"),
                str(app.config.get("MAIL_GENERAL_ADDRESS") or ""),
                {d.code: d.email_address for d in session.scalars(select(Department))},
            )
            counts = import_articles(session, json.loads(text))
    if not has_articles:
        yield f"demo FAQ: {counts.created} articles in {counts.categories_created} categories"
    yield f"search index: {index_sync.ensure_index(app)} articles indexed"

    with database.session() as session:
        if session.execute(select(func.count()).select_from(Ticket)).scalar_one() > 0:
            return
        addresses = department_addresses(session)
        for item in demo_mail():
            store_inbound(
                session,
                channel="smtp",
                raw=build_demo_message(item),
                envelope_from=item["from"].split("<")[-1].rstrip(">"),
                envelope_to=[item["to"]],
                department_code=department_for_recipients([item["to"]], addresses),
            )
    processed = Worker(app).run_until_idle()
    yield f"demo tickets: {processed} demo mails received and routed"
