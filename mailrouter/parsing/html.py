"""HTML: readable plain text from the HTML part of a mail.

The classifier, quote splitting and the staff view read text, and HTML-only mail is common:
blocks break lines, paragraphs leave a blank line, blockquotes become '> ' lines (so quoted
history can be told apart) and scripts vanish. Hostile HTML (huge or deeply nested) is read in
linear time and its size and depth reported, so the message can cut it or show it as text.
Sanitizing HTML for display is ``support.core.html.sanitize_html``.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass

from bs4 import (
    BeautifulSoup,
    CData,
    Comment,
    Declaration,
    Doctype,
    MarkupResemblesLocatorWarning,
    ProcessingInstruction,
    XMLParsedAsHTMLWarning,
)
from bs4.element import NavigableString, PageElement, Tag

from mailrouter.parsing.headers import _clean_string
from support.core.html import sanitize_html

logger = logging.getLogger(__name__)

# Private-use characters mark structure inside get_text() output until whitespace is collapsed.
_BREAK = "\ue000"  # <br>: a hard line break
_BLOCK = "\ue001"  # block boundary: start a new line
_PARAGRAPH = "\ue002"  # paragraph boundary: leave a blank line
_QUOTE_OPEN = "\ue003"
_QUOTE_CLOSE = "\ue004"
_MARKERS_RE = re.compile(f"([{_BREAK}{_BLOCK}{_PARAGRAPH}{_QUOTE_OPEN}{_QUOTE_CLOSE}])")
_BLOCK_TAGS = (
    "div tr dl dt dd address center form section article header footer nav aside fieldset "
    "figure figcaption caption tbody thead tfoot main li"
).split()
_PARAGRAPH_TAGS = "p table ul ol h1 h2 h3 h4 h5 h6 pre hr".split()
_START_MARKERS = {
    **dict.fromkeys(_BLOCK_TAGS, _BLOCK),
    **dict.fromkeys(_PARAGRAPH_TAGS, _PARAGRAPH),
    "li": _BLOCK + "- ",
    "blockquote": _QUOTE_OPEN,
}
_END_MARKERS = {
    **dict.fromkeys(_BLOCK_TAGS, _BLOCK),
    **dict.fromkeys(_PARAGRAPH_TAGS, _PARAGRAPH),
    "td": " ",
    "th": " ",
    "blockquote": _QUOTE_CLOSE,
}
_DROPPED_TAGS = {"script", "style", "head", "title", "noscript", "template", "object", "iframe"}
_SKIPPED_STRINGS = (Comment, CData, ProcessingInstruction, Declaration, Doctype)
#: HTML beyond this is cut before reading and sanitizing (a defect says so).
_MAX_HTML_CHARS = 1024 * 1024
#: Deeper HTML is shown as escaped text: the sanitizer's time grows with depth squared.
_MAX_HTML_DEPTH = 400
_WHITESPACE_RE = re.compile(r"[ \t\r\n\f\v\xa0\u200b\u3000]+")
#: A tag as html.parser reads it in one pass: '<' to the next '>' with no '<' between.
_CLOSED_TAG_RE = re.compile(r"<[^<>]*>")
#: '<' that open no closed tag (unclosed comments, ``<a<a<a``) make html.parser rescan the
#: rest of the document for each: 100k of them took minutes. Above this many (normal mail has
#: a few, in scripts and comments) the HTML is first rewritten well-formed by the sanitizer
#: (html5ever, linear), and html.parser reads that.
_MAX_STRAY_BRACKETS = 1000


@dataclass
class _HtmlReading:
    text: str
    #: Deepest element nesting: the sanitizer is slow on very deep trees, so callers check it.
    depth: int
    truncated: bool
    #: True when the HTML had so many stray '<' that it was sanitized before reading.
    rewritten: bool = False
    #: The text the HTML hides from its reader (``_shade``), one line per text node; it is in
    #: ``text`` too, as read.
    hidden: str = ""


def _stray_brackets(html: str) -> int:
    """How many '<' open no closed tag (linear: each match stops at the next '<' or '>')."""
    return html.count("<") - sum(1 for _ in _CLOSED_TAG_RE.finditer(html))


def _is_word_paragraph(tag: Tag) -> bool:
    """Outlook (Word) writes each line as ``<p class=MsoNormal>`` with no margin, and a blank
    line as one holding only ``&nbsp;``: read as paragraphs, every line had a blank below it."""
    classes = tag.get("class")
    return isinstance(classes, list) and "MsoNormal" in classes


#: An Outlook paragraph with more tokens than this is not an empty line (bounds the check).
_MAX_EMPTY_LINE_TOKENS = 8


def _word_paragraph_end(tokens: list[str], began: int) -> str:
    """The end of an Outlook paragraph: a line break, and a blank line when it held nothing."""
    inside = tokens[began:]
    if len(inside) <= _MAX_EMPTY_LINE_TOKENS and not _WHITESPACE_RE.sub("", "".join(inside)):
        return _BREAK
    return _BLOCK


#: Styles that hide an element's text from the reader: not displayed, invisible, a font of
#: 0 to 2 pixels or points, no height. Spam hides words of business mail in it for filters.
_HIDING_STYLE_RE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0+)?\s*(?:;|!|$)"
    r"|font-size\s*:\s*(?:[0-2](?:\.\d+)?(?:px|pt)|0)\s*(?:;|!|$)"
    r"|(?<![\w-])(?:max-)?height\s*:\s*0(?:px)?\s*(?:;|!|$)",
    re.IGNORECASE,
)
#: White text, hidden on the white page unless an element around it has a background.
_WHITE_RE = re.compile(
    r"(?<![\w-])color\s*:\s*(?:#fff(?:fff)?\b|white\b|rgb\(\s*255\s*,\s*255\s*,\s*255\s*\))",
    re.IGNORECASE,
)
_WHITE_VALUES = frozenset(("#fff", "#ffffff", "white"))
_VISIBLE, _BACKED, _HIDDEN = 0, 1, 2


def _shade(tag: Tag, outer: int) -> int:
    """Whether ``tag``'s text is hidden (_HIDDEN), on a background (_BACKED: white text shows
    there) or plainly visible, given its parent's shade."""
    if outer == _HIDDEN:
        return _HIDDEN
    style = tag.get("style")
    style = style if isinstance(style, str) else ""
    if _HIDING_STYLE_RE.search(style):
        return _HIDDEN
    if "background" in style.lower() or tag.get("bgcolor") or tag.get("background"):
        return _BACKED
    color = tag.get("color") if tag.name == "font" else None
    white = isinstance(color, str) and color.strip().lower() in _WHITE_VALUES
    if outer == _VISIBLE and (white or _WHITE_RE.search(style)):
        return _HIDDEN
    return outer


