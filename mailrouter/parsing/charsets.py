"""Charsets: decode body and header bytes whatever charset they declare, or fail to declare.

Mail clients label GBK text as GB2312, HKSCS text as Big5 and windows-1252 text as Latin-1;
gateways re-encode legacy text as UTF-8 twice; plenty of 8-bit mail declares nothing. Every
other part of the parser reads text through ``decode_bytes``, so these rules live in one place
and never raise.
"""

from __future__ import annotations

import codecs
import logging
import re

import charset_normalizer

logger = logging.getLogger(__name__)

_DETECT_SAMPLE_BYTES = 64 * 1024

# Declared name -> codecs to try in order. Supersets first: mail clients label GBK text as
# GB2312 and HKSCS text as Big5, and decoding with the narrow codec loses those characters.
_CHARSET_CANDIDATES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "gb2312",
            "gbk",
            "x-gbk",
            "cp936",
            "ms936",
            "windows-936",
            "euc-cn",
            "x-euc-cn",
            "gb_2312-80",
            "gb_2312",
            "csgb2312",
            "chinese",
            "gb18030",
        ),
        ("gb18030",),
    ),
    **dict.fromkeys(
        ("big5", "x-big5", "big5-hkscs", "big5hkscs", "cn-big5", "csbig5", "cp950", "x-x-big5"),
        ("big5hkscs", "cp950"),
    ),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j"),
        ("cp932", "shift_jis_2004"),
    ),
    "cp932": ("cp932", "shift_jis_2004"),
    **dict.fromkeys(("euc-jp", "x-euc-jp", "eucjp"), ("euc_jp", "euc_jis_2004")),
    **dict.fromkeys(
        ("iso-2022-jp", "csiso2022jp", "iso-2022-jp-2", "iso-2022-jp-3"),
        ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3"),
    ),
    **dict.fromkeys(
        ("ks_c_5601-1987", "ks_c_5601", "euc-kr", "korean", "cp949", "x-windows-949", "uhc"),
        ("cp949",),
    ),
    **dict.fromkeys(("utf-7", "unicode-1-1-utf-7", "x-utf-7", "utf7"), ("utf-7",)),
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), ("utf-8",)),
    # What is labelled Latin-1 is in practice windows-1252 (curly quotes at 0x91-0x94).
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819"),
        ("cp1252", "latin-1"),
    ),
    **dict.fromkeys(("us-ascii", "ascii", "ansi_x3.4-1968", "us"), ("ascii",)),
    "iso-8859-8-i": ("iso-8859-8",),
    "windows-874": ("cp874",),
}
# Encodings whose bytes are all ASCII: the ASCII fast path must not skip decoding them.
_PREFERRED_DETECTED = ("utf_8", "cp1252", "gb18030", "big5hkscs", "cp932", "cp1251", "koi8_r")
_SEVEN_BIT_STATEFUL = {"utf-7", "iso2022_jp", "hz"}
_NOT_LEGACY = {"utf-8", "utf-16", "utf-32", "utf-7"}
_LATIN_CODECS = {"cp1252", "latin-1", "ascii", "iso8859-15", "cp1250", "iso8859-2"}


def _normalise_charset_name(declared: str | None) -> str | None:
    if not declared:
        return None
    name = str(declared).strip().strip("\"'").strip().lower()
    name = re.split(r"[\s;,]", name, maxsplit=1)[0]
    if name.startswith("3d"):  # "charset=3Dutf-8" leaked from quoted-printable
        name = name[2:].strip("\"'")
    return name or None


def _codecs_for(name: str | None) -> list[str]:
    """Python codecs for a declared charset name, [] when nothing knows the name."""
    if not name:
        return []
    if name in _CHARSET_CANDIDATES:
        return list(_CHARSET_CANDIDATES[name])
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):
        return []
    if codec in ("mbcs", "oem", "rot-13", "idna", "punycode", "undefined"):
        return []
    # A codec found by its Python alias may itself be a narrow one we widen.
    for alias in (codec, codec.replace("_", "-")):
        if alias in _CHARSET_CANDIDATES:
            return list(_CHARSET_CANDIDATES[alias])
    return [codec]


def _detect_charset(data: bytes) -> str | None:
    """Best guess for undeclared or mislabelled bytes; None when charset_normalizer has none."""
    try:
        best = charset_normalizer.from_bytes(data[:_DETECT_SAMPLE_BYTES]).best()
    except Exception:  # detection is a guess; it must never break parsing
        logger.debug("charset detection failed", exc_info=True)
        return None
    if best is None or not best.encoding:
        return None
    # Several code pages often decode the bytes identically; prefer the one mail really uses.
    equivalent = [str(name).lower() for name in (best.could_be_from_charset or [])]
    chosen = next((name for name in _PREFERRED_DETECTED if name in equivalent), best.encoding)
    candidates = _codecs_for(chosen.replace("_", "-")) or _codecs_for(chosen)
    return candidates[0] if candidates else None


