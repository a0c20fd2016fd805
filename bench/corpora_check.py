"""Parse every message in the shared mail corpora and print what the parser made of them.

Usage: ``.venv/bin/python bench/corpora_check.py [--corpora PATH]``

The corpora (../shared/corpora beside the repository) are real mail from public sources:
ordinary list mail, spam, bounces from ~60 MTAs and malformed messages. The script reports
parse failures, time per message, charset repairs, which mail counts as automatic and why,
and how much of each bounce ``bounce_info`` could read. It exits non-zero when a message
raised or a bounce was not recognised as automatic.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

from mailrouter.automatic import automatic_reason, bounce_info
from mailrouter.parsing import NO_TEXT_MARKER, parse_message

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
OWN_ADDRESSES = ["support@example.com"]


def read_corpus_file(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw.startswith(b"From "):  # mbox separator line in spamassassin/
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


def folder_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    return "/".join(parts[:2]) if parts[0] in ("spamassassin", "parser-fixtures") else parts[0]


def reason_kind(reason: str | None) -> str:
    if reason is None:
        return "not automatic"
    return re.split(r" \(|:", reason, maxsplit=1)[0]


def defect_kind(defect: str) -> str:
    text = defect.split(": ", 1)[-1] if defect.startswith("message") else defect
    return re.sub(r"'[^']*'|\d+", "…", text)[:70]


def check(root: Path) -> int:
    paths = sorted(root.rglob("*.eml"))
    if not paths:
        print(f"no .eml files under {root}")
        return 2
    failures = 0
    by_folder: dict[str, Counter[str]] = {}
    reasons: dict[str, Counter[str]] = {}
    defects: Counter[str] = Counter()
    slowest: list[tuple[float, str]] = []
    bounce_stats: Counter[str] = Counter()
    unrecognised_bounces: list[str] = []
    started = time.perf_counter()
    for path in paths:
        folder = folder_of(path, root)
        stats = by_folder.setdefault(folder, Counter())
        raw = read_corpus_file(path)
        begin = time.perf_counter()
        try:
            parsed = parse_message(raw)
        except Exception as exc:  # parse_message promises never to raise; report if it does
            failures += 1
            print(f"EXCEPTION {path.relative_to(root)}: {exc!r}")
            continue
        elapsed = time.perf_counter() - begin
        slowest.append((elapsed, str(path.relative_to(root))))
        stats["messages"] += 1
        stats["no text"] += parsed.text == NO_TEXT_MARKER
        stats["with defects"] += bool(parsed.defects)
        stats["with HTML"] += parsed.html_sanitized is not None
        stats["attachments"] += len(parsed.attachments)
        stats["generated Message-ID"] += parsed.message_id_generated
        stats["zh"] += parsed.language == "zh"
        stats["\ufffd in text"] += "\ufffd" in parsed.text or "\ufffd" in parsed.subject
        defects.update(defect_kind(defect) for defect in parsed.defects)
        reason = automatic_reason(parsed, OWN_ADDRESSES)
        reasons.setdefault(folder, Counter())[reason_kind(reason)] += 1
        if folder == "bounces":
            if reason is None:
                unrecognised_bounces.append(path.name)
            info = bounce_info(parsed, raw)
            if info is None:
                bounce_stats["no bounce info"] += 1
                continue
            bounce_stats[f"kind {info.kind}"] += 1
            bounce_stats["names a recipient"] += bool(
                info.failed_recipients or info.delayed_recipients
            )
            bounce_stats["names the original Message-ID"] += bool(info.original_message_id)
    total = time.perf_counter() - started

    print(f"corpora: {root.resolve()}")
    print(f"{len(paths)} files, {total:.1f} s ({1000 * total / len(paths):.1f} ms per message)\n")
    for folder, stats in sorted(by_folder.items()):
        print(f"{folder}: " + ", ".join(f"{key} {value}" for key, value in stats.items()))
    print("\nautomatic mail by folder:")
    for folder, counter in sorted(reasons.items()):
        count = sum(counter.values())
        flagged = count - counter["not automatic"]
        print(f"  {folder}: {flagged}/{count} ({flagged / count:.1%}) automatic")
        for kind, number in counter.most_common():
            print(f"      {number:5d}  {kind}")
    print("\nbounces/ read by bounce_info:")
    for key, value in sorted(bounce_stats.items()):
        print(f"      {value:5d}  {key}")
    print(f"  not recognised as automatic: {len(unrecognised_bounces)} {unrecognised_bounces}")
    print("\nmost common repairs (defects):")
    for kind, number in defects.most_common(15):
        print(f"      {number:5d}  {kind}")
    print("\nslowest messages:")
    for elapsed, name in sorted(slowest)[-5:]:
        print(f"      {1000 * elapsed:6.1f} ms  {name}")
    return 1 if failures or unrecognised_bounces else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = parser.parse_args(argv)
    if not args.corpora.is_dir():
        print(f"corpora not found at {args.corpora}; nothing to check")
        return 0
    return check(args.corpora)


if __name__ == "__main__":
    sys.exit(main())
