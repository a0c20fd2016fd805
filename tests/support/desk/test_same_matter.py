"""The "another open ticket from this customer, merge?" offer needs a sign of the same matter:
a customer's unrelated questions in one week are not duplicates (support.desk.same_matter)."""

from __future__ import annotations

from support.desk.same_matter import order_numbers, same_matter
from tests.factories import make_customer, make_ticket, make_user
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
