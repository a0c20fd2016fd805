"""The spam filter's reasons in words staff read: "h:url-shortener +6.1" meant nothing to a
new lead. Each reason is a filter token and its points (mailrouter.spam.verdict); this names
the token in the page's language and keeps the code for the title attribute, so whoever
tunes the filter still sees it. Reasons of another filter (SpamAssassin's rule names) stay as
that filter wrote them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mailrouter.spam.reputation import LISTED_REASON
from mailrouter.spam.verdict import BUILTIN, COLD_PITCH_REASON, FORGED_SENDER_REASON

#: Envelope and text traits (mailrouter.spam.features, raw_traits), as staff would say them.
_TRAITS = {
    "h:no-message-id": _l("no Message-ID"),
    "h:html-only": _l("HTML only, no plain text"),
    "h:no-recipients": _l("no recipients named"),
    "h:many-recipients": _l("many recipients"),
    "h:no-date": _l("no date"),
    "h:date-no-zone": _l("date without a time zone"),
    "h:qp-needless": _l("needlessly encoded text"),
    "h:subject-shouts": _l("subject in capitals"),
    "h:subject-exclaims": _l("subject with !! or $$"),
    "h:no-subject": _l("no subject"),
    "h:subject-odd-chars": _l("odd characters in the subject"),
    "h:subject-decorated": _l("decorated subject (★, 【】)"),
    "b:subject-money": _l("money in the subject"),
    "h:reply-to-elsewhere": _l("replies go to another domain"),
    "h:reply-to-free-mail": _l("replies go to a free-mail address"),
    "h:name-other-address": _l("sender's name shows another address"),
    "h:reply-to-nothing": _l('"Re:" that answers no mail'),
    "b:sender-digits": _l("digits in the sender's address"),
    "h:url-shortener": _l("link through a URL shortener"),
    "h:cheap-tld-link": _l("link to a cheap domain"),
    "h:raw-host-link": _l("link to a bare IP address"),
    "b:ad-mark": _l("advertisement mark"),
    "b:opt-out-not-list": _l("unsubscribe line, but no mailing list"),
    "b:quoted": _l("quotes an earlier mail"),
    "h:obfuscated": _l('disguised words ("v1agra")'),
    "h:tracking-pixel": _l("tracking pixel"),
    "h:html-little-text": _l("HTML with little text"),
    "h:hidden-text": _l("text hidden from the reader"),
    "h:link-text-other-site": _l("link text names another site"),
    "b:forwards": _l("forwards a mail"),
    "b:phone": _l("phone number"),
    "b:chat-id": _l("QQ or WeChat ID"),
    "b:hotline": _l("400/800 hotline"),
    "b:reference": _l("order or invoice number"),
    "b:apology": _l('apology for writing ("sorry to disturb")'),
    "b:promise": _l("guaranteed gains or results"),
    "b:stock-tip": _l("stock tip"),
    "b:ticker": _l("stock ticker"),
    "b:payment-trick": _l("gift cards or an advance fee"),
    "l:han": _l("Chinese characters"),
    "l:hangul": _l("Korean script"),
    "l:kana": _l("Japanese kana"),
}
#: Counted traits ("b:sites-3"): the count as a level (features._level), with its top level.
_COUNTED = {
    "b:sites": (_l("links to %(count)s sites"), 5),
    "b:sites-free": (_l("links to %(count)s sites, from free mail"), 5),
    "b:money": (_l("%(count)s sums of money"), 4),
    "h:images": (_l("%(count)s images"), 3),
}
_RULES = {
    COLD_PITCH_REASON: _l("cold sales pitch"),
    FORGED_SENDER_REASON: _l("forged sender"),
    LISTED_REASON: _l("authenticated sender on the allowed list"),
}
_REASON_RE = re.compile(r"^(?P<code>.+?)(?: (?P<points>[+-]\d+(?:\.\d+)?))?$")
_COUNTED_RE = re.compile(r"^(?P<name>[a-z]:[a-z-]+?)-(?P<level>\d)$")


@dataclass(frozen=True)
class Reason:
    text: str  # in the page's language, with its points: "link through a URL shortener +6.1"
    code: str  # as the filter stored it, for the title attribute


def readable(reason: str, *, builtin: bool) -> Reason:
    """One stored reason in words; `builtin`: our own filter's (others' stay as written)."""
    found = _REASON_RE.match(reason.strip())
    if not builtin or found is None:
        return Reason(reason, reason)
    code, points = found.group("code"), found.group("points")
    text = _named(code)
    return Reason(f"{text} {points}" if points else text, reason)


def _named(code: str) -> str:
    if code in _RULES:
        return str(_RULES[code])
    if code in _TRAITS:
        return str(_TRAITS[code])
    counted = _COUNTED_RE.match(code)
    if counted and counted.group("name") in _COUNTED:
        text, top = _COUNTED[counted.group("name")]
        return str(text) % {"count": _count(int(counted.group("level")), top)}
    prefix, _sep, rest = code.partition(":")
    if prefix == "u" and rest:
        return _("link to %(site)s", site=rest)
    if prefix == "s" and rest:
        return _("“%(word)s” in the subject", word=rest)
    if len(prefix) == 1 and rest:
        return code  # a trait this table does not know yet: its code is all there is
    return _("the word “%(word)s”", word=code)


def _count(level: int, top: int) -> str:
    """Level 0 is none, 1 one, 2 two or three, 3 four to seven, ..., the top level that many
    or more (features._level)."""
    if level <= 1:
        return str(level)
    low = 2 ** (level - 1)
    return f"{low}+" if level >= top else f"{low}-{2 * low - 1}"


def source_name(source: str) -> str:
    """Which filter spoke: ours by a name, another (spamassassin, rspamd) by its own."""
    return _("built-in filter") if source == BUILTIN else source


def explained(detail: dict) -> tuple[str, list[Reason]]:
    """A held mail's stored spam detail as the pages show it: the filter and its reasons."""
    source = str(detail.get("source") or "")
    reasons = [readable(str(r), builtin=source == BUILTIN) for r in detail.get("reasons") or []]
    return source_name(source), reasons
