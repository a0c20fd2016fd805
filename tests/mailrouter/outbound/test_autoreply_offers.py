"""The auto-reply's FAQ offers on generated emails (outbound.offer_evaluation), demo FAQ."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.matching import answers_for
from faq.models import Article
from mailrouter.outbound.offer_evaluation import TEST, build_cases, evaluate_offers


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_offers_on_the_held_out_emails_stay_at_their_measured_quality(app, db):
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    cases = [case for case in build_cases() if case.half == TEST]
    with app.app_context(), db.sessionmaker() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        report = evaluate_offers(
            cases,
            lambda text, lang: [slugs[m.article_id] for m in answers_for(session, text, lang)],
        )
    # Measured with the semantic ranking and the calibrated confidence (logistic regression over
    # similarity, margin, language and word-search agreement): expected offered 29%, only wrong
    # 6%, unanswerable offered 6%, precision 79% (the single-signal confidence before: 32%, 16%,
    # 11%, 62%; BM25 with the score floor: 44%, 36%, 24%, 27%). Fewer offers, far more right.
    # Since the mail term was calibrated on hand-written mails (then faq.matching.CONFIDENCE_MAIL):
    # 48%, 0%, 1%, 99% (69%, 4%, 9%, 91% before): right or silent, at a cost in coverage. A
    # mail formula of its own (faq.matching.MAIL_CONFIDENCE_*, twelfth session): 49% -> 52%, 2%
    # -> 2%, 1% -> 0%, 95% -> 97%. Vague questions with their cause and the mails' cut moved
    # (fourteenth session): 52% -> 54%, 2% -> 2%, 0% -> 1%, 97% -> 96% (bounds unchanged).
    # 78 unanswerable: the bootstrap examples of hr and pr count too, about half of them in
    # this half (67 before the eleventh session's training rows; 70 before the twelfth's:
    # press enquiries, image requests, personnel-file requests, job applications; 77 before
    # the emergency-contact updates; 83 after the thirteenth's HR pay and PR sponsor chasers;
    # 92 after the fifteenth's employees' suggestions, payroll errors and press interviews;
    # 93 after the sixteenth's applicant whose CV upload keeps failing; 96 after the
    # twenty-second's PR and HR rows: co-marketing offers, volunteers' thanks, payroll, references;
    # 98 after the twenty-fifth's HR rows: staff pay not paid or late, a Cantonese application;
    # 101 after the twenty-sixth's rows: court claims, analysts' questions on results; 107
    # after the thirty-fifth's: staff suggestions, creators' thanks for a sample, press).
    # Eighteenth session (an English near miss offered when the second English model agrees):
    # first offer right 57% -> 60%, unanswerable offered 4 -> 5 of 93 (an applicant asking to
    # delete his CV is offered the account-deletion article), precision 92%; the bound on
    # unanswerable offers moved from 0.05 to 0.06 for that mail (the goal: <= 0.10).
    # The bounds guard that level with a margin of a few mails.
    assert report.answerable == 159 and report.unanswerable == 107
    assert report.expected_offered >= 0.40
    assert report.only_wrong <= 0.05
    assert report.unanswerable_offered <= 0.06
    assert report.precision >= 0.90
