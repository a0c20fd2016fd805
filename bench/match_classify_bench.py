"""Cost per new ticket of the worker's two text steps: FAQ matching and classification.

Times ``faq.matching.answers_for`` (the auto-reply's FAQ answers) and ``routing.decide`` (department
and urgency) on the intake bench's messages (``make_messages(2000, 7)``: subject and new text,
as the worker passes them), in an instance set up as ``intake_bench.prepare()`` does (demo FAQ,
its index, the bootstrap classifier). Both run in the worker's order, one message after the
other, inside an app context and one session, with one transaction per WORKER_BATCH_SIZE
messages as in the worker (what is read once per transaction is read as often as there). Times
are CPU time of this process: on a busy machine they vary less than wall time, and the worker
is CPU-bound.

Every message's text is new to the worker, but its lines recur, so a warm-up on other messages
fills the caches of words and Chinese runs first, and the caches of whole texts are emptied
before each round (``forget_texts``): otherwise the second round would only read caches.

``--dump FILE`` writes every result as JSON lines (search hits with scores, the offered
answers, both predictions with every class's probability, the routing decision), so a change
can be checked to give the same answers; ``--compare A B`` compares two dumps.

    .venv/bin/python bench/match_classify_bench.py [--rounds 5] [--dump before.jsonl]
    .venv/bin/python bench/match_classify_bench.py --compare before.jsonl after.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake_bench import make_messages, prepare

from faq.index_sync import get_index
from faq.matching import answers_for
from faq.search import analysis
from mailrouter.parsing import parse_message
from mailrouter.routing import classifier, features, model_store
from mailrouter.routing.decisions import active_departments, decide, urgency_rules
from support.core import text as text_support
from support.core.db import get_db

TOLERANCE = 1e-9


def bench_mail(count: int, seed: int) -> list[tuple[str, str, str]]:
    """(subject, new text, reply language) of the intake bench's messages."""
    mail = []
    for _sender, _recipients, raw in make_messages(count, seed):
        parsed = parse_message(raw)
        language = "zh" if parsed.language.startswith("zh") else "en"
        mail.append((parsed.subject, parsed.new_text, language))
    return mail


def forget_texts() -> None:
    """Empty the caches keyed on a whole text (a new message never hits them)."""
    analysis._analyzed.cache_clear()
    features.normalize_text.cache_clear()
    text_support.clear_caches()


def faq_text(subject: str, body: str) -> str:
    """What the auto-reply searches with (autoreply._question_text)."""
    return f"{subject}\n{body}".strip()


def run(session: Any, app: Any, mail: Sequence[tuple[str, str, str]]) -> tuple[float, float]:
    """Milliseconds per call of answers_for and of decide over `mail`."""
    config = app.config
    bundle = model_store.current_model(config, app.instance_path)
    active = active_departments(session)
    batch = int(config["WORKER_BATCH_SIZE"])
    matching = deciding = 0.0
    clock = time.process_time
    for number, (subject, body, language) in enumerate(mail):
        if number % batch == 0:
            session.rollback()  # the worker's next transaction (nothing was written)
        started = clock()
        decide(subject, body, config=config, bundle=bundle, active_codes=active)
        middle = clock()
        answers_for(session, faq_text(subject, body), language)
        matching += clock() - middle
        deciding += middle - started
    return 1000 * matching / len(mail), 1000 * deciding / len(mail)


def dump(session: Any, app: Any, mail: Sequence[tuple[str, str, str]], path: Path) -> None:
    """One JSON line per message: everything answers_for and decide answered, scores unrounded."""
    config = app.config
    bundle = model_store.current_model(config, app.instance_path)
    active = active_departments(session)
    rules = urgency_rules(config)
    index = get_index(app, session=session)
    with open(path, "w", encoding="utf-8") as out:
        for subject, body, language in mail:
            text = faq_text(subject, body)
            results = index.search(text, language=language, limit=6, spelling=False, snippets=False)
            matches = answers_for(session, text, language)
            department, urgency = classifier.predict(bundle, subject, body, urgency_rules=rules)
            row = bundle.scorer.row(features.mail_text(subject, body))
            decision = decide(subject, body, config=config, bundle=bundle, active_codes=active)
            decision.classification.pop("decided_at")  # the time, and the model's training
            decision.classification.pop("model_version")  # time: they differ from run to run
            record = {
                "search": {
                    "total": results.total,
                    "hits": [[h.article_id, h.score] for h in results.hits],
                },
                "answers_for": [[m.article_id, m.question, m.excerpt, m.url_path] for m in matches],
                "predictions": [
                    [p.label, p.probability, p.reasons, p.rule] for p in (department, urgency)
                ],
                "probabilities": {
                    target: bundle.scorer.probabilities(target, row).tolist()
                    for target in classifier.TARGETS
                },
                "decision": [
                    decision.department_code,
                    decision.needs_triage,
                    decision.urgency,
                    decision.classification,
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def _differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON values differ (numbers by more than TOLERANCE)."""
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return [] if math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE) else [f"{where}: {a} {b}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a)} {sorted(b)}"]
        return [d for key in a for d in _differences(a[key], b[key], f"{where}.{key}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {a} {b}"]
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} {b!r}"]


def compare(first: Path, second: Path) -> int:
    """Print where two dumps differ; returns the number of differing messages."""
    lines = first.read_text("utf-8").splitlines(), second.read_text("utf-8").splitlines()
    if len(lines[0]) != len(lines[1]):
        print(f"{len(lines[0])} messages against {len(lines[1])}")
        return max(len(lines[0]), len(lines[1]))
    differing = 0
    for number, (a, b) in enumerate(zip(*lines, strict=True)):
        found = _differences(json.loads(a), json.loads(b), f"message {number}")
        if found:
            differing += 1
            if differing <= 10:
                print("\n".join(found[:5]))
    print(f"{len(lines[0])} messages, {differing} differ (numbers compared to {TOLERANCE:g})")
    return differing


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dump", type=Path, help="write every result to this JSON lines file")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"))
    args = parser.parse_args(argv)
    if args.compare:
        raise SystemExit(1 if compare(*args.compare) else 0)
    logging.disable(logging.WARNING)

    app = prepare(None, False)
    mail = bench_mail(args.messages, args.seed)
    warm_up = bench_mail(200, args.seed + 1000)
    database = get_db(app)
    with app.app_context(), database.session() as session:
        run(session, app, warm_up)  # imports, the index and its postings, words and runs
        figures = []
        for _round in range(args.rounds):
            forget_texts()
            figures.append(run(session, app, mail))
        if args.dump:
            dump(session, app, mail, args.dump)
    for name, values in zip(("answers_for", "decide"), zip(*figures, strict=True), strict=True):
        rounds = ", ".join(f"{ms:.3f}" for ms in values)
        print(f"{name:9s} {statistics.median(values):.3f} ms/call (median of {rounds})")
    database.dispose()


if __name__ == "__main__":
    main()