def _undo_double_encoding(text: str, candidates: list[str]) -> str | None:
    """Text in a multi-byte charset that a gateway read as Latin-1 and re-encoded as UTF-8."""
    if not candidates or candidates[0] in _LATIN_CODECS or max(text, default="a") > "\xff":
        return None
    raw = text.encode("latin-1")
    for codec in candidates:
        try:
            repaired = raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        # A real repair yields several characters of that script and no Latin-1 leftovers.
        foreign = [ch for ch in repaired if ord(ch) > 0x7F]
        if len(foreign) >= 2 and all(ord(ch) > 0xFF for ch in foreign):
            return repaired
    return None


# East Asian characters and punctuation: ideographs, kana, hangul, CJK and full-width punctuation.
_EAST_ASIAN = r"\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_ONLY_EAST_ASIAN_RE = re.compile(f"[\\x00-\\x7f{_EAST_ASIAN}]*")
_LETTER_TOUCHES_EAST_ASIAN_RE = re.compile(f"[A-Za-z][{_EAST_ASIAN}]|[{_EAST_ASIAN}][A-Za-z]")
_EAST_ASIAN_CODECS = {"gb18030", "big5hkscs", "cp950", "cp932", "shift_jis_2004", "euc_jp", "cp949"}


def _short_east_asian_reading(utf8_text: str, data: bytes, codec: str) -> str | None:
    """The labelled reading of bytes that are valid UTF-8 too, when that is the likelier one.

    A few GBK characters can form valid two-byte UTF-8: Foxmail's "谢谢" reads as "лл", QQ Mail's
    "[图片]" as "[ͼƬ]". Chinese in UTF-8 needs three-byte sequences, so UTF-8 with none (nothing
    at or above U+0800) whose labelled reading is all East Asian text is the labelled charset,
    unless a Latin letter touches a Chinese character in it ("café" in GBK reads as "caf锚").
    """
    if codec not in _EAST_ASIAN_CODECS or any(ord(ch) >= 0x800 for ch in utf8_text):
        return None
    try:
        labelled = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if _LETTER_TOUCHES_EAST_ASIAN_RE.search(labelled):
        return None
    return labelled if _ONLY_EAST_ASIAN_RE.fullmatch(labelled) else None


def decode_bytes(
    data: bytes, declared: str | None = None, *, guess: bool = True
) -> tuple[str, str | None]:
    """Decode body or header bytes to text; returns (text, note) where note says what was fixed.

    Order: the declared charset (widened to its superset), but valid UTF-8 beats a legacy label;
    then charset_normalizer's guess (``guess=False`` skips it for a known charset on snippets
    too short to guess from); undeclared bytes nobody can place as windows-1252; last, the
    declared codec, or UTF-8, with replacement characters.
    """
    text, note, _codec = decode_bytes_with_codec(data, declared, guess=guess)
    return text, note


def decode_bytes_with_codec(
    data: bytes, declared: str | None = None, *, guess: bool = True
) -> tuple[str, str | None, str | None]:
    """`decode_bytes`, and the codec that read the bytes (None for plain ASCII): the body's
    codec is the best guess for raw 8-bit headers, which are too short to guess from."""
    if not data:
        return "", None, None
    name = _normalise_charset_name(declared)
    candidates = _codecs_for(name)
    wide = any(codec.startswith(("utf-16", "utf-32")) for codec in candidates)
    if data.isascii() and not wide and not set(candidates) & _SEVEN_BIT_STATEFUL:
        return data.decode("ascii"), None, None
    if not name:
        problem = "no charset declared"
    elif not candidates:
        problem = f"unknown charset {name!r}"
    else:
        problem = f"bytes do not fit charset {name!r}"
    if not data.isascii() and candidates and candidates[0] not in _NOT_LEGACY and not wide:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            repaired = _undo_double_encoding(text, candidates)
            if repaired is not None:
                note = f"charset {name!r} text was double-encoded as UTF-8; repaired"
                return repaired, note, candidates[0]
            labelled = _short_east_asian_reading(text, data, candidates[0])
            if labelled is not None:
                return labelled, None, candidates[0]
            return text, f"declared charset {name!r} but the bytes are UTF-8", "utf-8"
    for codec in candidates or ["utf-8"]:
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        return text, (None if candidates else f"{problem}; read as UTF-8"), codec
    guessed = _detect_charset(data) if guess or not candidates else None
    if guessed:
        try:
            text = data.decode(guessed, errors="replace")
        except LookupError:
            pass
        else:
            return text, f"{problem}; detected {guessed}", guessed
    if not candidates or candidates == ["ascii"]:
        # Undeclared 8-bit mail the detector cannot place is, in practice, Western Windows text.
        text = data.decode("cp1252", errors="replace")
        return text, f"{problem}; read as windows-1252", "cp1252"
    text = data.decode(candidates[0], errors="replace")
    return text, f"{problem}; undecodable bytes replaced", candidates[0]
