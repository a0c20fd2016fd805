"""How the shipped model is made: which mails it learns from and which are kept out of it.

Used by ``bench/spam_train.py`` (which writes ``shipped_model.npz``) and
``bench/spam_eval.py``; the product never reads the corpus (it is beside the checkout, under
``../shared/corpora``, and may be absent). The spam is ``spamassassin/spam-1``; the ham is
``spamassassin/easy-ham-1`` plus the project's own customer mails in both languages (the
routing classifier's bootstrap examples and the demo mails), so that Chinese customer mail is
learned as ham. Beside them, mails the project wrote itself (``bench/spam_data/``): spam in
Chinese (simplified and traditional), Korean, Japanese, German, other languages and English
(adverts, invoices, loans, gambling, phishing, fake replies to a conversation that never was,
stock tips), and ordinary personal and business mail in the same languages (price enquiries,
real replies that name the mail they answer, short customer mails with a link, a price, a
phone number or a WeChat/LINE id), so that a language is no sign either way, and longer
ones (``*-c.jsonl``: English and Chinese customer mails of 300-600 characters about orders,
refunds, invoices, B2B enquiries and fraud they worry about; English cold outreach and
phishing), so that a long customer mail is not unlike everything learned as ham, and vendor
and accounts-payable mail (``*-en-e.jsonl``: W-9 and supplier forms, remit-to notices, POs,
RFQs, statements, press and job mail, some with a link to the sender's own site; beside fake
invoices, payment and W-9 phishing and cold offers to a finance address), so that one link,
an amount and the words of a vendor's mail are not signs of spam by themselves, and HTML
business mail (``*-h.jsonl``, sent HTML-only: quote requests, POs, invoices, statements,
distributor and trade-show mail, B2B newsletters, with the sender's logo or signature as a
remote image and tables; beside phishing invoices, fake orders and stock tips of the same
look), so that a logo and HTML are not signs of spam: before them no written ham had an image,
and one weighed +3.1 points (a quote request for 120 dehumidifiers was held). Every fifth
file by sorted name (and every fifth own or written mail of each file) is held out for the
evaluation and never trained on.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from importlib import resources
from pathlib import Path

from mailrouter.spam.model import CUSTOMER, HAM, SPAM
from support.core.db import utcnow

HELD_OUT_EVERY = 5
#: The mails the project wrote (one JSON object a line: from, subject, body, and optionally
#: reply_to, html, list, and in_reply_to: true for a real reply, which names the mail it
#: answers as mail clients do); beside the checkout's bench scripts, not in the wheel.
WRITTEN_DIR = Path(__file__).resolve().parents[2] / "bench" / "spam_data"


@dataclass(frozen=True)
class LabelledMail:
    name: str
    raw: bytes
    is_spam: bool
    kind: str  # "spam", "easy-ham", "own-en", "own-zh", "written-spam-ko", "written-ham-zh"...


#: A written mail counts as this many mails: there are few of them, and they are the only
#: examples of most languages' spam (their words would otherwise stay near neutral).
WRITTEN_WEIGHT = 1


def label_of(mail: LabelledMail) -> str:
    """The model's class for a training mail. Our own mails (the customer mails, and the
    written ham in every language) are their own kind of ham: the written ham sits with the
    customer mails so that each language's share of that ham is near its share of the
    written spam, and no language is a sign either way."""
    if mail.is_spam:
        return SPAM
    return CUSTOMER if mail.kind.startswith(("own", "written")) else HAM


def weight_of(mail: LabelledMail) -> int:
    """How many mails one training mail counts as."""
    return WRITTEN_WEIGHT if mail.kind.startswith("written") else 1


def _corpus_file(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw.startswith(b"From "):  # the mbox separator line
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


def _own_mail(
    subject: str,
    body: str,
    sender: str,
    to: str,
    *,
    reply_to: str = "",
    html: bool = False,
    list_id: str = "",
    in_reply_to: str = "",
    alternative: bool = False,
    rich_text: bool = False,
) -> bytes:
    """One mail as a client sends it; ``alternative`` adds the HTML copy of the text that
    webmail and desktop clients (Gmail, QQ Mail, 163, Outlook, Foxmail) send beside it, and
    ``rich_text`` sends the text as HTML only, as Outlook on the web and Alibaba Mail send a
    mail written in rich text."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = sender.rpartition("@")[2].strip(">") or "customer.example.net"
    message["Message-ID"] = make_msgid(domain=domain)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    if list_id:
        message["List-Id"] = f"<{list_id}>"
        message["List-Unsubscribe"] = f"<mailto:leave-{list_id}>"
    as_html = "".join(f"<div>{htmllib.escape(line) or '<br>'}</div>" for line in body.split("\n"))
    if rich_text and not html:
        message.set_content(as_html, subtype="html")
        return message.as_bytes()
    message.set_content(body, subtype="html" if html else "plain")
    if alternative and not html:
        message.add_alternative(as_html, subtype="html")
    return message.as_bytes()


#: Of every ALTERNATIVE_OF written or own training mails (by a hash of its name, spam and ham
#: alike), all but one are sent with an HTML copy, as most mail clients send mail: otherwise
#: an HTML part would be a sign of the corpus spam only, and every short customer mail from
#: webmail would look like an HTML advert with little text. The held-out mails stay as they
#: were (text only), so bench/spam_eval.py's figures compare with earlier ones.
ALTERNATIVE_OF = 3


