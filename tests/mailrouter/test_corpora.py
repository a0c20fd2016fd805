"""Robustness against real mail: ~3,600 messages from public corpora beside the project.

The corpora live in ``../shared/corpora`` next to the repository (see its README); the tests skip
when it is absent, e.g. in a fresh clone without it. ``bench/corpora_check.py`` prints the same
figures in more detail.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailrouter.automatic import automatic_reason, bounce_info
from mailrouter.parsing import NO_TEXT_MARKER, ParsedMail, parse_message

CORPORA = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora"
OWN_ADDRESSES = ["support@example.com"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CORPORA.is_dir(), reason=f"mail corpora not found at {CORPORA} (../shared/corpora)"
    ),
]

# Charsets the parser promises to decode without mojibake (declared in a part or a header).
PROMISED_CHARSETS = re.compile(
    rb"(?:charset\s*=\s*\"?|=\?)"
    rb"(gb2312|gbk|x-gbk|cp936|gb18030|big5|iso-2022-jp|koi8-r|windows-125\d|"
    rb"utf-7|unicode-1-1-utf-7)[\"'?;\s]",
    re.IGNORECASE,
)
MOJIBAKE = re.compile(
    "\ufffd"  # replacement character: bytes that did not decode
    "|[\x80-\x9f]"  # C1 controls: windows-125x bytes read as Latin-1
    "|[ÃÂ][\x80-\xbf]|â€"  # UTF-8 read as Latin-1/windows-1252
    "|锟斤拷"  # UTF-8 replacement characters read as GBK
)


@dataclass
class Result:
    name: str
    raw: bytes
    parsed: ParsedMail
    reason: str | None


def read_corpus_file(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw.startswith(b"From "):  # mbox separator line in spamassassin/
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


@pytest.fixture(scope="module")
def results() -> dict[str, list[Result]]:
    by_folder: dict[str, list[Result]] = {}
    for path in sorted(CORPORA.rglob("*.eml")):
        raw = read_corpus_file(path)
        parsed = parse_message(raw)  # must not raise: an exception fails the whole module
        folder = path.relative_to(CORPORA).parts[0]
        if folder == "spamassassin":
            folder = "/".join(path.relative_to(CORPORA).parts[:2])
        by_folder.setdefault(folder, []).append(
            Result(
                str(path.relative_to(CORPORA)),
                raw,
                parsed,
                automatic_reason(parsed, OWN_ADDRESSES),
            )
        )
    return by_folder


def everything(results: dict[str, list[Result]]) -> list[Result]:
    return [result for folder in results.values() for result in folder]


def test_every_message_parses_to_readable_text(results):
    all_results = everything(results)
    assert len(all_results) > 3500
    unreadable = [
        r.name
        for r in all_results
        if not r.parsed.text.strip()
        or "\x00" in r.parsed.text
        or not r.parsed.message_id
        or r.parsed.language not in ("zh", "en")
    ]
    assert unreadable == []
    no_text = [r.name for r in all_results if r.parsed.text == NO_TEXT_MARKER]
    print(f"\n{len(all_results)} messages parsed; {len(no_text)} show {NO_TEXT_MARKER!r}")
    for r in all_results:  # storable as UTF-8 text (no lone surrogates)
        (r.parsed.subject + r.parsed.text + r.parsed.from_name).encode("utf-8")


def test_declared_charsets_decode_without_mojibake(results):
    checked = 0
    garbled = []
    for r in everything(results):
        if not PROMISED_CHARSETS.search(r.raw):
            continue
        checked += 1
        match = MOJIBAKE.search(r.parsed.subject + "\n" + r.parsed.text)
        if match:
            garbled.append((r.name, match.group(0)))
    print(f"\n{checked} messages declare a promised charset; {len(garbled)} garbled")
    assert checked > 150
    assert garbled == []


def test_chinese_and_russian_mail_shows_its_script(results):
    """Spot check with the script expected from the declared charset."""
    expectations = {
        rb"charset=\"?(?:gb2312|big5)": re.compile(r"[\u4e00-\u9fff]"),
        rb"charset=\"?(?:koi8-r|windows-1251)": re.compile(r"[\u0400-\u04ff]"),
        rb"charset=\"?iso-2022-jp": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    }
    missing = []
    for r in everything(results):
        for declared, script in expectations.items():
            declared_parts = re.search(declared + rb"[\"\s;]", r.raw, re.IGNORECASE)
            has_8bit_or_encoded = re.search(rb"[\x80-\xff]|\x1b\$|=[A-F8-9][0-9A-F]", r.raw)
            if declared_parts and has_8bit_or_encoded:
                text = r.parsed.subject + r.parsed.text
                attachment_text = any(
                    a.content_type.startswith("text/") for a in r.parsed.attachments
                )
                if not script.search(text) and not attachment_text:
                    missing.append(r.name)
    print(f"\n{len(missing)} messages declare CJK/Cyrillic but show none of that script")
    # Mail that declares a charset but writes only ASCII in it is fine; the rest must show it.
    assert len(missing) <= 15, missing


def test_every_bounce_is_recognised_as_automatic(results):
    bounces = results["bounces"]
    assert len(bounces) > 600
    not_recognised = [r.name for r in bounces if r.reason is None]
    reasons = Counter(reason_kind(r.reason) for r in bounces)
    print(f"\nbounces/: {len(bounces)} files, reasons: {reasons.most_common()}")
    assert not_recognised == []


def test_bounce_info_finds_failed_recipients(results):
    """Of the delivery failures (not complaints or auto-replies), nearly all name a recipient."""
    delivery_reports = [
        r
        for r in results["bounces"]
        if r.name.split("/")[-1].startswith(("lhost-", "rhost-", "rfc3464-"))
    ]
    infos = [(r, bounce_info(r.parsed, r.raw)) for r in delivery_reports]
    with_info = [(r, info) for r, info in infos if info is not None]
    with_recipient = [
        r for r, info in with_info if info.failed_recipients or info.delayed_recipients
    ]
    with_original = [r for r, info in with_info if info.original_message_id]
    print(
        f"\n{len(delivery_reports)} delivery reports: {len(with_info)} read as bounces, "
        f"{len(with_recipient)} name a failed recipient, "
        f"{len(with_original)} name the original Message-ID"
    )
    assert len(with_info) >= 0.97 * len(delivery_reports)
    assert len(with_recipient) >= 0.95 * len(delivery_reports)
    assert len(with_original) >= 0.75 * len(delivery_reports)


def test_ordinary_mail_is_mostly_not_automatic(results):
    ham = results["spamassassin/easy-ham-1"]
    assert len(ham) == 2500
    flagged = [r for r in ham if r.reason is not None]
    by_kind = Counter(reason_kind(r.reason) for r in flagged)
    print(
        f"\neasy-ham-1: {len(flagged)} of {len(ham)} ({len(flagged) / len(ham):.1%}) flagged "
        f"automatic: {by_kind.most_common()}"
    )
    # Mailing-list mail is automatic by design (we never auto-reply to a list). Of the mail
    # that carries no list or bulk marker, the large majority must count as a person's.
    unlisted = [r for r in ham if not is_list_or_bulk(r.parsed)]
    wrongly_flagged = [r.name for r in unlisted if r.reason is not None]
    print(f"without list/bulk headers: {len(wrongly_flagged)} of {len(unlisted)} flagged")
    assert len(unlisted) > 700
    assert len(wrongly_flagged) <= 0.02 * len(unlisted), wrongly_flagged


def test_hostile_html_never_survives_sanitizing(results):
    dangerous = re.compile(r"<script|<iframe|<object|<embed|<style|\son\w+\s*=|javascript:", re.I)
    with_html = [r for r in everything(results) if r.parsed.html_sanitized]
    leaked = [r.name for r in with_html if dangerous.search(r.parsed.html_sanitized)]
    remote_images = [
        r.name
        for r in with_html
        if re.search(r"<img[^>]+src=\"(?:https?:)?//", r.parsed.html_sanitized, re.I)
    ]
    print(f"\n{len(with_html)} messages with sanitized HTML")
    assert len(with_html) > 300
    assert leaked == []
    assert remote_images == []


def reason_kind(reason: str | None) -> str:
    if reason is None:
        return "person"
    return re.split(r" \(|:", reason, maxsplit=1)[0]


def is_list_or_bulk(parsed: ParsedMail) -> bool:
    headers = parsed.headers
    precedence = headers.get("precedence", "").lower()
    return bool(
        headers.get("list-id")
        or headers.get("list-unsubscribe")
        or headers.get("list-post")
        or headers.get("mailing-list")
        or headers.get("x-mailing-list")
        or precedence in ("bulk", "list", "junk")
    )
