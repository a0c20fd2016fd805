"""Knowledge-base records: categories, articles with their phrasings, and demand signals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from support.core.db import Base, utcnow

LANGUAGES = ("en", "zh")
# Demand signals and their weights: how strongly each says "customers ask this".
DEMAND_KINDS = ("view", "search_click", "helpful", "email_match", "contact_match", "staff_link")


class Category(Base):
    __tablename__ = "faq_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="category")

    def name(self, language: str = "en") -> str:
        return self.name_zh if language == "zh" and self.name_zh else self.name_en

    def both_names(self, language: str = "en") -> str:
        """Both names for the editors, the reader's language first: "退货与维修 / Returns"."""
        names = [self.name_en, self.name_zh] if language != "zh" else [self.name_zh, self.name_en]
        return " / ".join(name for name in names if name)


class Article(Base):
    """One question and its answer in one language; translations share a translation_key."""

    __tablename__ = "faq_articles"
    __table_args__ = (Index("ix_faq_articles_category_demand", "category_id", "demand_score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("faq_categories.id"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    translation_key: Mapped[str | None] = mapped_column(String(160), index=True)
    question: Mapped[str] = mapped_column(String(500))
    answer_md: Mapped[str] = mapped_column(Text)
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    # A notice admins keep on top; the only manual ordering there is.
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Exponentially decayed demand, valid at demand_at: score(t) = score * 2^-((t - at) / half-life)
    demand_score: Mapped[float] = mapped_column(Float, default=0.0)
    demand_at: Mapped[datetime] = mapped_column(default=utcnow)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    category: Mapped[Category] = relationship(back_populates="articles")
    phrasings: Mapped[list[Phrasing]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )


class Phrasing(Base):
    """An alternate way customers ask the question ("also asked as"), indexed with the article."""

    __tablename__ = "faq_phrasings"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("faq_articles.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    # "approved" phrasings are indexed; "proposed" ones wait for staff or for enough evidence.
    status: Mapped[str] = mapped_column(String(20), default="approved")
    # "staff", "search", "helpful", "email"
    source: Mapped[str] = mapped_column(String(20), default="staff")
    evidence_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="phrasings")


class DemandEvent(Base):
    """One signal that a customer asked an article's question; kept for "most asked this week"."""

    __tablename__ = "faq_demand_events"
    __table_args__ = (
        Index("ix_faq_demand_article_created", "article_id", "created_at"),
        # The few events not yet in their article's score (faq.demand.fold_pending_demand).
        Index(
            "ix_faq_demand_pending",
            "id",
            sqlite_where=text("pending"),
            postgresql_where=text("pending"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("faq_articles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    visitor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Recorded by the mail worker and not yet added to the article's demand_score.
    pending: Mapped[bool] = mapped_column(default=False, server_default=false())


class SearchQuery(Base):
    """A search typed by a customer, its result and what they did next (for gaps and phrasings)."""

    __tablename__ = "faq_search_queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(8))
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    # How probably the first result answered it (faq.matching.search_confidence), 0-1.
    top_score: Mapped[float | None] = mapped_column(Float)
    visitor: Mapped[str | None] = mapped_column(String(64), index=True)
    clicked_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("faq_articles.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Feedback(Base):
    """An answer to "was this helpful?", with an optional comment on "no"."""

    __tablename__ = "faq_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("faq_articles.id", ondelete="CASCADE"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    visitor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnansweredQuestion(Base):
    """An email that matched no article, for the "questions we do not answer yet" report."""

    __tablename__ = "faq_unanswered"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FaqGeneration(Base):
    """The knowledge base's version: one row, raised by every commit that changes what search
    finds. Raising it locks the row until the commit, so generations commit in order and a
    host that has applied generation N has seen every change up to N."""

    __tablename__ = "faq_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class FaqChange(Base):
    """An article changed in a generation (edited, published, withdrawn or deleted): each host's
    search index catches up from these (faq.index_sync.catch_up)."""

    __tablename__ = "faq_changes"

    generation: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(Integer, primary_key=True)
