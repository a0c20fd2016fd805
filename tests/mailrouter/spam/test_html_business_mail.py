"""A buyer's HTML-only quote request with a logo is a sales lead, not spam.

A quote request for 120 dehumidifiers, sent HTML-only with the buyer's logo as a remote
image, was held at 7.6 points: one image +3.1 (no written training ham had an image), HTML
only +2.3, and "stock tip" +2.1 for "target price", a buyer's words in any quote request.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from mailrouter.parsing import parse_message
from mailrouter.spam import verdict
from mailrouter.spam.features import mail_tokens
from support.core.db import utcnow
from tests.mailrouter.conftest import process_all

CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0, "SPAM_FILTER_ENABLED": True}

_QUOTE_REQUEST = (
    '<html><body><p><img src="https://www.dryair-solutions.example/mail/logo.png" width="170"'
    ' height="50" alt="DryAir Solutions"></p><p>Hello,</p><p>Please quote <b>120'
    " dehumidifiers</b> (DH-50 or equivalent) for our cold-storage sites.</p>"
    '<table border="1"><tr><td>Quantity</td><td>120 units</td></tr><tr><td>Delivery</td>'
    "<td>Rotterdam, before February 15</td></tr><tr><td>Target price</td><td>EUR 150 per unit"
    "</td></tr></table><p>Please confirm stock, lead time and payment terms.</p>"
    "<p>Pieter de Vries<br>Purchasing, DryAir Solutions B.V.</p></body></html>"
)


def _html_only(sender: str, subject: str, html: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "sales@example.com"
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = "<DB9PR04MB8421A7C1@DB9PR04MB8421.eurprd04.prod.outlook.com>"
    message.set_content(html, subtype="html")
    return message.as_bytes()


def _quote_request() -> bytes:
    return _html_only(
        "Pieter de Vries <p.devries@dryair-solutions.example>",
        "Quotation request: 120 dehumidifiers",
        _QUOTE_REQUEST,
    )


def _judge(raw: bytes, tmp_path: Path) -> verdict.SpamVerdict:
    return verdict.judge(raw, parse_message(raw), CONFIG, instance_path=tmp_path)


def test_a_target_price_in_a_quote_request_is_no_stock_tip() -> None:
    raw = _quote_request()
    tokens = mail_tokens(parse_message(raw), raw)
    assert "h:html-only" in tokens and "h:images-1" in tokens
    assert "b:stock-tip" not in tokens


def test_a_stock_tip_with_a_price_target_is_still_one() -> None:
    raw = _html_only(
        "Market Alerts <alerts@pennypicks.example>",
        "Symbol: KRNX is set to soar",
        "<p>Shares are poised to triple. Analysts rate KRNX a strong buy, price target $3.</p>",
    )
    assert "b:stock-tip" in mail_tokens(parse_message(raw), raw)


def test_an_html_quote_request_with_a_logo_gets_a_ticket_and_an_answer(app, session) -> None:
    judged = _judge(_quote_request(), Path(app.instance_path))
    assert judged.score is not None and judged.score < 3.0, judged.reasons
    inbound = queue.store_inbound(
        session, channel="smtp", raw=_quote_request(), department_code="sales"
    )
    session.commit()
    process_all(app)
    session.expire_all()
    stored = session.get(InboundMail, inbound.id)
    assert stored.spam_state not in verdict.SPAM_LEVELS
    assert stored.ticket_id is not None


def test_the_same_look_as_phishing_is_still_held(tmp_path) -> None:
    # A logo, a table and HTML only are no sign either way now; the phishing's words and its
    # link to a cheap domain still hold it.
    raw = _html_only(
        "Procurement <buyer@global-sourcing-buyers.example>",
        "Purchase order PO#88310 - please confirm",
        '<p><img src="https://global-sourcing-buyers.example/logo.png" width="160"'
        ' height="50"></p><p>Dear Supplier,</p><p>We would like to order 5,000 units. Kindly'
        " view our purchase order in the secure document below:</p><p><a href="
        '"https://docs-view-secure.top/po/88310">View Purchase Order PO#88310.pdf</a></p>'
        "<p>You must sign in with your email password to open the document.</p>",
    )
    assert _judge(raw, tmp_path).is_spam
