"""UI translations (Flask-Babel). The .po files in the package are the source; the .mo files Babel
reads are compiled from them into the instance folder when missing or older, so no build step is
needed, no binary file is committed, and an installed (read-only) package works the same.

There is no Traditional catalogue to keep by hand: pages in Traditional characters are converted
as a whole on the way out (support.core.web), and what is no page (the JSON API's messages)
reads a ``zh_Hant`` catalogue compiled here from the Simplified one by the same conversion
(`support.core.text.to_traditional`: Taiwan's characters and words, 「」 quotes).
"""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from support.core import text
from support.core.atomic_files import replacing

log = logging.getLogger(__name__)
SOURCE_DIR = Path(__file__).resolve().parent / "translations"
#: The catalogue written by hand, and the one compiled from it in Traditional characters.
SIMPLIFIED_LOCALE = "zh_Hans"
TRADITIONAL_LOCALE = "zh_Hant"
#: What the Traditional catalogue is made with besides the .po: a change of Taiwan's words
#: compiles it again.
_CONVERSION = Path(text.__file__)


def compile_translations(target: Path, source: Path = SOURCE_DIR) -> Path:
    """Compile every ``<locale>/LC_MESSAGES/messages.po`` of `source` under `target`, and the
    Simplified one a second time as ``zh_Hant``, converted to Traditional characters."""
    for po_path in source.glob("*/LC_MESSAGES/messages.po"):
        relative = po_path.relative_to(source).with_suffix(".mo")
        outputs = [(target / relative, False)]
        if relative.parts[0] == SIMPLIFIED_LOCALE:
            traditional = target / TRADITIONAL_LOCALE / Path(*relative.parts[1:])
            outputs.append((traditional, True))
        catalog: Catalog | None = None
        for mo_path, convert in outputs:
            newest_source = po_path.stat().st_mtime
            if convert:
                newest_source = max(newest_source, _CONVERSION.stat().st_mtime)
            if mo_path.exists() and mo_path.stat().st_mtime >= newest_source:
                continue
            if catalog is None:
                with po_path.open("rb") as po_file:
                    catalog = read_po(po_file)
            with replacing(mo_path, durable=False) as mo_file:  # made again from the .po
                write_mo(mo_file, in_traditional(catalog) if convert else catalog)
            log.info("compiled %s", mo_path)
    return target


def in_traditional(catalog: Catalog) -> Catalog:
    """A copy of the Simplified `catalog` with every translation in Traditional characters, as
    a page in Traditional shows it (placeholders and Latin text stay as they are)."""
    converted = Catalog(locale=TRADITIONAL_LOCALE, domain=catalog.domain, fuzzy=False)
    for message in catalog:
        if not message.id:
            continue
        strings = message.string
        if isinstance(strings, tuple | list):
            translated: str | tuple[str, ...] = tuple(text.to_traditional(s) for s in strings)
        else:
            translated = text.to_traditional(strings or "")
        converted.add(message.id, translated, context=message.context, flags=message.flags)
    return converted