def _html_tokens(soup: BeautifulSoup) -> tuple[list[str], int, list[str]]:
    """Text and structure markers in document order, walking the tree without recursion, and
    the text nodes the HTML hides (``_shade``).

    Mutating the tree (insert_after) costs time proportional to the subtree, which hostile
    mail with thousands of unclosed tags turns into minutes; an explicit stack stays linear.
    """
    tokens: list[str] = []
    hidden: list[str] = []
    max_depth = 0
    in_pre = 0
    # (node, closing, depth, where its tokens began: set for Outlook's paragraphs only, shade)
    stack: list[tuple[PageElement, bool, int, int, int]] = [(soup, False, 0, -1, _VISIBLE)]
    while stack:
        node, closing, depth, began, shade = stack.pop()
        if isinstance(node, Tag):
            name = node.name
            if closing:
                if name == "pre":
                    in_pre -= 1
                if began >= 0:
                    tokens.append(_word_paragraph_end(tokens, began))
                    continue
                tokens.append(_END_MARKERS.get(name, ""))
                continue
            if name in _DROPPED_TAGS:
                continue
            max_depth = max(max_depth, depth)
            if name == "br":
                tokens.append(_BREAK)
                continue
            if name == "pre":
                in_pre += 1
            if name == "p" and _is_word_paragraph(node):
                tokens.append(_BLOCK)
                stack.append((node, True, depth, len(tokens), shade))
            else:
                tokens.append(_START_MARKERS.get(name, ""))
                stack.append((node, True, depth, -1, shade))
            inner = _shade(node, shade)
            stack.extend((child, False, depth + 1, -1, inner) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, _SKIPPED_STRINGS):
            text = str(node)
            tokens.append(text.replace("\n", _BREAK) if in_pre else text)
            if shade == _HIDDEN and text.strip():
                hidden.append(_WHITESPACE_RE.sub(" ", text).strip())
    return tokens, max_depth, hidden


def _read_html(html: str) -> _HtmlReading:
    truncated = len(html) > _MAX_HTML_CHARS
    html = html[:_MAX_HTML_CHARS]
    rewritten = _stray_brackets(html) > _MAX_STRAY_BRACKETS
    if rewritten:
        html = sanitize_html(html)
    try:
        with warnings.catch_warnings():
            # bs4 warns when mail HTML is only a URL or is XHTML; both are fine to read as HTML.
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(html[:_MAX_HTML_CHARS], "html.parser")
        tokens, depth, hidden = _html_tokens(soup)
        flat = "".join(tokens)
    except Exception:  # html.parser is lenient, but a crash here must not lose the mail
        logger.debug("HTML to text failed; stripping tags", exc_info=True)
        flat, depth, hidden = _CLOSED_TAG_RE.sub(" ", html), 0, []
    return _HtmlReading(_layout(flat), depth, truncated, rewritten, "\n".join(hidden))


def _layout(flat: str) -> str:
    """Lines from marked-up text: collapse HTML whitespace, apply breaks and quote depth."""
    flat = _WHITESPACE_RE.sub(" ", flat)
    lines: list[str] = []
    current: list[str] = []
    depth = 0
    blank_pending = False

    def blank() -> None:
        if lines and lines[-1].strip("> "):
            lines.append(("> " * depth).rstrip())

    def end_line(hard: bool = False) -> None:
        nonlocal blank_pending
        content = "".join(current).strip()
        current.clear()
        if content:
            if blank_pending:
                blank()
            blank_pending = False
            lines.append("> " * depth + content)
        elif hard:
            blank()

    for token in _MARKERS_RE.split(flat):
        if token == _BREAK:
            end_line(hard=True)
        elif token == _BLOCK:
            end_line()
        elif token in (_PARAGRAPH, _QUOTE_OPEN, _QUOTE_CLOSE):
            end_line()
            blank_pending = True
            if token == _QUOTE_OPEN:
                depth += 1
            elif token == _QUOTE_CLOSE:
                depth = max(0, depth - 1)
        elif token:
            current.append(token)
    end_line()
    return _clean_string("\n".join(lines).strip())


def html_to_text(html: str) -> str:
    """Readable plain text from HTML: blocks break lines, paragraphs leave a blank line,
    blockquotes become '> ' lines (so quoted history can be told apart), scripts vanish."""
    if not html:
        return ""
    return _read_html(html).text
