"""The built-in verdict's shortcuts change no verdict: the cached bucket of a token, the
header block read once per mail and two patterns reordered for the regex engine give what
computing them as before gives, on corpus mail."""

from __future__ import annotations

import re

import pytest

from mailrouter.parsing import parse_message
from mailrouter.spam import features, verdict
from mailrouter.spam.features import mail_tokens
from mailrouter.spam.header_block import read_header_block
from mailrouter.spam.model import bucket
from mailrouter.spam.raw_traits import MAX_RAW_BYTES
from tests.conftest import shared_path

CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0}


def corpus_sample() -> list[bytes]:
    """Every 25th ham and spam mail of the shared corpus (about 120 mails of both)."""
    raws = []
    for folder in ("easy-ham-1", "spam-1"):
        files = sorted(p for p in shared_path("corpora", "spamassassin", folder).iterdir())
        raws += [p.read_bytes() for p in files if p.name[:1].isdigit()][::25]
    return raws


def test_a_verdict_with_the_header_block_passed_in_is_the_verdict_without() -> None:
    model = verdict.shipped_model()
    assert model is not None
    # A header block longer than the raw traits read (MAX_RAW_BYTES) is read again by them.
    long_head = b"X-Filler: " + b"a" * 70 + b"\n"
    padded = long_head * (MAX_RAW_BYTES // len(long_head) + 1) + b"Date: 1 Dec 2026 10:00\n"
    samples = [*corpus_sample(), padded + b"Subject: hi\n\nHello"]
    levels = set()
    for raw in samples:
        parsed = parse_message(raw)
        fresh = verdict.builtin_verdict(parsed, CONFIG, model, raw)
        shortcut = verdict.builtin_verdict(
            parsed, CONFIG, model, raw, headers=read_header_block(raw)
        )
        assert shortcut == fresh
        levels.add(fresh.level)
    assert {verdict.HAM, verdict.CERTAIN} <= levels  # the sample is varied


@pytest.mark.parametrize("repeat", [1, 2])
def test_a_cached_bucket_is_the_bucket_computed_afresh(repeat: int) -> None:
    tokens = {t for raw in corpus_sample()[:40] for t in mail_tokens(parse_message(raw), raw)}
    tokens |= {"您好", "감사", "ありがとう", "b:sites-2", "u:example", "l:han", ""}
    for _ in range(repeat):
        assert {t: bucket(t) for t in tokens} == {t: bucket.__wrapped__(t) for t in tokens}


#: The phone and hotline patterns as first written (a look-behind first, which keeps the regex
#: engine from skipping ahead); features.py has them with the look-behind after the first digit.
WRITTEN_FIRST = {
    "_PHONE_RE": r"(?<!\d)(?:1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{1,3}-\d{3,4}-\d{4})(?!\d)",
    "_HOTLINE_RE": r"(?<!\d)[48]00[- ]?\d{3}[- ]?\d{4}(?!\d)",
}
EDGES = [
    "call 13812345678 now", "213812345678", "a13812345678", "138-1234-5678", "0755-8666-1200",
    "10755-8666-1200", "x0755-8666-1200", "400-800-1234", "4008001234", "14008001234",
    "800 555 0199", "1800 555 0199", "4008001234567", "电话：400-820-8820。", "",
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(WRITTEN_FIRST))
def test_a_reordered_pattern_finds_what_it_found_as_first_written(name: str) -> None:
    fast, written = getattr(features, name), re.compile(WRITTEN_FIRST[name])
    texts = EDGES + [parse_message(raw).text or "" for raw in corpus_sample()]
    for text in texts:
        assert fast.findall(text) == written.findall(text)
        found, expected = fast.search(text), written.search(text)
        assert (found and found.span()) == (expected and expected.span())
    assert any(written.search(text) for text in EDGES)
