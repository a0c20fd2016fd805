"""Every UI string has a Chinese translation, and the committed messages.pot is current.

The strings are extracted afresh from the code and templates (babel.cfg, the same run as
``pybabel extract``), so a string added anywhere without a zh_Hans entry fails here.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "support" / "core" / "translations"
POT = TRANSLATIONS / "messages.pot"
ZH = TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po"
#: flask_babel's lazy forms, as the project imports them (`-k` options of pybabel extract).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
REGENERATE = (
    "pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 "
    "--no-location --sort-output --omit-header -o support/core/translations/messages.pot ."
)


def extract() -> Catalog:
    """The project's UI strings, as pybabel extract with babel.cfg finds them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog(project="support-desk")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def pot_text(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, omit_header=True, no_location=True, sort_output=True)
    return out.getvalue()


def _key(message) -> tuple:
    return (message.context, message.id)


def test_every_ui_string_has_a_chinese_translation() -> None:
    with ZH.open("rb") as po_file:
        zh = read_po(po_file)
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = zh.get(message.id, context=message.context)
        texts = found.string if found is not None else None
        texts = texts if isinstance(texts, tuple) else (texts,)
        if found is None or found.fuzzy or not all(texts):
            missing.append(f"{message.context or ''}|{message.id}")
    assert not missing, f"{len(missing)} strings without a zh_Hans translation in {ZH}:\n" + (
        "\n".join(missing[:60])
    )


def test_the_committed_template_is_current() -> None:
    with POT.open("rb") as pot_file:
        committed = {_key(m) for m in read_po(pot_file) if m.id}
    fresh = {_key(m) for m in extract() if m.id}
    assert committed == fresh, f"messages.pot is stale; regenerate it with:\n{REGENERATE}"


def test_an_account_is_one_word_in_chinese() -> None:
    """Our own texts call an account 账户 (帳戶 for a reader of Traditional); one said 账号,
    which a Taiwan reader saw as 帳號 beside 帳戶 on the next page."""
    with ZH.open("rb") as po_file:
        zh = read_po(po_file)
    others = [
        f"{m.id} -> {m.string}"
        for m in zh
        if m.id and "account" in str(m.id).lower()
        if any(word in str(m.string) for word in ("账号", "帐号", "帐户"))
    ]
    assert others == []
