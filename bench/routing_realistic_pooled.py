"""Department and urgency of the hand-written realistic sets, all named sets in one run.

``bench/routing_realistic_eval.py`` scores one set with one freshly trained model; this script
trains the model once and scores every set named with ``--sets`` (default 1-13: set 14 and
later are blind sets, scored only by the lead), printing one line a set and the pooled figures
(department, urgency, off by two or more, urgency 1 precision and recall), then the pooled
urgency misses by (true, decided) level. ``--dump FILE`` writes each mail's decision as JSON
lines (set, line, labels, decision, rule, model probability, subject, body) for error
analysis; ``--model FILE`` keeps the trained bundle between runs (a pickle written by this
script on this machine: only for rule changes, retrain after a change to the training rows).

    .venv/bin/python bench/routing_realistic_pooled.py [--sets 1-13] [--dump FILE]
        [--model FILE]
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.routing_realistic_eval import SET_PATHS, TRIAGE, decide_mail, load
from mailrouter.routing.classifier import ClassifierBundle, train
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.settings import SETTINGS


def set_numbers(spec: str) -> list[str]:
    """'1-13' or '1,4,7' -> the set numbers, each one beside the eval script."""
    numbers: list[str] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        numbers += [str(n) for n in range(int(first), int(last or first) + 1)]
    missing = [n for n in numbers if n not in SET_PATHS]
    if missing:
        raise SystemExit(f"no such set: {', '.join(missing)}")
    return numbers


def model(config: dict[str, Any], path: Path | None) -> ClassifierBundle:
    if path is not None and path.exists():
        with path.open("rb") as file:  # our own file, written below on this machine
            bundle: ClassifierBundle = pickle.load(file)
        return bundle
    bundle = train(
        load_bootstrap_examples(),
        evaluate=True,
        min_confidence=float(config["CLASSIFIER_MIN_CONFIDENCE"]),
    )
    if path is not None:
        with path.open("wb") as file:
            pickle.dump(bundle, file)
    return bundle


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    praise_decided = sum(r["got_urgency"] == 1 for r in rows)
    praise_true = sum(r["urgency"] == 1 for r in rows)
    praise_right = sum(r["urgency"] == 1 == r["got_urgency"] for r in rows)
    return {
        "mails": n,
        "department": sum(r["got_department"] == r["department"] for r in rows),
        "urgency": sum(r["got_urgency"] == r["urgency"] for r in rows),
        "far": sum(abs(r["got_urgency"] - r["urgency"]) >= 2 for r in rows),
        "praise": f"{praise_right}/{praise_decided} {praise_right}/{praise_true}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="1-13")
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()

    config = {setting.name: setting.default for setting in SETTINGS}
    bundle = model(config, args.model)
    started = time.process_time()
    rows: list[dict[str, Any]] = []
    for number in set_numbers(args.sets):
        for mail in load("all", SET_PATHS[number]):
            decision = decide_mail(mail, config, bundle)
            urgency = decision.classification["urgency"]
            rows.append(
                {
                    "set": number,
                    "line": mail["line"],
                    "language": mail.get("language"),
                    "department": mail["department"],
                    "urgency": mail["urgency"],
                    "got_department": decision.department_code or TRIAGE,
                    "got_urgency": decision.urgency,
                    "rule": urgency.get("rule"),
                    "source": urgency.get("source"),
                    "probability": urgency.get("probability"),
                    "model_label": urgency.get("model_label"),
                    "subject": mail["subject"],
                    "body": mail["body"],
                    "reason": mail.get("reason"),
                }
            )
    cpu = time.process_time() - started
    print(f"model {bundle.model_version}; {len(rows)} mails decided in {cpu:.1f} s CPU\n")
    print(f"{'set':>4} {'mails':>5} {'dep':>4} {'urg':>4} {'off2+':>5}  praise prec / recall")
    for number in [*set_numbers(args.sets), "all"]:
        part = [r for r in rows if number in ("all", r["set"])]
        s = score(part)
        print(
            f"{number:>4} {s['mails']:>5} {s['department']:>4} {s['urgency']:>4} "
            f"{s['far']:>5}  {s['praise']}"
        )
    misses = Counter(
        (r["urgency"], r["got_urgency"]) for r in rows if r["urgency"] != r["got_urgency"]
    )
    print(
        "\nurgency misses (true -> decided): "
        + ", ".join(f"{t}->{g} {c}" for (t, g), c in sorted(misses.items(), key=lambda i: -i[1]))
    )
    if args.dump is not None:
        with args.dump.open("w", encoding="utf-8") as file:
            for row in rows:
                file.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
