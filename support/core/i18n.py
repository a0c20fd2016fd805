"""UI translations (Flask-Babel). The .po files in the package are the source; the .mo files Babel
reads are compiled from them into the instance folder when missing or older, so no build step is
needed, no binary file is committed, and an installed (read-only) package works the same."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from support.core.atomic_files import replacing

log = logging.getLogger(__name__)
SOURCE_DIR = Path(__file__).resolve().parent / "translations"


def compile_translations(target: Path, source: Path = SOURCE_DIR) -> Path:
    """Compile every ``<locale>/LC_MESSAGES/messages.po`` of `source` under `target`."""
    for po_path in source.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with replacing(mo_path, durable=False) as mo_file:  # made again from the .po
            write_mo(mo_file, catalog)
        log.info("compiled %s", mo_path)
    return target
