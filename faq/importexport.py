"""Moving articles in and out as JSON or CSV (`support faq import|export FILE`).

The JSON shape is the one of faq/demo_content.json: `{"categories": [...], "articles": [...]}`.
CSV has one article per row and the category's names in its columns, which is what a
spreadsheet user expects. Import is idempotent by slug: running it twice changes nothing, and
a changed row updates its article.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from faq.demand import seed_demand
from faq.knowledge import (
    KnowledgeError,
    create_article,
    create_category,
    update_article,
    update_category,
)
from faq.models import Article, Category
from support.core.atomic_files import write_atomically
from support.core.spreadsheet import read_cell, safe_cell

CSV_COLUMNS = (
    "slug",
    "language",
    "translation_key",
    "category",
    "category_name_en",
    "category_name_zh",
    "question",
    "answer",
    "phrasings",
    "published",
)
_TRUE = {"1", "true", "yes", "y", "on", "published"}
_FALSE = {"0", "false", "no", "n", "off", "draft", "unpublished", ""}


class ImportFileError(ValueError):
    """The file cannot be imported; the message names the row and the field."""


@dataclass
class ImportCounts:
    categories_created: int = 0
    categories_updated: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"articles: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; categories: {self.categories_created} created, "
            f"{self.categories_updated} updated"
        )


class _ArticleFields(TypedDict):
    """An imported article's fields, as create_article takes them."""

    question: str
    answer_md: str
    language: str
    translation_key: str | None
    is_published: bool
    phrasings: list[str]


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return True
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ImportFileError(f"{where}: published must be true or false, got {value!r}")


def _phrasings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    raise ImportFileError(f"phrasings must be a list or lines of text, got {type(value).__name__}")


def import_articles(session: Session, data: dict[str, Any]) -> ImportCounts:
    """Create or update categories and articles from `data` (the demo_content.json shape).

    Categories are created as needed (from "categories" or from an article's category names);
    `demand_seed` gives a new article its starting demand. The caller commits; the index is
    updated after that commit. The caller says the counts (``support faq import`` prints
    them): a log line here as well said them twice on the terminal.
    """
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        raise ImportFileError('expected an object with an "articles" list')
    counts = ImportCounts()
    by_slug = {c.slug: c for c in session.scalars(select(Category))}

    def category_for(slug: str, name_en: str | None, name_zh: str | None, where: str) -> Category:
        slug = (slug or "").strip()
        if not slug:
            raise ImportFileError(f"{where}: category (its slug) is required")
        category = by_slug.get(slug)
        try:
            if category is None:
                category = create_category(
                    session, slug=slug, name_en=name_en or slug, name_zh=name_zh or ""
                )
                by_slug[slug] = category
                counts.categories_created += 1
            elif (name_en or name_zh) and update_category(
                session, category, name_en=name_en or None, name_zh=name_zh or None
            ):
                counts.categories_updated += 1
        except KnowledgeError as exc:
            raise ImportFileError(f"{where}: category {slug!r}: {exc}") from None
        return category

    for n, item in enumerate(data.get("categories") or [], start=1):
        if not isinstance(item, dict):
            raise ImportFileError(f"category {n}: expected an object")
        category_for(
            item.get("slug", ""), item.get("name_en"), item.get("name_zh"), f"category {n}"
        )

    existing = {
        a.slug: a for a in session.scalars(select(Article).options(selectinload(Article.phrasings)))
    }
    for n, item in enumerate(data["articles"], start=1):
        if not isinstance(item, dict):
            raise ImportFileError(f"article {n}: expected an object")
        slug = str(item.get("slug") or "").strip()
        where = f"article {n} ({slug or 'no slug'})"
        if not slug:
            raise ImportFileError(
                f"article {n}: slug is required (it is what makes import repeatable)"
            )
        category = category_for(
            item.get("category", ""),
            item.get("category_name_en"),
            item.get("category_name_zh"),
            where,
        )
        fields: _ArticleFields = {
            "question": str(item.get("question") or ""),
            "answer_md": str(item.get("answer") or item.get("answer_md") or ""),
            "language": str(item.get("language") or "en").strip(),
            "translation_key": str(item.get("translation_key") or "").strip() or None,
            "is_published": _as_bool(item.get("published", item.get("is_published")), where),
            "phrasings": _phrasings(item.get("phrasings")),
        }
        try:
            article = existing.get(slug)
            if article is None:
                article = create_article(session, category=category, slug=slug, **fields)
                existing[slug] = article
                counts.created += 1
                seed = item.get("demand_seed")
                if seed:
                    seed_demand(session, article, float(seed))
            elif update_article(
                session,
                article,
                category=category,
                question=fields["question"],
                answer_md=fields["answer_md"],
                language=fields["language"],
                translation_key=fields["translation_key"] or article.slug,
                is_published=fields["is_published"],
                phrasings=fields["phrasings"],
            ):
                counts.updated += 1
            else:
                counts.unchanged += 1
        except (KnowledgeError, ValueError) as exc:
            if isinstance(exc, ImportFileError):
                raise
            raise ImportFileError(f"{where}: {exc}") from None
    session.flush()
    return counts


