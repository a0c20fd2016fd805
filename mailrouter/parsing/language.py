"""Language: whether a mail is Chinese or English, for routing and reply templates.

Moved here as it was; a shared text module is meant to replace it.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_CJK_SHARE_FOR_CHINESE = 0.15


def detect_language(text: str) -> str:
    """'zh' when CJK characters are a real share of the letters, else 'en'.

    A Chinese character carries about a word, so a modest share already means Chinese prose;
    an English mail quoting one Chinese name stays English.
    """
    cjk = len(_CJK_RE.findall(text))
    if not cjk:
        return "en"
    letters = sum(map(str.isalpha, text))
    other = max(letters - cjk, 0)
    return "zh" if cjk / (cjk + other) >= _CJK_SHARE_FOR_CHINESE else "en"
