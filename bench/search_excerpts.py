"""CPU time of the staff search's excerpts (`support.desk.search.message_excerpts`), its
Python part: finding the searched words in each result's newest messages and cutting the
marked excerpt. The worst page: 25 results of `EXCERPT_MESSAGES` messages each, every message
read as far as the index reads it (`MESSAGE_CHARS`), the words found only in the oldest (so
every message is looked at) or nowhere; and the usual page, found in the newest message.

    .venv/bin/python bench/search_excerpts.py

CPU time (time.process_time), best of 5: the machine is shared.
"""

from __future__ import annotations

import time

from support.core import fulltext
from support.core.snippets import marked_excerpt
from support.desk.search import EXCERPT_MESSAGES, MESSAGE_CHARS, PAGE_SIZE

ENGLISH = "The dishwasher beeps three times and stops in the middle of the programme again. "
CHINESE = "净化器用了一个月，现在噪音特别大，晚上没法睡觉，已经联系过客服好几次了。"
MIXED = "我的 Lumen K200 kettle 用了两周就不加热了, the light goes on but the water stays cold. "


def _message(filler: str, words: str | None) -> str:
    text = (filler * (MESSAGE_CHARS // len(filler) + 1))[: MESSAGE_CHARS - 40]
    return text + (f" {words}" if words else "")


def _page(filler: str, words: str, where: str) -> list[list[str]]:
    """PAGE_SIZE tickets of EXCERPT_MESSAGES messages, newest first."""
    tickets = []
    for _ in range(PAGE_SIZE):
        messages = [_message(filler, None) for _ in range(EXCERPT_MESSAGES)]
        if where == "newest":
            messages[0] = _message(filler, words)
        elif where == "oldest":
            messages[-1] = _message(filler, words)
        tickets.append(messages)
    return tickets


def _excerpts(page: list[list[str]], terms: list[str]) -> int:
    """The loop of message_excerpts over texts in hand (no database)."""
    made = 0
    for messages in page:
        best: tuple[int, str, list[tuple[int, int]]] | None = None
        for text in messages:
            if best is not None and best[0] == len(terms):
                break
            spans, found = fulltext.term_spans(text, terms)
            if found and (best is None or len(found) > best[0]):
                best = (len(found), text, spans)
        if best is not None:
            marked_excerpt(best[1], best[2])
            made += 1
    return made


def main() -> None:
    print(f"{PAGE_SIZE} results x {EXCERPT_MESSAGES} messages x {MESSAGE_CHARS} characters")
    print(f"{'text':8} {'query':22} {'found in':8} {'CPU ms':>7} {'excerpts':>8}")
    for name, filler, query, words in (
        ("English", ENGLISH, "order 5512", "my order 5512 arrived broken"),
        ("Chinese", CHINESE, "上海明辉", "发票抬头应该是上海明辉科技有限公司"),
        ("mixed", MIXED, "e21 drain", "now error E21 and it will not drain"),
    ):
        terms = fulltext.query_terms(query)
        for where in ("newest", "oldest", "nowhere"):
            page = _page(filler, words, where)
            best = float("inf")
            for _ in range(5):
                start = time.process_time()
                made = _excerpts(page, terms)
                best = min(best, time.process_time() - start)
            print(f"{name:8} {query:22} {where:8} {best * 1000:7.1f} {made:8}")


if __name__ == "__main__":
    main()
