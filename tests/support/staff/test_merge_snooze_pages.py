"""Merge confirmation and undo, and snooze, on the ticket page without a browser: what the pages
say (in both languages), department access on both tickets, and CSRF on every POST."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from support.core.db import utcnow
from support.desk import actions, tags
from support.desk.models import AuditEvent, Ticket
from support.desk.notifications import notify_new_ticket
from support.desk.sla import start_clock
from tests.factories import make_customer, make_ticket, make_user, same_matter_tickets
from tests.support.staff_helpers import login


@pytest.fixture
def two(app, session):
    """An agent of Customer Service, and two open tickets of one customer there."""
    agent = make_user(session, email="agent@example.com", name="Andy")
    alice = make_customer(session, name="Alice Brown", email="alice@example.org")
    first, again = same_matter_tickets(
        session, alice, "Kettle stopped heating", "Kettle (again)", urgency=4
    )
    for ticket in (first, again):
        start_clock(ticket, app.config, now=ticket.created_at)
    session.commit()
    return agent, first.id, again.id, first.reference, again.reference


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_merge_asks_first_then_undo_puts_both_back(client, session, two) -> None:
    agent, first, again, first_ref, again_ref = two
    login(client, agent.email)
    asked = client.post(
        f"/staff/tickets/{again}/merge?lang=en", data={"merge-target": first_ref.lower()}
    )
    page = _text(asked)
    assert asked.status_code == 200
    assert f"Merge {again_ref} into {first_ref}?" in page
    assert "1 message or note moves to" in page
    assert "You can undo the merge on" in page and "for 10 minutes" in page
    assert f'name="merge-target" value="{first_ref}"' in page  # as the agent typed it, found
    assert session.get(Ticket, again).merged_into_id is None
    session.rollback()

    done = client.post(
        f"/staff/tickets/{again}/merge", data={"merge-target": first_ref, "merge-confirm": "1"}
    )
    assert done.headers["Location"] == f"/staff/tickets/{first}"
    kept = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    banner = kept[kept.index('data-testid="undo-merge"') :]
    assert f"{again_ref} was merged into this ticket." in banner
    assert f'action="/staff/tickets/{again}/unmerge"' in banner
    zh = _text(client.get(f"/staff/tickets/{first}?lang=zh"))
    assert f"{again_ref} 已合并到本工单。" in zh and "撤销合并" in zh

    undone = client.post(f"/staff/tickets/{again}/unmerge")
    assert undone.headers["Location"] == f"/staff/tickets/{again}"
    session.expire_all()
    back = session.get(Ticket, again)
    assert back.merged_into_id is None and back.status == "new" and back.urgency == 4
    assert session.get(Ticket, first).urgency == 2
    session.rollback()
    page = _text(client.get(f"/staff/tickets/{again}?lang=en"))
    assert f"Merge into {first_ref} undone by Andy" in page
    page = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    assert f"Merge of {again_ref} undone: it is a ticket of its own again by Andy" in page
    assert 'data-testid="undo-merge"' not in page


def test_the_confirmation_counts_the_messages_the_page_shows(app, client, session, two) -> None:
    """Staff notices about the ticket (the new-ticket mail to the department) are recorded on
    it but never shown in its conversation: "3 messages and notes move" over a page of one
    customer mail left the agent wondering what else there was."""
    agent, _first, again, first_ref, _again_ref = two
    ticket = session.get(Ticket, again)
    assert notify_new_ticket(session, ticket, app.config) == [agent.email]
    actions.add_note(session, ticket, agent, "Same kettle as the other one.")
    session.commit()
    login(client, agent.email)
    asked = client.post(f"/staff/tickets/{again}/merge?lang=en", data={"merge-target": first_ref})
    assert "2 messages and notes move to" in _text(asked)  # the customer's mail and the note


def test_undo_needs_both_tickets_departments(client, session, two) -> None:
    agent, first, again, first_ref, _again_ref = two
    login(client, agent.email)
    client.post(
        f"/staff/tickets/{again}/merge", data={"merge-target": first_ref, "merge-confirm": "1"}
    )
    outsider = make_user(session, email="sales@example.com", departments=("sales",))
    session.commit()
    client.post("/staff/logout")
    login(client, outsider.email)
    assert client.post(f"/staff/tickets/{again}/unmerge").status_code == 404
    # Assigned the kept ticket, they see it, but not the merged one: no banner, no undo.
    kept = session.get(Ticket, first)
    kept.assignee_id = outsider.id
    session.commit()
    assert 'data-testid="undo-merge"' not in _text(client.get(f"/staff/tickets/{first}"))
    assert client.post(f"/staff/tickets/{again}/unmerge").status_code == 404
    session.expire_all()
    assert session.get(Ticket, again).merged_into_id == first


def test_snooze_presets_custom_and_back(client, session, two) -> None:
    agent, first, _again, _first_ref, _again_ref = two
    login(client, agent.email)
    page = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    assert "A ticket can be snoozed once the customer has had a first reply" in page
    assert f'action="/staff/tickets/{first}/snooze"' not in page
    ticket = session.get(Ticket, first)
    ticket.first_response_at = utcnow()
    session.commit()
    page = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    assert f'action="/staff/tickets/{first}/snooze"' in page
    assert "The response target keeps running while the ticket is snoozed." in page
    zh = _text(client.get(f"/staff/tickets/{first}?lang=zh"))
    assert "明天上午" in zh and "暂缓" in zh

    response = client.post(f"/staff/tickets/{first}/snooze", data={"snooze-preset": "tomorrow"})
    assert response.status_code == 302
    session.expire_all()
    until = session.get(Ticket, first).snoozed_until
    assert until is not None and timedelta(0) < until - utcnow() < timedelta(hours=34)
    session.rollback()
    page = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    assert 'data-testid="snoozed-note"' in page and "Snoozed until" in page
    assert "Back in the queue now" in page

    client.post(f"/staff/tickets/{first}/unsnooze")
    session.expire_all()
    assert session.get(Ticket, first).snoozed_until is None
    session.rollback()

    later = (utcnow() + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    client.post(
        f"/staff/tickets/{first}/snooze", data={"snooze-preset": "custom", "snooze-until": later}
    )
    session.expire_all()
    assert session.get(Ticket, first).snoozed_until is not None
    session.rollback()
    client.post(f"/staff/tickets/{first}/unsnooze")
    refused = client.post(
        f"/staff/tickets/{first}/snooze?lang=en",
        data={"snooze-preset": "custom", "snooze-until": "soon"},
        follow_redirects=True,
    )
    assert "Give the date and time to snooze until." in _text(refused)
    session.expire_all()
    assert session.get(Ticket, first).snoozed_until is None
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == first)))
    assert {"ticket.snoozed", "ticket.snooze_ended"} <= actions


def test_snooze_needs_the_tickets_department(client, session, two) -> None:
    _agent, first, _again, _first_ref, _again_ref = two
    outsider = make_user(session, email="sales@example.com", departments=("sales",))
    session.get(Ticket, first).first_response_at = utcnow()
    session.commit()
    login(client, outsider.email)
    assert (
        client.post(f"/staff/tickets/{first}/snooze", data={"snooze-preset": "tomorrow"})
    ).status_code == 404
    assert client.post(f"/staff/tickets/{first}/unsnooze").status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_settings(self) -> dict:
        return {"WTF_CSRF_ENABLED": True}

    def test_every_new_post_needs_the_token(self, client, session, two) -> None:
        agent, first, again, first_ref, _again_ref = two
        page = _text(client.get("/staff/login"))
        token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
        client.post(
            "/staff/login",
            data={"email": agent.email, "password": "correct horse battery", "csrf_token": token},
        )
        ticket = session.get(Ticket, first)
        ticket.first_response_at = utcnow()
        session.commit()
        posts = [
            (f"/staff/tickets/{again}/merge", {"merge-target": first_ref, "merge-confirm": "1"}),
            (f"/staff/tickets/{again}/unmerge", {}),
            (f"/staff/tickets/{first}/snooze", {"snooze-preset": "tomorrow"}),
            (f"/staff/tickets/{first}/unsnooze", {}),
        ]
        assert client.get(f"/staff/tickets/{first}").status_code == 200  # signed in
        for url, data in posts:
            response = client.post(url, data=data)
            assert response.status_code in (302, 400), url
            assert "/login" not in response.headers.get("Location", ""), url
        session.expire_all()
        assert session.get(Ticket, again).merged_into_id is None
        assert session.get(Ticket, first).snoozed_until is None


def test_a_merge_carries_the_tags_over_within_the_limit_and_undo_takes_them_back(
    client, session, two
) -> None:
    agent, first, again, first_ref, again_ref = two
    # The kept ticket has room for two more; the duplicate brings three it lacks and one it has.
    for number in range(tags.MAX_TAGS - 3):
        tags.add_tag(session, session.get(Ticket, first), agent, f"kept-{number}")
    tags.add_tag(session, session.get(Ticket, first), agent, "refund")
    for tag in ("refund", "退貨", "k200", "warranty"):
        tags.add_tag(session, session.get(Ticket, again), agent, tag)
    session.commit()
    login(client, agent.email)
    asked = _text(
        client.post(f"/staff/tickets/{again}/merge?lang=en", data={"merge-target": first_ref})
    )
    gains = asked.split('data-testid="merge-tags"')[1].split("</div>")[0]
    assert f"{first_ref} gains these tags of {again_ref}:" in gains
    assert "k200" in gains and "warranty" in gains and "退货" not in gains
    left = asked.split('data-testid="merge-tags-left-out"')[1].split("</div>")[0]
    assert "退货" in left and "at most 10 tags" in left
    zh = _text(
        client.post(f"/staff/tickets/{again}/merge?lang=zh", data={"merge-target": first_ref})
    )
    assert "的这些标签" in zh.split('data-testid="merge-tags"')[1].split("</div>")[0]
    session.rollback()

    client.post(
        f"/staff/tickets/{again}/merge", data={"merge-target": first_ref, "merge-confirm": "1"}
    )
    session.expire_all()
    kept = tags.tags_of(session, [first, again])
    assert len(kept[first]) == tags.MAX_TAGS and {"k200", "warranty"} <= set(kept[first])
    assert "退货" not in kept[first]  # the duplicate keeps its own tags:
    assert kept[again] == sorted(["refund", "退货", "k200", "warranty"])
    session.rollback()
    page = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    assert f"Tag “k200” added with the merge of {again_ref}" in page
    assert "its tags “退货” did not fit (at most 10)" in page

    client.post(f"/staff/tickets/{again}/unmerge")
    session.expire_all()
    back = tags.tags_of(session, [first, again])
    assert "k200" not in back[first] and "warranty" not in back[first] and "refund" in back[first]
    assert len(back[first]) == tags.MAX_TAGS - 2
    assert back[again] == sorted(["refund", "退货", "k200", "warranty"])
    session.rollback()
    page = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    assert "Tag “warranty” removed with the merge&#39;s undo" in page or (
        "Tag “warranty” removed with the merge's undo" in page
    )


def test_an_important_ticket_offers_no_snooze_and_refuses_one(client, session, two) -> None:
    """The page says why in place of the snooze choices; a post from an older page is refused
    with the same words, in either language."""
    agent, _first, again, _first_ref, _again_ref = two  # "again" is urgency 4 (important)
    session.get(Ticket, again).first_response_at = utcnow()
    session.commit()
    login(client, agent.email)
    page = _text(client.get(f"/staff/tickets/{again}?lang=en"))
    assert f'action="/staff/tickets/{again}/snooze"' not in page
    assert 'data-testid="no-snooze"' in page
    assert "Important and emergency tickets cannot be snoozed" in page
    zh = _text(client.get(f"/staff/tickets/{again}?lang=zh"))
    assert "重要和紧急工单不能暂缓" in zh
    refused = client.post(
        f"/staff/tickets/{again}/snooze?lang=en",
        data={"snooze-preset": "three_days"},
        follow_redirects=True,
    )
    assert "Important and emergency tickets cannot be snoozed" in _text(refused)
    session.expire_all()
    assert session.get(Ticket, again).snoozed_until is None


def test_the_older_ticket_offers_to_take_the_newer_one_in(client, session, two) -> None:
    """On the older ticket, which holds the conversation, the offer was to merge it into the
    newer one; other desks (and agents) expect the newer to merge into the older. From either
    page the offer now goes that way, the confirmation page says which is kept and goes back
    where it was asked from, and the undo stays on the kept ticket."""
    agent, first, again, first_ref, again_ref = two  # first is the older
    login(client, agent.email)
    older_page = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    offer = older_page[older_page.index('data-testid="open-duplicates"') :].split("</div>", 1)[0]
    assert f"Merge {again_ref} into this ticket" in offer
    assert f"Merge this ticket into {again_ref}" not in offer
    assert f'action="/staff/tickets/{again}/merge"' in offer
    assert f'name="merge-target" value="{first_ref}"' in offer
    newer_page = _text(client.get(f"/staff/tickets/{again}?lang=en"))
    assert f"Merge this ticket into {first_ref}" in newer_page
    zh = _text(client.get(f"/staff/tickets/{first}?lang=zh"))
    assert f"将 {again_ref} 合并到本工单" in zh

    asked = _text(
        client.post(
            f"/staff/tickets/{again}/merge?lang=en",
            data={"merge-target": first_ref, "from": str(first)},
        )
    )
    assert f"Merge {again_ref} into {first_ref}?" in asked
    pair = asked[asked.index('class="merge-pair"') :].split("</dl>", 1)[0]
    assert pair.index("Merged and closed") < pair.index(again_ref) < pair.index("Kept")
    assert pair.index("Kept") < pair.index(first_ref, pair.index("Kept"))
    cancel = asked.split(">Cancel<", 1)[0].rsplit("<a ", 1)[1]
    assert f'href="/staff/tickets/{first}' in cancel  # back to the page it was asked from
    assert 'data-testid="merge-older"' not in asked  # the expected direction: no second word
    done = client.post(
        f"/staff/tickets/{again}/merge",
        data={"merge-target": first_ref, "merge-confirm": "1", "from": str(first)},
    )
    assert done.headers["Location"].startswith(f"/staff/tickets/{first}")
    session.expire_all()
    assert session.get(Ticket, again).merged_into_id == first
    session.rollback()
    kept = _text(client.get(f"/staff/tickets/{first}?lang=en"))
    assert 'data-testid="undo-merge"' in kept
    client.post(f"/staff/tickets/{again}/unmerge")
    session.expire_all()
    assert session.get(Ticket, again).merged_into_id is None


def test_a_typed_merge_of_the_older_into_the_newer_offers_the_other_way(
    client, session, two
) -> None:
    agent, first, again, first_ref, again_ref = two
    login(client, agent.email)
    asked = _text(
        client.post(f"/staff/tickets/{first}/merge?lang=en", data={"merge-target": again_ref})
    )
    assert f"Merge {first_ref} into {again_ref}?" in asked  # still possible, as asked
    note = asked[asked.index('data-testid="merge-older"') :].split("</div>", 1)[0]
    assert f"{first_ref} is the older ticket" in note
    assert f'action="/staff/tickets/{again}/merge"' in note
    assert f'name="merge-target" value="{first_ref}"' in note
    assert f"Merge {again_ref} into {first_ref} instead" in note
    zh = _text(
        client.post(f"/staff/tickets/{first}/merge?lang=zh", data={"merge-target": again_ref})
    )
    assert f"改为将 {again_ref} 合并到 {first_ref}" in zh
    # A refusal goes back to the page it was asked from, one of the two tickets only.
    other = make_ticket(session, subject="Another customer's")  # not mergeable with first
    session.commit()
    other_id, other_ref = other.id, other.reference
    for asked_from, back in ((other_id, other_id), (again, first), ("x", first)):
        refused = client.post(
            f"/staff/tickets/{first}/merge",
            data={"merge-target": other_ref, "from": str(asked_from)},
        )
        assert urlsplit(refused.headers["Location"]).path == f"/staff/tickets/{back}"
