"""Why mails get false offers or miss their article: every tuning mail's search, kept for study.

Twenty-sixth session. Runs each tuning mail (bench/offer_mails_calibration.jsonl and the used-up
hand-written sets 1-24, since the twenty-ninth session, 25, since the thirty-first, 26,
since the thirty-second, 27 and 28, since the thirty-fourth, and 29, since the thirty-fifth;
never a held-out set) once through the
auto-reply's matcher (faq.matching.answers_for) and the search behind it, and writes what both
saw to a pickle: the offers and their confidences, the first hits' figures, the mail's asking
lines (faq.search.focus) and their embeddings, each line's similarity to every article (the soft
maximum over its rows) and the articles' own texts and rows, so that new features can be studied
without running the model again (bench/offer_features_loso.py and bench/offer_request_checks.py
read it).

    .venv/bin/python bench/offer_causes.py /tmp/offer_causes.pkl [--request-only]
"""

from __future__ import annotations

import json
import logging
import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from handwritten_offers_eval import as_text  # noqa: E402
from intake_bench import prepare  # noqa: E402
from sqlalchemy import select  # noqa: E402

import faq.matching as matching  # noqa: E402
from faq.index_sync import get_index  # noqa: E402
from faq.knowledge import suggest_articles  # noqa: E402
from faq.models import Article  # noqa: E402
from faq.search import MAX_QUERY_CHARS, focus, says_anything  # noqa: E402
from support.core.db import get_db  # noqa: E402

#: The tuning sources, named one by one: a held-out set is never read here.
SOURCES = ["offer_mails_calibration.jsonl", "offer_mails_handwritten.jsonl"] + [
    f"offer_mails_handwritten_{n}.jsonl" for n in range(2, 30)
]


def hit_row(hit) -> dict:
    return {
        "slug": hit.slug,
        "article_id": hit.article_id,
        "language": hit.language,
        "lexical_rank": hit.lexical_rank,
        "semantic_rank": hit.semantic_rank,
        "similarity": hit.similarity,
        "cosine": hit.cosine,
        "standout": hit.standout,
        "word_cosine": hit.word_cosine,
        "semantic": hit.semantic,
    }


def main(out: Path) -> None:
    logging.disable(logging.WARNING)
    app = prepare(None, False)
    database = get_db(app)
    rows: list[dict] = []
    with app.app_context(), database.session() as session:
        index = get_index(session=session)
        vectors = index.vectors()
        assert vectors is not None and index.embedder is not None
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        articles = {
            article.id: {
                "slug": article.slug,
                "language": article.language,
                "question": article.question,
                "phrasings": [p.text for p in article.phrasings if p.status == "approved"],
                "answer_md": article.answer_md,
            }
            for article in session.scalars(select(Article))
        }
        for source in SOURCES:
            for number, line in enumerate((HERE / source).read_text("utf-8").splitlines()):
                if not line.strip():
                    continue
                mail = json.loads(line)
                text = as_text(mail)
                matches = matching.answers_for(session, text, mail["lang"], offered_only=False)
                searched = suggest_articles(session, text, language=mail["lang"], limit=3)
                found = matching.negated_first(searched, text)  # as answers_for orders them
                focused = focus(text)[:MAX_QUERY_CHARS]
                queries = index.embedder.query_segments(focused)
                mask = vectors.languages == mail["lang"]
                per_line = vectors._best_rows(np.atleast_2d(queries), None)  # articles x lines
                row = {
                    "source": source,
                    "number": number,
                    "id": mail.get("id", f"{source}:{number}"),
                    "lang": mail["lang"],
                    "expect": mail["expect"],
                    "ok": mail.get("ok", []),
                    "subject": mail["subject"],
                    "text": text,
                    "focus": focused,
                    "says": says_anything(text),
                    "displaced": found is not searched,
                    "matches": [(slugs[m.article_id], m.confidence, m.offer) for m in matches],
                    "hits": [hit_row(hit) for hit in found],
                    "queries": np.asarray(queries, np.float32),
                    "per_line": per_line.astype(np.float32),
                    "mask": mask,
                }
                if found and found[0].semantic:
                    first = found[0]
                    row["mail_confidence"] = matching.mail_confidence(found)
                    row["gated"] = matching.confidences(found, mail=True)[0]
                    row["action"] = matching.asks_other_action(first, text)
                    row["beyond"] = matching.asks_beyond(first, text)
                    row["english"] = (
                        index.english_lead(text, first.article_id)
                        if first.language == "en"
                        else None
                    )
                    row["second"] = matching.offers_second(found, [1.0, 0.0], text)
                rows.append(row)
            print(source, len(rows), flush=True)
        data = {
            "rows": rows,
            "articles": articles,
            "vector_article_ids": vectors.article_ids.copy(),
            "vector_starts": vectors.starts.copy(),
            "vector_languages": vectors.languages.copy(),
            "vector_matrix": np.asarray(vectors.matrix, np.float32).copy(),
        }
    database.dispose()
    out.write_bytes(pickle.dumps(data))


def search_request_only() -> None:
    """The twenty-ninth session's variant: the search looks only for a mail's last asking line
    (its request, as faq.search.request_words reads it), not its subject and other questions."""
    import faq.search.asking as asking
    import faq.search.engine as engine

    def request_only(text: str) -> str:
        lines = asking.focus(text).splitlines()
        return lines[-1] if lines else asking.focus(text)

    engine.focus = request_only


if __name__ == "__main__":
    if "--request-only" in sys.argv[2:]:
        search_request_only()
    main(Path(sys.argv[1]))
