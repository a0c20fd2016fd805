"""`answers_for` builds only the matches it returns: by default (offered only) the others'
excerpts and links are not made. The matches must be exactly those of the full ranking that
are offered, in its order (same articles, confidences, excerpts and links), on a fixed set of
mails in both languages: the auto-reply's offers did not change when the work was cut."""

from __future__ import annotations

import json

import pytest

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.matching import MAX_ANSWERS, answers_for
from mailrouter.outbound.offer_evaluation import TEST, build_cases

#: Mails of the held-out half, every fourth: both languages, offered and not.
CASES = 64


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_offered_answers_are_the_offered_part_of_the_whole_ranking(app, db) -> None:
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    cases = [case for case in build_cases() if case.half == TEST][::4][:CASES]
    offered_mails = 0
    with app.app_context(), db.sessionmaker() as session:
        for case in cases:
            every = answers_for(session, case.text, case.language, offered_only=False)
            offered = answers_for(session, case.text, case.language)
            assert offered == [match for match in every if match.offer][:MAX_ANSWERS], case.text
            offered_mails += bool(offered)
    assert {case.language for case in cases} == {"en", "zh"}
    assert 0 < offered_mails < len(cases)  # both kinds of mail were compared
