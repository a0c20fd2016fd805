"""The privacy notice the contact form's consent text refers to.

PRIVACY_NOTICE_URL names the company's own notice; without it the portal's /privacy page
states what this software keeps and for how long, read from the settings that decide it
(RETENTION_*, FAQ_SEARCH_RETENTION_DAYS) and from the code's fixed limits, so the page cannot
promise less than the software does. README "Data protection" is the longer account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, redirect, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from faq.search.embedding import QUERY_LIFETIME_SECONDS
from support.desk.models import KEY_TIER, STANDARD_TIER, VIP_TIER
from support.desk.retention import years_by_tier
from support.desk.settings import NOTICE_WORDS

#: How long the portal's visitor cookie lives (faq.portal sets it); stated on the page.
VISITOR_COOKIE_DAYS = 365
#: The user agent kept with a contact-form question is cut to this many characters.
USER_AGENT_CHARS = 300


def notice_url() -> str:
    """Where "privacy notice" links: the company's own notice, else the built-in page."""
    return str(current_app.config.get("PRIVACY_NOTICE_URL") or "") or url_for("faq.privacy")


def consent_label(text: str, language: str) -> Markup:
    """The consent text with its words "privacy notice" linking to the notice (opened in a new
    tab, so the half-filled form stays); a configured text without them gets the link after it.
    The text is escaped: it comes from the configuration, with the company's name in it."""
    words = NOTICE_WORDS.get(language) or NOTICE_WORDS["en"]
    link = Markup('<a href="{}" target="_blank" rel="noopener">{}</a>')
    start = text.find(words)
    if start < 0:
        label = escape(text) + Markup(" (") + link.format(notice_url(), _("Privacy notice")) + ")"
    else:
        end = start + len(words)
        label = escape(text[:start]) + link.format(notice_url(), words) + escape(text[end:])
    # One span: the label lays out its box and text side by side (flex), the link in the text.
    return Markup("<span>{}</span>").format(label)


@dataclass(frozen=True)
class Retention:
    """What the page states, from the settings: 0 means "kept until erased on request"."""

    ticket_years: int
    #: The years of key-account customers (key and VIP) and, where VIP's differ from key's,
    #: of VIP customers: ("key_accounts" or "vip", years), each only where it differs from
    #: the standard tier's (a VIP line after a key-account line reads as the exception).
    other_tiers: tuple[tuple[str, int], ...]
    raw_mail_days: int
    search_days: int
    purge_hours: float
    vector_minutes: int


def _other_tiers(years: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    standard, key, vip = years[STANDARD_TIER], years[KEY_TIER], years[VIP_TIER]
    if key == vip:
        return (("key_accounts", key),) if key != standard else ()
    stated = [("key_accounts", key)] if key != standard else []
    return (*stated, ("vip", vip))


def retention(config: Mapping[str, Any]) -> Retention:
    years = years_by_tier(config)
    return Retention(
        ticket_years=years[STANDARD_TIER],
        other_tiers=_other_tiers(years),
        raw_mail_days=int(config.get("RETENTION_RAW_MAIL_DAYS") or 0),
        search_days=int(config.get("FAQ_SEARCH_RETENTION_DAYS") or 0),
        purge_hours=float(config.get("RETENTION_PURGE_HOURS") or 0),
        vector_minutes=int(QUERY_LIFETIME_SECONDS // 60),
    )


def page():
    """/privacy: the company's own notice when configured, else the built-in one."""
    configured = str(current_app.config.get("PRIVACY_NOTICE_URL") or "")
    if configured:
        return redirect(configured)
    return render_template(
        "faq/privacy.html",
        kept=retention(current_app.config),
        address=str(current_app.config.get("MAIL_GENERAL_ADDRESS") or ""),
        language=g.get("lang", "en"),
        cookie_days=VISITOR_COOKIE_DAYS,
        user_agent_chars=USER_AGENT_CHARS,
    )
