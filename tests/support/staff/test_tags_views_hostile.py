"""Tags and saved views under attack: what an agent types is hostile input (support.desk.tags,
support.desk.saved_views). A stored tag must read as itself again, or the page's remove button
and the inbox's filter link (which send the stored tag) would miss it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk import tags
from support.desk.models import TicketTag
from tests.support.staff.test_tags_views import desk  # noqa: F401 (the same desk)
from tests.support.staff_helpers import fast_passwords, login

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["薴", "薴麻-退貨", "ＲＥＦＵＮＤ", "#Late  Delivery"])
def test_a_tag_reads_as_itself(app, typed) -> None:
    # OpenCC's character table maps 薴 to 苧, which it maps again to 苎.
    with app.test_request_context("/?lang=en"):
        tag = tags.normalise(typed)
        assert tags.normalise(tag) == tag


def test_a_tag_of_a_twice_converted_character_is_filtered_and_removed(
    client,
    session,
    desk,  # noqa: F811
) -> None:
    agent, _colleague, _outsider, kettle, _fan, _quote = desk
    login(client, agent.email)
    client.post(f"/staff/tickets/{kettle}/tags", data={"tag-tag": "薴"})
    stored = session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == kettle)).all()
    session.commit()
    assert len(stored) == 1
    inbox = _text(client.get(f"/staff/inbox/service?lang=en&tag={stored[0]}"))
    assert "Kettle stopped heating" in inbox and "Fan is noisy" not in inbox
    client.post(f"/staff/tickets/{kettle}/tags/remove", data={"tag": stored[0]})
    assert session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == kettle)).all() == []
