"""Tags and saved views under attack: what an agent types is hostile input (support.desk.tags,
support.desk.saved_views). A stored tag must read as itself again, or the page's remove button
and the inbox's filter link (which send the stored tag) would miss it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.auth import issue_api_token
from support.desk import tags
from support.desk.models import TicketTag
from tests.support.staff.test_tags_views import desk  # noqa: F401 (the same desk)
from tests.support.staff_helpers import login


def _text(response) -> str:
    return response.get_data(as_text=True)


def _tags_on(session, ticket_id: int) -> list[str]:
    found = list(session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id)))
    session.commit()  # SQLite: a read transaction would block the app's next write
    return found


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
    stored = _tags_on(session, kettle)
    assert len(stored) == 1
    inbox = _text(client.get(f"/staff/inbox/service?lang=en&tag={stored[0]}"))
    assert "Kettle stopped heating" in inbox and "Fan is noisy" not in inbox
    client.post(f"/staff/tickets/{kettle}/tags/remove", data={"tag": stored[0]})
    assert _tags_on(session, kettle) == []


@pytest.mark.parametrize("typed", ["..", ".", "-", "_", "#-", "..."])
def test_a_tag_needs_a_letter_or_digit(client, session, desk, typed) -> None:  # noqa: F811
    # An HTTP client reads "/tags/.." in DELETE /api/v1/tickets/1/tags/.. as a dot segment
    # (requests and curl send DELETE /api/v1/tickets/1/): such a tag could not be taken off.
    agent, _colleague, _outsider, kettle, _fan, _quote = desk
    token = issue_api_token(session, agent)
    session.commit()
    added = client.post(
        f"/api/v1/tickets/{kettle}/tags",
        json={"tag": typed},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    assert added.status_code == 422, added.get_json()
    assert "letter or digit" in added.get_json()["message"]
    assert _tags_on(session, kettle) == []


def test_a_views_name_is_text_and_the_apis_tag_answers_are_not_cached(
    client,
    session,
    desk,  # noqa: F811
) -> None:
    agent, _colleague, _outsider, kettle, _fan, quote = desk
    login(client, agent.email)
    saved = client.post(
        "/staff/inbox/service/views",
        data={"view-name": '"><svg onload=alert(1)>', "next": "/staff/inbox/service"},
        follow_redirects=True,
    )
    assert "<svg" not in _text(saved) and "&lt;svg onload=alert(1)&gt;" in _text(saved)
    token = issue_api_token(session, agent)
    session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    answers = [
        client.post(f"/api/v1/tickets/{kettle}/tags", json={"tag": "refund"}, headers=bearer),
        client.post(f"/api/v1/tickets/{quote}/tags", json={"tag": "refund"}, headers=bearer),
        client.post(f"/api/v1/tickets/{kettle}/tags", json={"tag": "<b>"}, headers=bearer),
        client.delete(f"/api/v1/tickets/{kettle}/tags/refund", headers=bearer),
        client.delete(f"/api/v1/tickets/{kettle}/tags/refund", headers=bearer),
        client.post(f"/api/v1/tickets/{kettle}/tags", json={"tag": "refund"}),
    ]
    assert [a.status_code for a in answers] == [201, 404, 422, 200, 404, 401]
    assert all("no-store" in a.headers["Cache-Control"] for a in answers)


@pytest.mark.parametrize(
    ("typed", "refused"),
    [
        ("r\u0435fund", True),  # a Cyrillic е among Latin letters: "refund" to the eye
        ("\u0440aypal", True),  # a Cyrillic р
        ("\u03bfrder", True),  # a Greek ο
        ("refund", False),
        ("москва", False),  # one script throughout is a word
        ("k200-退货", False),  # Latin with Chinese looks like neither
        ("αβγ-2", False),
    ],
)
def test_a_tag_mixing_look_alike_scripts_is_refused(app, typed, refused) -> None:
    with app.test_request_context("/?lang=en"):
        if not refused:
            assert tags.normalise(typed) == typed
            return
        with pytest.raises(tags.TagRefused, match="mixes"):
            tags.normalise(typed)
