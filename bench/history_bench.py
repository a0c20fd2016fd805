"""The router trained on a company's labelled history against a plain linear baseline.

The history is SYNTHETIC (bench/ticket_history.py: 3,000 English tickets, ten queues, three
priorities, label noise, typos; fixed seed), split 75/25 stratified by queue. Both sides see
the same training rows and are scored on the same held-out rows, over the *true* labels:

* baseline: TF-IDF word 1-2-grams + character 2-5-grams, LinearSVC(class_weight="balanced");
* the product: the shipped examples plus the training rows imported as history (source
  "csv"), chosen as `support train` chooses them (`training.choose_examples`), priorities read
  through the default CLASSIFIER_PRIORITY_WORDS (low 1, medium 2, high 4), trained by
  `classifier.train` (model choice by cross-validation included); urgency both from the model
  alone and as routing decides it (keyword rules, less the ones the history overrules).

    .venv/bin/python bench/history_bench.py [--size 3000] [--seed 19]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ticket_history import SEED, SIZE, generate

from mailrouter.routing.classifier import DEFAULT_MIN_CONFIDENCE, predict, train
from mailrouter.routing.features import mail_text
from mailrouter.routing.history import (
    format_rule_report,
    overruled,
    priority_level,
    rule_report,
)
from mailrouter.routing.labels import Example, load_bootstrap_examples
from mailrouter.routing.training import (
    DEFAULT_BOOTSTRAP_MIN,
    SOURCE_BOOTSTRAP,
    SOURCE_CSV,
    choose_examples,
)
from mailrouter.routing.urgency_rules import DEFAULT_URGENCY_RULES

RULE_MIN_AGREEMENT = 0.5  # the setting's default


def baseline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    return Pipeline([("features", features), ("svm", LinearSVC(class_weight="balanced"))])


def figures(truth: list[object], predicted: list[object]) -> str:
    labels = sorted({str(t) for t in truth})
    truth_s, predicted_s = [str(t) for t in truth], [str(p) for p in predicted]
    macro = f1_score(truth_s, predicted_s, labels=labels, average="macro", zero_division=0)
    return f"{accuracy_score(truth_s, predicted_s):.3f} / {macro:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    tickets = generate(args.size, args.seed)
    examples = [
        Example(t.subject, t.body, t.queue, priority_level(t.priority) or 2) for t in tickets
    ]
    train_index, test_index = train_test_split(
        list(range(len(examples))),
        test_size=0.25,
        stratify=[e.department for e in examples],
        random_state=0,
    )
    history = [examples[i] for i in train_index]
    held_out = [examples[i] for i in test_index]
    texts = [mail_text(e.subject, e.body) for e in history]
    test_texts = [mail_text(e.subject, e.body) for e in held_out]
    truth = {
        "department": [e.department for e in held_out],
        "priority": [e.urgency for e in held_out],
    }

    rows: dict[str, dict[str, str]] = {}
    started = time.perf_counter()
    for target, labels in (
        ("department", [e.department for e in history]),
        ("priority", [e.urgency for e in history]),
    ):
        model = baseline().fit(texts, labels)
        rows.setdefault("baseline TF-IDF + LinearSVC (balanced)", {})[target] = figures(
            truth[target], list(model.predict(test_texts))
        )
    baseline_seconds = time.perf_counter() - started

    bootstrap = load_bootstrap_examples()
    active = {e.department for e in bootstrap} | {e.department for e in history}
    chosen = choose_examples(
        [(e, SOURCE_BOOTSTRAP) for e in bootstrap] + [(e, SOURCE_CSV) for e in history],
        active,
        DEFAULT_BOOTSTRAP_MIN,
    )
    started = time.perf_counter()
    bundle = train(chosen.examples, evaluate=False, min_confidence=DEFAULT_MIN_CONFIDENCE)
    product_seconds = time.perf_counter() - started
    report = rule_report(history, DEFAULT_URGENCY_RULES, min_agreement=RULE_MIN_AGREEMENT)
    bundle.overruled_rules = overruled(report)
    model_only = [predict(bundle, e.subject, e.body, urgency_rules=None) for e in held_out]
    routed = [predict(bundle, e.subject, e.body) for e in held_out]
    name = "product (history + needed shipped examples, model choice)"
    rows[name] = {
        "department": figures(truth["department"], [d.label for d, _u in model_only]),
        "priority": figures(truth["priority"], [u.label for _d, u in model_only]),
    }
    rows["product, urgency as routed (rules the history overrules are off)"] = {
        "department": rows[name]["department"],
        "priority": figures(truth["priority"], [u.label for _d, u in routed]),
    }
    bundle.overruled_rules = frozenset()
    with_all_rules = [predict(bundle, e.subject, e.body) for e in held_out]
    rows["product, every keyword rule winning (as before)"] = {
        "department": rows[name]["department"],
        "priority": figures(truth["priority"], [u.label for _d, u in with_all_rules]),
    }

    print(
        f"SYNTHETIC history: {len(examples)} tickets (seed {args.seed}), "
        f"{len(history)} for training, {len(held_out)} held out"
    )
    print(
        f"product trained on {len(chosen.examples)} examples ({chosen.counts}); shipped ones "
        f"used for {chosen.bootstrap_for}; {chosen.bootstrap_dropped} left out"
    )
    print(
        f"model choice: {bundle.choice.get('classifiers')}, char weight "
        f"{bundle.choice.get('char_weight')}"
    )
    width = max(len(n) for n in rows)
    print(f"\n{'accuracy / macro-F1 over true labels':<{width}}  department     priority")
    for row_name, values in rows.items():
        print(f"{row_name:<{width}}  {values['department']:<13}  {values['priority']}")
    print(
        f"\ntraining seconds: baseline {baseline_seconds:.1f} (two targets), "
        f"product {product_seconds:.1f}"
    )
    predicted_departments = {str(d.label) for d, _u in model_only}
    print(
        "departments predicted that the history lacks: "
        f"{sorted(predicted_departments - set(truth['department'])) or 'none'}"
    )
    for line in format_rule_report(report)[:15]:
        print(line)


if __name__ == "__main__":
    main()
