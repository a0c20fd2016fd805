"""The learned re-check of a mail's offers (faq.offer_check): a near-topic mail that asks what
its topic's article does not answer is not offered it, a mail the article answers still is, and
without the trained file the offers are as before. The mails are written for this test, not
taken from a blind set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faq import matching
from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.matching import answers_for
from faq.offer_check import PairCheck, bundled_check, read_check, write_check

DEMO = {
    article["slug"]: article
    for article in json.loads(DEMO_CONTENT.read_text(encoding="utf-8"))["articles"]
}
COURIER = (
    "Courier\nHi, can I choose which courier company delivers my order? I would prefer SF "
    "Express.\nThanks, Li"
)
ADDRESS = (
    "Wrong address\nI typed the wrong street in my delivery address. The order hasn't shipped "
    "yet, can I still change it?\nThanks, Tom"
)


def test_the_bundled_check_loads_and_a_missing_or_foreign_file_means_none(tmp_path: Path) -> None:
    check = bundled_check()
    assert check is not None and 0.0 < check.cut < 1.0
    assert read_check(tmp_path / "missing.npz") is None
    (tmp_path / "torn.npz").write_bytes(b"PK\x03\x04 not a whole file")
    assert read_check(tmp_path / "torn.npz") is None
    other = PairCheck(
        "m", np.zeros(3, np.float32), np.ones(3, np.float32), np.ones(3, np.float32), 0.0, 0.3
    )
    write_check(tmp_path / "check.npz", other)
    saved = read_check(tmp_path / "check.npz")
    assert saved is not None and saved.model_id == "m" and saved.cut == pytest.approx(0.3)
    assert saved.chance(np.full(3, 10.0, np.float32)) > 0.99


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_a_near_topic_mail_gets_no_offer_its_answerable_twin_does(
    app, db, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    address = DEMO["change-address-en"]["question"]
    with app.app_context(), db.sessionmaker() as session:
        courier = answers_for(session, COURIER, "en", offered_only=False)
        change = answers_for(session, ADDRESS, "en")
        monkeypatch.setattr(matching, "bundled_check", lambda: None)  # as if the file were missing
        courier_before = answers_for(session, COURIER, "en", offered_only=False)
    assert courier and courier[0].question == address and not courier[0].offer
    assert [m.question for m in change][:1] == [address]
    # Without the trained file the decision is the formula's: the courier mail was offered.
    assert courier_before[0].question == address and courier_before[0].offer
