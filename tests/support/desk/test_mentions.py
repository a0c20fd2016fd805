"""Who a note's "@" names (support.desk.mentions.mentioned): names with spaces, names without,
addresses, Chinese names; never an "@" inside an address the note quotes."""

from __future__ import annotations

from support.desk.mentions import mentioned
from tests.factories import make_user
from tests.work import growth


def _names(session, text: str) -> list[str]:
    return [u.name for u in mentioned(session, text)]


def test_names_addresses_and_chinese_names(app, session) -> None:
    make_user(session, email="wang.fang@example.com", name="Wang Fang")
    make_user(session, email="li@example.com", name="Li")
    make_user(session, email="lisa@example.com", name="Lisa")
    make_user(session, email="mei@example.com", name="王芳")
    make_user(session, email="gone@example.com", name="Gone", is_active=False)
    session.flush()
    assert _names(session, "@Wang Fang, please check") == ["Wang Fang"]
    assert _names(session, "ask @wangfang and @LISA.") == ["Wang Fang", "Lisa"]
    assert _names(session, "@li: and @Lisa") == ["Li", "Lisa"]
    assert _names(session, "cc @wang.fang@example.com") == ["Wang Fang"]
    assert _names(session, "@王芳请看一下") == ["王芳"]
    # An address quoted in the note, an unknown name, a colleague who left: nobody.
    assert _names(session, "she wrote from lisa@example.com; @nobody; @Gone") == []
    assert _names(session, "@Li @Li @li") == ["Li"]


def test_many_ats_are_bounded_work(app, session) -> None:
    for n in range(30):
        make_user(session, email=f"staff{n}@example.com", name=f"Staff Member {n}")
    session.flush()
    assert mentioned(session, "@" * 50_000) == []
    assert mentioned(session, "@x " * 20_000) == []
    # Counted, not timed: at most MAX_MENTIONS "@" are looked at, so 4 times the "@" cost no
    # more calls.
    assert growth(lambda n: mentioned(session, "@" * n), 12_500) < 1.2
    assert growth(lambda n: mentioned(session, "@x " * n), 5_000) < 1.2
