"""Web addresses in notes and in a customer's plain-text mail are links on the ticket page
(they were bare text an agent had to copy), made after escaping, http(s) only, opening in a
new tab so that a reply being written stays, and never followed for ranking or referrers."""

from __future__ import annotations

from support.desk import actions
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login

LINK = '<a href="{0}" rel="nofollow noopener noreferrer" target="_blank">{0}</a>'


def test_addresses_in_notes_and_customer_mail_are_safe_links(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(
        session,
        body=(
            "The photo is at https://photos.example.com/a?id=7&size=big. Also see "
            'javascript:alert(1) and https://evil.example/"><script>alert(2)</script>\n'
            "維修單（https://www.example.tw/repair）已填。"
        ),
    )
    actions.add_note(
        session, ticket, agent, "Known issue, see https://wiki.example.com/kettle-42, (ask Li)."
    )
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert LINK.format("https://photos.example.com/a?id=7&amp;size=big") + ". Also" in page
    assert LINK.format("https://wiki.example.com/kettle-42") + ", (ask Li)." in page
    assert LINK.format("https://www.example.tw/repair") + "）已填" in page
    assert LINK.format("https://evil.example/") + "&#34;&gt;&lt;script&gt;alert(2)" in page
    assert "<script>alert(2)" not in page and 'href="javascript' not in page
    assert "javascript:alert(1) and" in page


def test_the_follow_page_still_links_only_our_own_words() -> None:
    # The customer-facing filter keeps its old form: no new tab there.
    from support.core.web import linked

    assert str(linked("see https://x.example/a.")) == (
        'see <a href="https://x.example/a" rel="nofollow noopener noreferrer">'
        "https://x.example/a</a>."
    )