def export_articles(session: Session) -> dict[str, Any]:
    """Every category and article (published or not) in the import shape."""
    categories = session.scalars(select(Category).order_by(Category.id)).all()
    articles = session.scalars(
        select(Article).options(selectinload(Article.phrasings)).order_by(Article.id)
    ).all()
    return {
        "categories": [
            {
                "slug": c.slug,
                "name_en": c.name_en,
                "name_zh": c.name_zh,
                "published": c.is_published,
            }
            for c in categories
        ],
        "articles": [
            {
                "slug": a.slug,
                "translation_key": a.translation_key,
                "category": a.category.slug,
                "language": a.language,
                "question": a.question,
                "answer": a.answer_md,
                "phrasings": [p.text for p in a.phrasings if p.status == "approved"],
                "published": a.is_published,
            }
            for a in articles
        ],
    }


# -- files --------------------------------------------------------------------------------------


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ImportFileError(f"{path.name}: use a .json or .csv file")
    return suffix[1:]


def read_import_file(path: str | Path) -> dict[str, Any]:
    """The import data of a .json or .csv file."""
    path = Path(path)
    kind = _format(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {path}: {exc}") from None
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{path.name}: not valid JSON: {exc}") from None
    return csv_to_data(text, name=path.name)


def csv_to_data(text: str, *, name: str = "CSV") -> dict[str, Any]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"slug", "category", "question", "answer"} - set(reader.fieldnames or [])
    if missing:
        raise ImportFileError(
            f"{name}: missing column(s) {', '.join(sorted(missing))}; "
            f"columns are: {', '.join(CSV_COLUMNS)}"
        )
    articles = []
    for written in reader:
        # A None key holds a row's extra cells (a list): not ours to read.
        row = {key: read_cell(value or "") for key, value in written.items() if key is not None}
        if not any(value.strip() for value in row.values()):
            continue
        articles.append(
            {
                "slug": row.get("slug", ""),
                "language": row.get("language") or "en",
                "translation_key": row.get("translation_key") or None,
                "category": row.get("category", ""),
                "category_name_en": row.get("category_name_en") or None,
                "category_name_zh": row.get("category_name_zh") or None,
                "question": row.get("question", ""),
                "answer": row.get("answer", ""),
                "phrasings": row.get("phrasings") or "",
                "published": row.get("published", "true"),
            }
        )
    return {"articles": articles}


def data_to_csv(data: dict[str, Any]) -> str:
    names = {c["slug"]: c for c in data.get("categories", [])}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for a in data["articles"]:
        category = names.get(a["category"], {})
        row = {
            "slug": a["slug"],
            "language": a["language"],
            "translation_key": a.get("translation_key") or "",
            "category": a["category"],
            "category_name_en": category.get("name_en", ""),
            "category_name_zh": category.get("name_zh", ""),
            "question": a["question"],
            "answer": a["answer"],
            # Phrasings are customers' searches the FAQ learnt: "=HYPERLINK(...)" among them.
            "phrasings": "\n".join(a.get("phrasings", [])),
            "published": "true" if a.get("published", True) else "false",
        }
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


def write_export_file(path: str | Path, data: dict[str, Any]) -> None:
    """Write atomically, so an interrupted export never leaves half a file behind."""
    path = Path(path)
    kind = _format(path)
    text = (
        json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if kind == "json"
        else data_to_csv(data)
    )
    write_atomically(path, text.encode("utf-8"))
