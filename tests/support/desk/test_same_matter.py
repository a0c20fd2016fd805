"""The "another ticket of this customer about the same matter, merge?" offer needs a sign:
a customer's unrelated questions in one week are not duplicates (support.desk.same_matter)."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from support.core.db import utcnow
from support.desk.models import Ticket
from support.desk.same_matter import RECENT_DAYS, order_numbers, same_matter, subject_words
from tests.factories import make_customer, make_ticket, make_user
from tests.mailrouter.conftest import make_mail, queue_and_process
from tests.support.staff_helpers import login


def test_order_numbers_are_read_after_the_word_order_in_english_and_chinese() -> None:
    assert order_numbers("My order number is 88240193.") == {"88240193"}
    assert order_numbers("Order no. A-77301, paid by card") == {"A77301"}
    assert order_numbers("我的订单号是 88240193。") == {"88240193"}
    assert order_numbers("訂單編號：88240193") == {"88240193"}
    # Not an order: a year, a phone number, a bare amount, "ordered" long before a date.
    assert order_numbers("I ordered a kettle on 12 March 2026, call 13912345678") == set()
    assert order_numbers("order 2026") == set()
    assert order_numbers("x" * 100_000 + " order 12345") == set()  # bounded work


def test_same_subject_after_re_fwd_and_the_token_is_the_same_matter(session) -> None:
    alice = make_customer(session)
    first = make_ticket(session, customer=alice, subject="Kettle stopped heating")
    again = make_ticket(session, customer=alice, subject="Re: [#SUP-1] kettle  stopped heating")
    other = make_ticket(session, customer=alice, subject="Invoice for March", body="Send it.")
    assert same_matter(first, again) and same_matter(again, first)
    assert not same_matter(first, other)


def test_an_order_number_in_common_is_the_same_matter(session) -> None:
    alice = make_customer(session)
    first = make_ticket(session, customer=alice, subject="Broken lid", body="Order 88240193.")
    again = make_ticket(session, customer=alice, subject="Still waiting", body="订单号 88240193")
    third = make_ticket(session, customer=alice, subject="Still waiting!", body="order 11112222")
    assert same_matter(first, again)
    assert not same_matter(first, third)


def test_the_ticket_page_offers_no_merge_for_an_unrelated_ticket(client, session) -> None:
    agent = make_user(session)
    alice = make_customer(session)
    kettle = make_ticket(session, customer=alice, subject="Kettle stopped heating")
    invoice = make_ticket(session, customer=alice, subject="Invoice for March", body="Send it.")
    again = make_ticket(session, customer=alice, subject="RE: Kettle stopped heating")
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{kettle.id}?lang=en").get_data(as_text=True)
    notice = page[page.index('data-testid="open-duplicates"') :].split("</div>", 1)[0]
    assert again.reference in notice and invoice.reference not in notice
    page = client.get(f"/staff/tickets/{invoice.id}?lang=en").get_data(as_text=True)
    assert 'data-testid="open-duplicates"' not in page


class Mailed(NamedTuple):
    id: int
    reference: str
    customer_id: int


def _mailed(app, session, sender: str, subject: str, body: str, days_ago: float = 0) -> Mailed:
    """One customer mail through the real intake (no In-Reply-To, no token): its ticket."""
    ticket = queue_and_process(app, session, make_mail(sender=sender, subject=subject, body=body))
    ticket.created_at -= timedelta(days=days_ago)
    mailed = Mailed(ticket.id, ticket.reference, ticket.customer_id)
    session.commit()
    # Nothing read stays open while the app writes (SQLite's lock): plain values only.
    session.expunge_all()
    return mailed


def _offered(client, ticket_id: int, lang: str = "en") -> str:
    """The ticket page's same-matter notice ('' when there is none)."""
    page = client.get(f"/staff/tickets/{ticket_id}?lang={lang}").get_data(as_text=True)
    if 'data-testid="open-duplicates"' not in page:
        return ""
    return page[page.index('data-testid="open-duplicates"') :].split("</div>", 1)[0]


