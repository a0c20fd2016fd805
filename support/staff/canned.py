"""Canned answers: FAQ articles staff can drop into a reply (and the demand that signals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from flask import Flask, current_app, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from faq import search
from faq.demand import record_demand
from faq.knowledge import published_article, suggest_articles
from faq.models import Article, Category
from support.core.config import public_base_url
from support.core.db import like_contains
from support.core.text import for_simplified_reader, to_traditional
from support.desk.mail import language_query
from support.desk.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CannedAnswer:
    article_id: int
    question: str
    language: str
    text: str  # plain text, ready for a mail


def answer_text(article: Article) -> str:
    """The answer as a mail's text: its paragraphs, list lines and links' addresses kept."""
    return search.markdown_to_mail_text(article.answer_md or "").strip()


def _as_canned(article: Article) -> CannedAnswer:
    return CannedAnswer(article.id, article.question, article.language, answer_text(article))


def _like_search(session: Session, text: str, limit: int) -> list[Article]:
    """Plain substring search, used only when the search index cannot answer."""
    words = [w for w in text.split() if len(w) > 1][:6] or [text]
    conditions = [
        or_(
            Article.question.ilike(like_contains(w), escape="\\"),
            Article.answer_md.ilike(like_contains(w), escape="\\"),
        )
        for w in words
    ]
    return list(
        session.scalars(
            select(Article)
            .join(Article.category)
            .where(
                Article.is_published.is_(True),
                Category.is_published.is_(True),
                or_(*conditions),
            )
            .order_by(Article.demand_score.desc(), Article.id)
            .limit(limit)
        )
    )


def search_answers(
    session: Session,
    text: str,
    *,
    limit: int = 5,
    app: Flask | None = None,
    language: str | None = None,
) -> list[CannedAnswer]:
    """Published articles matching `text`, best first, through the FAQ search.

    `language`: the customer's; their language's matches come first, then the others (an
    English customer's "Heater smoking" was offered two Chinese articles first, the words
    typed in any language still find every article)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    text = (text or "").strip()[:300]
    if not text:
        return []
    try:
        matches = suggest_articles(session, text, None, limit, app=app)
        if language:
            theirs = suggest_articles(session, text, language, limit, app=app)
            first = {m.article_id for m in theirs}
            matches = (theirs + [m for m in matches if m.article_id not in first])[:limit]
        articles = {
            a.id: a
            for a in session.scalars(
                select(Article).where(Article.id.in_([m.article_id for m in matches]))
            )
        }
        found = [articles[m.article_id] for m in matches if m.article_id in articles]
    except Exception:  # the index is optional for staff: fall back, never fail the page
        log.exception("FAQ search failed; falling back to a substring search")
        found = _like_search(session, text, limit)
    return [_as_canned(a) for a in found]


def use_answer(
    session: Session, article_id: int, user: User, *, traditional: bool = False
) -> CannedAnswer | None:
    """The article's answer for a reply; counts a "staff_link" demand signal. `traditional`:
    the customer writes Traditional characters, so the answer comes in them, as the rest of
    our mail to them does; others get an article written in Traditional in Simplified."""

    article = published_article(session, article_id)  # the portal's rule, category included
    if article is None:
        return None
    record_demand(session, article.id, "staff_link", visitor=f"staff:{user.id}")
    answer = _as_canned(article)
    if traditional:
        text = to_traditional(answer.text)
    else:
        # A Taiwan admin's article, for a customer who does not write Traditional: Simplified.
        text = for_simplified_reader(answer.text, f"{article.question}\n{answer.text}")
    link = article_link(article, "zh-Hant" if traditional else article.language)
    return replace(answer, text=f"{text}\n\n{link}")


def article_link(article: Article, language: str | None) -> str:
    """The article on the portal, for the customer to keep (pictures, later edits, the rest of
    its category), in the reply's language and script."""
    path = url_for("faq.article", slug=article.slug)
    return f"{public_base_url(current_app.config)}{path}{language_query(language)}"
