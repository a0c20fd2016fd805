"""Time ``parse_message`` on the intake benchmark's mail mix, and dump what it returns.

The intake worker's target (150 messages/s) leaves parsing about 0.5 ms per message; this
measures it alone, without SMTP or a database. ``--dump`` writes a canonical JSON form of
every ParsedMail field for every file under the shared corpora (each file as it is, and again
without the mbox ``From `` line when it has one) and for the benchmark mix, so a change to the
parser can be diffed against the output before it: the results must stay the same.

    .venv/bin/python bench/parse_bench.py                    # ms per message, best of 5 rounds
    .venv/bin/python bench/parse_bench.py --dump before.json # also write the canonical dump
    diff before.json after.json

On a shared machine, compare against an older single-file parser in alternating rounds (the
layout before the parser became a package; a package copy cannot be loaded beside ours):

    git show f5c5e0b:mailrouter/parsing/__init__.py > /tmp/parsing_old.py
    .venv/bin/python bench/parse_bench.py --against /tmp/parsing_old.py
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import itertools
import json
import logging
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import intake_bench

from mailrouter.parsing import ParsedMail, parse_message

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"


def bench_mix(count: int, seed: int, *, deterministic: bool = False) -> list[bytes]:
    """The intake benchmark's messages; ``deterministic`` fixes Message-IDs, dates, boundaries."""
    if not deterministic:
        return [raw for _sender, _rcpt, raw in intake_bench.make_messages(count, seed)]
    counter = itertools.count()
    saved = intake_bench.make_msgid, intake_bench.utcnow
    state = random.getstate()
    intake_bench.make_msgid = lambda domain: f"<bench.{next(counter)}@{domain}>"
    intake_bench.utcnow = lambda: datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    random.seed(seed)  # MIME boundaries come from the global generator
    try:
        return [raw for _sender, _rcpt, raw in intake_bench.make_messages(count, seed)]
    finally:
        intake_bench.make_msgid, intake_bench.utcnow = saved
        random.setstate(state)


def canonical(parsed: ParsedMail) -> dict[str, Any]:
    """Every field as JSON; attachment bytes as length and SHA-256 (they can be large)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, bytes):
            return {"len": len(value), "sha256": hashlib.sha256(value).hexdigest()}
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    return plain(parsed)


def corpus_inputs(root: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) for every file under ``root``; mbox files also without their From line."""
    inputs = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = str(path.relative_to(root))
        raw = path.read_bytes()
        inputs.append((name, raw))
        if raw.startswith(b"From "):
            inputs.append((f"{name} (no From line)", raw.partition(b"\n")[2]))
    return inputs


def dump(target: Path, corpora: Path, count: int, seed: int) -> None:
    inputs = corpus_inputs(corpora) if corpora.is_dir() else []
    if not inputs:
        print(f"warning: no corpora at {corpora}; dumping the bench mix only", file=sys.stderr)
    mix = bench_mix(count, seed, deterministic=True)
    inputs += [(f"bench/{number}", raw) for number, raw in enumerate(mix)]
    started = time.perf_counter()
    result = {name: canonical(parse_message(raw)) for name, raw in inputs}
    elapsed = time.perf_counter() - started
    target.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"dumped {len(result)} messages to {target} ({elapsed:.1f} s)")


def load_parser(path: Path) -> Callable[[bytes], Any]:
    """``parse_message`` of another copy of mailrouter/parsing.py (it imports no project code)."""
    spec = importlib.util.spec_from_file_location("parsing_against", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module.parse_message


def time_mix(
    parsers: dict[str, Callable[[bytes], Any]], messages: list[bytes], rounds: int
) -> dict[str, list[float]]:
    """Milliseconds per message of each round over the whole mix, parsers taking turns."""
    for parse in parsers.values():
        for raw in messages[:50]:  # warm-up: imports, regex and codec caches
            parse(raw)
    results: dict[str, list[float]] = {label: [] for label in parsers}
    for _ in range(rounds):
        for label, parse in parsers.items():
            started = time.perf_counter()
            for raw in messages:
                parse(raw)
            results[label].append(1000 * (time.perf_counter() - started) / len(messages))
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dump", type=Path, metavar="FILE", help="write the canonical dump")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--against", type=Path, metavar="PARSING_PY", help="also time this copy")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the corpora are meant to provoke parser warnings

    messages = bench_mix(args.messages, args.seed)
    parsers = {"parse_message": parse_message}
    if args.against:
        parsers[str(args.against)] = load_parser(args.against)
    for label, rounds in time_mix(parsers, messages, args.rounds).items():
        print(
            f"{label}: {len(messages)} messages, ms/message best {min(rounds):.3f}, "
            f"rounds {', '.join(f'{r:.3f}' for r in rounds)}"
        )
    if args.dump:
        dump(args.dump, args.corpora, args.messages, args.seed)


if __name__ == "__main__":
    main()
