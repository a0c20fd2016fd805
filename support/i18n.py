"""UI translations (Flask-Babel). The .po files are the source; .mo files are compiled on start-up
when missing or older, so no build step is needed and no binary file is committed."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def compile_translations(directory: Path = TRANSLATIONS_DIR) -> None:
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)
        log.info("compiled %s", mo_path)