def sent_with_html(name: str, index: int) -> bool:
    """Whether the training mail ``name``, the ``index``-th of its list, has an HTML copy."""
    if index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1:
        return False
    return zlib.crc32(name.encode("utf-8")) % ALTERNATIVE_OF != 0


#: Of the written or own training mails sent without an HTML copy, one in RICH_TEXT_OF is
#: sent as HTML only (by the same hash, spam and ham alike), as Outlook on the web and Alibaba
#: Mail send rich text: otherwise only the corpus spam is HTML-only, and the fit made that
#: +9.6 points (format 9 kept half of it), which held business mail from those clients
#: (bench/spam_fresh_4 to _6). The held-out mails stay text only.
RICH_TEXT_OF = 2


def sent_as_rich_text(name: str, index: int) -> bool:
    """Whether the training mail ``name``, the ``index``-th of its list, is sent HTML-only."""
    if index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 or sent_with_html(name, index):
        return False
    return (zlib.crc32(name.encode("utf-8")) // ALTERNATIVE_OF) % RICH_TEXT_OF == 0


def written_mails(folder: Path = WRITTEN_DIR) -> list[tuple[str, list[LabelledMail]]]:
    """The spam and ham the project wrote, per file ("spam-ko.jsonl": kind written-spam-ko);
    none when the folder is absent (an installed package has no bench/)."""
    groups = []
    for path in sorted(folder.glob("*.jsonl")):
        label, _dash, language = path.stem.partition("-")
        is_spam = label == "spam"
        kind = f"written-{label}-{language}"
        mails = []
        lines = path.read_text("utf-8").splitlines()
        for number, line in enumerate(filter(None, (x.strip() for x in lines))):
            item = json.loads(line)
            sender = str(item["from"])
            raw = _own_mail(
                str(item["subject"]),
                str(item["body"]),
                sender,
                "Recipient <someone@example.net>",
                reply_to=str(item.get("reply_to", "")),
                html=bool(item.get("html")),
                list_id=f"news.{sender.rpartition('@')[2].strip('>')}" if item.get("list") else "",
                in_reply_to=f"<{kind}-{number:03d}@example.net>" if item.get("in_reply_to") else "",
                alternative=sent_with_html(f"{path.stem}-{number:03d}", number),
                rich_text=sent_as_rich_text(f"{path.stem}-{number:03d}", number),
            )
            mails.append(LabelledMail(f"{path.stem}-{number:03d}", raw, is_spam, kind))
        groups.append((kind, mails))
    return groups


def own_customer_mails() -> list[LabelledMail]:
    """The routing bootstrap examples and the demo mails, as mail a customer would send."""
    mails = []
    data = resources.files("mailrouter.routing.training_data") / "bootstrap.csv"
    rows = csv.DictReader(io.StringIO(data.read_bytes().decode("utf-8"), newline=""))
    for number, row in enumerate(rows):
        raw = _own_mail(
            row["subject"],
            row["body"],
            "Customer <customer@example.net>",
            "support@example.com",
            alternative=sent_with_html(f"bootstrap-{number:04d}", number),
            rich_text=sent_as_rich_text(f"bootstrap-{number:04d}", number),
        )
        kind = "own-zh" if row.get("language") == "zh" else "own-en"
        mails.append(LabelledMail(f"bootstrap-{number:04d}", raw, False, kind))
    demo = resources.files("support").joinpath("demo_data/demo_mail.json").read_text("utf-8")
    first = len(mails)  # the demo mails follow in the list that _split divides
    for number, item in enumerate(json.loads(demo)):
        raw = _own_mail(
            item["subject"],
            item["body"],
            item["from"],
            item["to"],
            alternative=sent_with_html(f"demo-{number:02d}", first + number),
            rich_text=sent_as_rich_text(f"demo-{number:02d}", first + number),
        )
        language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in item["body"]) else "en"
        mails.append(LabelledMail(f"demo-{number:02d}", raw, False, f"own-{language}"))
    return mails


def _split(items: list[LabelledMail]) -> tuple[list[LabelledMail], list[LabelledMail]]:
    train = [m for i, m in enumerate(items) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    held = [m for i, m in enumerate(items) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    return train, held


def corpus_mails(corpora: Path) -> Iterator[tuple[str, list[LabelledMail]]]:
    root = corpora / "spamassassin"
    for folder, is_spam, kind in (("spam-1", True, "spam"), ("easy-ham-1", False, "easy-ham")):
        files = sorted((root / folder).glob("*.eml"))
        yield (
            kind,
            [LabelledMail(f"{folder}/{p.name}", _corpus_file(p), is_spam, kind) for p in files],
        )


def split(corpora: Path) -> tuple[list[LabelledMail], list[LabelledMail]]:
    """(training mails, held-out mails): every fifth of each source is held out."""
    train: list[LabelledMail] = []
    held: list[LabelledMail] = []
    for _kind, mails in corpus_mails(corpora):
        a, b = _split(mails)
        train += a
        held += b
    for _kind, mails in written_mails():
        a, b = _split(mails)
        train += a
        held += b
    a, b = _split(own_customer_mails())
    return train + a, held + b
