"""The one HTML sanitizer: mail HTML shown to staff and HTML we send both pass through it."""

from __future__ import annotations

import logging

import nh3

logger = logging.getLogger(__name__)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if tag == "img" and attribute == "src":
        # Remote images track the reader and leak that staff opened the mail: drop them.
        if lowered.startswith(("cid:", "data:image/")):
            return value
        return None
    if attribute in ("href", "cite") and lowered.startswith("data:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """HTML safe to embed in a staff page: no script, style, handlers, js: URLs, remote images."""
    try:
        return nh3.clean(
            html,
            clean_content_tags={"script", "style", "title", "noscript", "template", "textarea"},
            attribute_filter=_filter_attribute,
            url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
            link_rel="noopener noreferrer nofollow",
            url_relative="deny",
            strip_comments=True,
        )
    except Exception:  # nh3 should not fail, but a mail must stay readable if it does
        logger.warning("HTML sanitizer failed; dropping the HTML", exc_info=True)
        return ""