def test_a_new_thread_about_the_same_thing_is_offered_for_a_merge(app, session, client) -> None:
    # Wang Fang wrote "Kettle leaks" yesterday and, in a new mail (new subject, no
    # In-Reply-To), "Kettle again" today: two tickets, and neither page said so, because
    # the subjects differ and neither mail names an order.
    agent_email = make_user(session).email
    wang = "Wang Fang <wang.fang@example.net>"
    leaks = _mailed(app, session, wang, "Kettle leaks", "Water under the kettle.", days_ago=1)
    again = _mailed(app, session, wang, "Kettle again", "It is leaking again, see above.")
    invoice = _mailed(app, session, wang, "Invoice for March", "Please send the invoice.")
    old = _mailed(app, session, wang, "Kettle handle loose", "The handle wobbles.", days_ago=60)
    li = "Li Lei <li.lei@example.net>"
    stranger = _mailed(app, session, li, "Kettle leaks too", "Mine leaks as well.")
    ids = leaks.id, again.id, invoice.id, old.id, stranger.id
    assert len(set(ids)) == 5 and leaks.customer_id == again.customer_id != stranger.customer_id
    login(client, agent_email)

    notice = _offered(client, leaks.id)
    assert again.reference in notice and f"Merge {again.reference} into this ticket" in notice
    assert invoice.reference not in notice  # another matter of the same customer
    assert old.reference not in notice  # two months apart: not the same matter by a word
    assert stranger.reference not in notice  # never another customer's ticket
    assert leaks.reference in _offered(client, again.id)
    assert _offered(client, invoice.id) == ""

    # Resolved yesterday, the kettle ticket is still offered: merging reopens it.
    _resolve(session, leaks.id, days_ago=1)
    notice = _offered(client, again.id)
    assert f"Merge this ticket into {leaks.reference}" in notice and "resolved" in notice
    _resolve(session, leaks.id, days_ago=RECENT_DAYS + 1)  # long done: a matter of the past
    assert _offered(client, again.id) == ""


def _resolve(session, ticket_id: int, days_ago: float) -> None:
    ticket = session.get(Ticket, ticket_id)
    ticket.status, ticket.resolved_at = "resolved", utcnow() - timedelta(days=days_ago)
    session.commit()
    session.expunge_all()


def test_the_same_thing_in_chinese_in_a_new_thread_is_offered_too(app, session, client) -> None:
    agent_email = make_user(session).email
    wang = "Wang Fang <wang.fang@example.net>"
    first = _mailed(app, session, wang, "电水壶漏水", "水壶底下都是水。", days_ago=1)
    again = _mailed(app, session, wang, "水壶又坏了", "还是漏水。")
    other = _mailed(app, session, wang, "发票问题", "请开发票。")
    login(client, agent_email)
    notice = _offered(client, first.id, "zh")
    assert again.reference in notice and other.reference not in notice


def test_a_shared_word_is_not_the_same_matter_when_the_orders_differ(session) -> None:
    alice = make_customer(session)
    one = make_ticket(session, customer=alice, subject="Refund please", body="Order 11112222.")
    two = make_ticket(session, customer=alice, subject="Refund again", body="Order 33334444.")
    three = make_ticket(session, customer=alice, subject="Refund again?", body="Where is it?")
    assert not same_matter(one, two)
    assert same_matter(two, three) and same_matter(one, three)


def test_generic_words_are_no_sign_of_the_same_matter(session) -> None:
    alice = make_customer(session)
    one = make_ticket(session, customer=alice, subject="Question about my kettle", body="-")
    two = make_ticket(session, customer=alice, subject="Question about the invoice", body="-")
    three = make_ticket(session, customer=alice, subject="请问发票问题", body="-")
    four = make_ticket(session, customer=alice, subject="请问退货问题", body="-")
    assert not same_matter(one, two) and not same_matter(three, four)
    fan = make_ticket(session, customer=alice, subject="Fan broken, not working", body="-")
    kettle = make_ticket(session, customer=alice, subject="Kettle broken", body="-")
    fan_zh = make_ticket(session, customer=alice, subject="风扇坏了，不能用了", body="-")
    kettle_zh = make_ticket(session, customer=alice, subject="水壶坏了", body="-")
    assert not same_matter(fan, kettle) and not same_matter(fan_zh, kettle_zh)
    long = make_ticket(session, customer=alice, subject="word " * 60 + "kettle", body="-")
    assert not same_matter(long, one)  # only the subject's first words are read
    assert subject_words("Kettles leak AGAIN, 水壶漏水问题") == {
        "kettle",
        "leak",
        "水壶",
        "壶漏",
        "漏水",
        "水问",
    }
    assert subject_words("w " * 1_000_000 + "kettle") == set()  # bounded work
