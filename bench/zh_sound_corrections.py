"""Every Chinese typo-by-sound correction the FAQ search makes on the Chinese tuning questions.

For each tuning question in Chinese (the three Chinese FAQs' tuning sets and the demo FAQ's
faq/eval/tune.csv), lists the stretches `faq.search.homophones.corrections` replaces, as the
search reads them (`faq.search.engine._sounds_like`, used by every search's word ranking and by
"did you mean"), and whether the portal shows the corrected query ("Showing results for" or
"Did you mean"; decided by the word search alone, so a BM25 index gives the portal's answer).

Each correction is looked up in the hand-labelled list bench/zh_sound_corrections.csv (set,
query, typed, corrected, typo: yes when the customer meant the corrected word, no otherwise);
the summary counts the real typos corrected, the wrong corrections made and the labelled typos
no longer corrected. Only tuning sets: never run it on a held-out set.

    .venv/bin/python bench/zh_sound_corrections.py [--unlabelled]

`--unlabelled` prints the corrections the list has no label for as CSV rows to label by hand.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faq.evaluate import DEMO_CONTENT, TUNE_EVAL, load_demo_docs, read_eval_csv
from faq.search import SearchIndex
from faq.search.engine import _sounds_like
from support.core.text import detect_language

SCALE = Path(__file__).resolve().parent / "faq_scale"
SETS = {
    "zh_bank": (SCALE / "zh_bank.json", SCALE / "zh_bank_tune.csv"),
    "zh_telecom": (SCALE / "zh_telecom.json", SCALE / "zh_telecom_tune.csv"),
    "zh_shop": (SCALE / "zh_shop.json", SCALE / "zh_shop_tune.csv"),
    "demo": (DEMO_CONTENT, TUNE_EVAL),
}
LABELS = Path(__file__).with_suffix(".csv")
FIELDS = ["set", "query", "typed", "corrected", "typo"]


def read_labels(path: Path = LABELS) -> dict[tuple[str, str, str, str], str]:
    """(set, query, typed, corrected) -> "yes" / "no"."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["set"], row["query"], row["typed"], row["corrected"]): row["typo"].strip()
            for row in csv.DictReader(handle)
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unlabelled", action="store_true", help="print unlabelled rows as CSV")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    labels = read_labels()
    seen: set[tuple[str, str, str, str]] = set()
    unlabelled: list[list[str]] = []
    counts = {"yes": 0, "no": 0, "?": 0}
    shown = {"yes": 0, "no": 0, "?": 0}
    print(f"{'set':<10} {'label':<5} {'shown':<5} typed -> corrected   query")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (content, questions) in SETS.items():
            index = SearchIndex(Path(tmp) / name)  # the word search only: corrections are its
            index.rebuild(load_demo_docs(content))
            ranking = index._ranking()
            assert ranking is not None
            for query, _expected in read_eval_csv(questions):
                if detect_language(query, min_cjk_share=0) != "zh":
                    continue
                found = _sounds_like(ranking, query)
                if not found:
                    continue
                results = index.search(query, language="zh")
                on_page = (results.corrected_query or results.did_you_mean) is not None
                for start, end, word in found:
                    key = (name, query, query[start:end], word)
                    seen.add(key)
                    label = labels.get(key, "?")
                    counts[label] = counts.get(label, 0) + 1
                    if on_page:
                        shown[label] = shown.get(label, 0) + 1
                    if label == "?":
                        unlabelled.append([*key, ""])
                    mark = "shown" if on_page else ""
                    print(f"{name:<10} {label:<5} {mark:<5} {key[2]} -> {word}   {query}")
    lost = [key for key, label in labels.items() if label == "yes" and key not in seen]
    for key in lost:
        print(f"{key[0]:<10} LOST        {key[2]} -> {key[3]}   {key[1]}")
    print(
        f"corrections: {sum(counts.values())}; real typos {counts['yes']} "
        f"(of {sum(1 for label in labels.values() if label == 'yes')} labelled), "
        f"wrong {counts['no']}, unlabelled {counts['?']}; "
        f"shown on the page: typos {shown['yes']}, wrong {shown['no']}, unlabelled {shown['?']}"
    )
    if args.unlabelled and unlabelled:
        writer = csv.writer(sys.stdout)
        writer.writerows(unlabelled)


if __name__ == "__main__":
    main()
