"""English ranking: the question-with-answer row embedded as an e5 "query:" (symmetric) instead
of a "passage:", and how much that row weighs beside the question (twenty-eighth session).

bench/faq_rank_replay.py's replay (e5's soft maximum over an article's rows + 0.15 x TF-IDF
cosine; not the English second model's 0.2, so its figures sit a little under the product's)
with only the row kinds these variants need, so that the cache of four FAQs fits in a session:

    base        the product's rows: question, phrasings, question + answer start, as passages
    qa_q        the question + answer start row embedded as a query instead
    +qa_q       both forms of that row
    all_q       every row as a query (symmetric matching)
    qa+0.01 ... the question + answer row's similarity raised or lowered before pooling
                (the weight of the body beside the title)
    qwords0.05  + 0.05 x the TF-IDF cosine of the question alone (a title field weight)
    w0.10 ...   the whole text's TF-IDF weight (the product's is 0.15)

English questions of TUNING files only (never faq/eval/english_heldout_s25.csv nor
bench/faq_scale/en_community_heldout_s25.csv):

    python bench/faq_english_s28.py --cache /tmp/s28.pkl \\
        bench/faq_scale/en_budget.json:bench/faq_scale/en_budget_tune.csv \\
        faq/demo_content.json:faq/eval/tune.csv \\
        bench/faq_scale/en_community.json:bench/faq_scale/en_community_tune.csv \\
        bench/faq_scale/en_printing.json:bench/faq_scale/en_printing_tune.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faq_rank_replay as R

KINDS = {k: R.ROW_KINDS[k] for k in ("question", "phrasings", "qa", "question_q", "phrasings_q")}
KINDS["qa_q"] = (True, lambda d: [R._qa(d)], 0)
R.ROW_KINDS.clear()
R.ROW_KINDS.update(KINDS)

R.VARIANTS.clear()
R.VARIANTS.update(
    {
        "base": R.Variant(),
        "qa_q": R.Variant(kinds=("question", "phrasings", "qa_q")),
        "+qa_q": R.Variant(kinds=("question", "phrasings", "qa", "qa_q")),
        "all_q": R.Variant(kinds=("question_q", "phrasings_q", "qa_q")),
        **{f"qa{b:+}": R.Variant(biases=(0, 0, b)) for b in (-0.02, -0.01, 0.01, 0.02)},
        **{
            f"qa_q{b:+}": R.Variant(kinds=("question", "phrasings", "qa_q"), biases=(0, 0, b))
            for b in (-0.01, 0.01)
        },
        # per-field word weights: the TF-IDF cosine of the question alone added, and the whole
        # text's TF-IDF weighed more or less beside the model
        **{f"qwords{w}": R.Variant(question_words=w) for w in (0.05, 0.10)},
        **{f"w{w}": R.Variant(word_weight=w) for w in (0.10, 0.20)},
    }
)

if __name__ == "__main__":
    R.main()
