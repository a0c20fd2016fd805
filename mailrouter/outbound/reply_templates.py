"""Auto-reply texts: shipped Jinja2 templates, admin-edited overrides, and the fallback chain.

Template keys are ``<name>.<language>.<part>``: ``name`` is ``default``, ``thanks`` (urgency 1,
suggestions and praise), a department code (``hr``) or a department code with an urgency
(``sales.4``); ``part`` is ``subject``, ``txt`` or ``html``. Shipped templates live in
``templates/mail/auto_reply/<key>.j2``; admins may override any key, including ones that are
not shipped (``sales.4.zh.txt``).

An auto-reply must never fail because an admin made a typo: a broken override is logged and
the shipped template for the same key is used instead. Shipped templates are tested, so an
error in one of them is a bug and is raised.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bs4 import BeautifulSoup
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from mailrouter.tokens import add_subject_token, strip_subject_prefixes, subject_token
from support.core.resources import templates_dir
from support.core.zones import zone_named, zone_text

logger = logging.getLogger(__name__)

#: The shipped auto-reply templates: ``templates/mail/auto_reply/<key>.j2``.
SHIPPED_TEMPLATE_FOLDER = ("mail", "auto_reply")
TEMPLATE_SUFFIX = ".j2"
PARTS = ("subject", "txt", "html")
DEFAULT_LANGUAGE = "en"
MAX_FAQ_SUGGESTIONS = 3

#: Every variable a template may use; ``validate_template`` reports any other name.
TEMPLATE_VARIABLES = frozenset(
    {
        "customer_name",
        "ticket_reference",
        "subject_token",
        "department_name",
        "department_code",
        "urgency",
        "language",
        "expected_by",
        "expected_by_text",
        "faq_suggestions",
        "follow_url",
        "company_name",
        "original_subject",
        "forwarded",
        "danger",
        "says_nothing",
        "sent_files",
        "sent_pictures",
    }
)

_NAME_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}(?:-[a-z0-9]{2,8})?$")
_KEY_RE = re.compile(
    r"^[a-z0-9_-]{1,40}(?:\.[1-5])?\.[a-z]{2}(?:-[a-z0-9]{2,8})?\.(?:subject|txt|html)$"
)

_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ZH_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class FaqSuggestion(NamedTuple):
    """One FAQ answer offered in the auto-reply, with its one-click "solved" link."""

    question: str
    excerpt: str
    url: str
    solved_url: str


@dataclass(frozen=True, kw_only=True)
class AutoReplyContext:
    """Everything an auto-reply template may show, already localised for the customer."""

    customer_name: str
    ticket_reference: str
    department_name: str
    department_code: str
    urgency: int
    language: str
    expected_by: datetime
    expected_by_text: str
    follow_url: str
    company_name: str
    original_subject: str = ""
    #: The customer's mail forwarded another ("Fwd: Your order has shipped"): its subject is
    #: that mail's, and "Received: Your order has shipped" read like a shipping notice.
    forwarded: bool = False
    faq_suggestions: Sequence[tuple[str, str, str, str]] = field(default_factory=tuple)
    #: The mail reports people or property in danger now (fire, smoke, gas, a shock, an
    #: injury: mailrouter.routing.urgency_rules.DANGER_KEYWORDS): the reply says first what to
    #: do until we answer.
    danger: bool = False
    #: The mail held only a greeting, "test", "see attached" or a signature
    #: (mailrouter.routing.contentless): the reply asks for the question.
    says_nothing: bool = False
    #: The mail was only files (a photo from a phone: no words but a placeholder or a
    #: signature; mailrouter.outbound.autoreply.sent_files): how many, and whether all are
    #: pictures. The reply says they arrived and a person will look, instead of says_nothing's
    #: request for the question.
    sent_files: int = 0
    sent_pictures: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.urgency <= 5:
            raise ValueError(f"urgency must be 1..5, not {self.urgency}")
        if self.expected_by.tzinfo is None:
            raise ValueError("expected_by must be timezone-aware")


class RenderedReply(NamedTuple):
    subject: str
    text: str
    html: str | None
    #: The template name that was used, e.g. ``"hr.zh"`` or ``"default.en"``.
    template_key: str


@runtime_checkable
class TemplateSource(Protocol):
    """Where admin-edited template sources come from (e.g. a database table)."""

    def get_source(self, key: str) -> str | None:
        """Return the source for a template key, or None when it is not overridden."""


class MappingTemplateSource:
    """A ``TemplateSource`` over a plain ``{key: source}`` mapping."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = sources

    def get_source(self, key: str) -> str | None:
        return self._sources.get(key)


def format_expected_by(
    dt: datetime, tz_name: str, language: str, *, traditional: bool = False
) -> str:
    """Format a due time in the customer's zone, naming the zone so nobody has to guess.

    English: ``Tuesday 24 November 2026, 15:00 (Asia/Shanghai, UTC+8)``;
    Chinese: ``2026年11月24日 星期二 15:00（北京时间）``; to a writer of
    Traditional characters (``traditional``) the mainland's zone is ``（UTC+8）``. A customer's
    own offset (``tz_name`` ``UTC-5``, ``zones.readers_zone``) is named alone:
    ``Monday 23 November 2026, 02:00 (UTC-5)``, ``2026年11月23日 星期一 02:00（UTC-5）``.
    Built by hand rather than with ``strftime`` so the server's locale cannot change it.
    """
    if dt.tzinfo is None:
        raise ValueError("format_expected_by needs a timezone-aware datetime")
    try:
        zone = zone_named(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone %r; showing the expected time in UTC", tz_name)
        tz_name, zone = "UTC", ZoneInfo("UTC")
    local = dt.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    shown = zone_text(tz_name, local, language, traditional=traditional)
    if language.split("-")[0] == "zh":
        weekday = _ZH_WEEKDAYS[local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日 {weekday} {clock}（{shown}）"
    weekday = _EN_WEEKDAYS[local.weekday()]
    month = _EN_MONTHS[local.month - 1]
    return f"{weekday} {local.day} {month} {local.year}, {clock} ({shown})"


#: How much of the sender's name and subject an auto-reply repeats. Anyone can forge a sender
#: address, so whatever we echo is text an attacker gets us to mail to a stranger: keep it short.
MAX_ECHOED_CHARS = 40
# Anything that reads as a link, domain or address: "http://", "www.", "a.b", "x@y", "x[.]com".
_LINK_LIKE = re.compile(
    r"://|www|@|[\w\-]\s*(?:\.|。|．|\[\.\]|\(\.\)|\bdot\b)\s*[a-z]{2,}|https?|ftp|mailto",
    re.IGNORECASE,
)
#: Plain punctuation; full stops too ("The dock stopped charging.", "订单没收到。", the contact
#: form's subject from a question's first line): a dot is refused only where `_LINK_LIKE`
#: reads a domain around it.
_ECHO_ALLOWED = re.compile(r"^[\w\s'’\-,&()#:!?？！，、（）：.。;；%]*$")
#: What makes an emoji (pictographs and modifiers are So and Sk; joiner and presentation
#: selectors): left out of the echo rather than dropping the whole subject for it.
_EMOJI_CATEGORIES = frozenset({"So", "Sk"})
_EMOJI_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")


def _without_emoji(text: str) -> str:
    return "".join(
        c
        for c in text
        if c not in _EMOJI_JOINERS and unicodedata.category(c) not in _EMOJI_CATEGORIES
    )


def safe_echo(text: str, limit: int = MAX_ECHOED_CHARS) -> str:
    """A short, harmless form of customer text for an auto-reply, or "" when in doubt.

    No links, domains or addresses, only letters, digits, spaces and plain punctuation, at
    most ``limit`` characters (cut at a word when possible). "" makes templates greet
    generically and say "We have received your message".
    """
    # "冰箱不制冷 😢" is echoed as "冰箱不制冷": an emoji made it "" (the generic "we have
    # received your message") though it carries no link and no words.
    text = " ".join(
        "".join(c if c.isprintable() else " " for c in _without_emoji(text or "")).split()
    )
    if not text or _LINK_LIKE.search(text) or not _ECHO_ALLOWED.match(text):
        return ""
    if len(text) > limit:
        cut = text[: limit - 1]
        if " " in cut[limit // 2 :]:
            cut = cut.rsplit(" ", 1)[0]
        text = cut.rstrip(" ,-:") + "…"
    return text


def template_variables(context: AutoReplyContext) -> dict[str, Any]:
    """Return the variables templates see (the context plus ``subject_token``).

    The customer's name and subject are only ever seen through ``safe_echo`` (finding: a
    forged sender could make auto-replies carry attacker-chosen text and links).
    """
    return {
        "customer_name": safe_echo(context.customer_name),
        "ticket_reference": context.ticket_reference,
        "subject_token": subject_token(context.ticket_reference),
        "department_name": context.department_name,
        "department_code": context.department_code,
        "urgency": context.urgency,
        "language": context.language,
        "expected_by": context.expected_by,
        "expected_by_text": context.expected_by_text,
        "faq_suggestions": [
            FaqSuggestion(*item) for item in list(context.faq_suggestions)[:MAX_FAQ_SUGGESTIONS]
        ],
        "follow_url": context.follow_url,
        "company_name": context.company_name,
        # The topic only: "Re: Re: Printer [#SUP-9]" would read badly inside our own subject.
        "original_subject": safe_echo(strip_subject_prefixes(context.original_subject)),
        "forwarded": context.forwarded,
        "danger": context.danger,
        "says_nothing": context.says_nothing,
        "sent_files": context.sent_files,
        "sent_pictures": context.sent_pictures,
    }


def template_chain(department_code: str, urgency: int, language: str) -> list[str]:
    """Return the template names to try, most specific first.

    department+urgency+language, department+language, ``thanks`` (urgency 1 only),
    default+language, default English.
    """
    code = (department_code or "").strip().lower()
    lang = (language or "").strip().lower()
    if not _LANGUAGE_RE.match(lang):
        lang = DEFAULT_LANGUAGE
    names: list[str] = []
    if _NAME_RE.match(code):
        names += [f"{code}.{urgency}.{lang}", f"{code}.{lang}"]
    if urgency == 1:
        names.append(f"thanks.{lang}")
    names.append(f"default.{lang}")
    names.append(f"default.{DEFAULT_LANGUAGE}")
    return list(dict.fromkeys(names))


#: The most characters a template may render (a reply is a few thousand), and the most any
#: one ``*`` or ``**`` may make: ``{{ 'x' * 10**9 }}`` in an edited template would otherwise take
#: a gigabyte at every auto-reply. Over either, the template fails and the shipped one is used.
MAX_RENDERED_CHARS = 200_000
MAX_EXPONENT = 64


class _BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox (no attribute or call escapes; ranges of at most 100,000) with the two
    operators that make a huge value from a short template bounded as well."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent over {MAX_EXPONENT}")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(times, int)
                    and len(sequence) * times > MAX_RENDERED_CHARS
                ):
                    raise SecurityError(f"a value over {MAX_RENDERED_CHARS:,} long")
        return super().call_binop(context, operator, left, right)


@functools.cache
def _environment(html: bool) -> SandboxedEnvironment:
    # Sandboxed because admins edit these templates in a web form.
    return _BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.lru_cache(maxsize=256)
def _compile(source: str, html: bool) -> Template:
    return _environment(html).from_string(source)


def render_template_source(source: str, variables: Mapping[str, Any], *, html: bool) -> str:
    """Render one template source; raises Jinja2 errors (e.g. ``UndefinedError``), and
    ``SecurityError`` past MAX_RENDERED_CHARS (read piece by piece, never held whole)."""
    pieces: list[str] = []
    length = 0
    for piece in _compile(source, html).generate(variables):
        length += len(piece)
        if length > MAX_RENDERED_CHARS:
            raise SecurityError(f"the template renders over {MAX_RENDERED_CHARS:,} characters")
        pieces.append(piece)
    return "".join(pieces)


def _shipped_dir() -> Path:
    return templates_dir().joinpath(*SHIPPED_TEMPLATE_FOLDER)


def _template_path(key: str) -> Path:
    return _shipped_dir() / f"{key}{TEMPLATE_SUFFIX}"


@functools.cache
def shipped_template_source(key: str) -> str | None:
    """Return the shipped source for a key ("reset to default"), or None if none is shipped."""
    if not _KEY_RE.match(key):
        return None
    path = _template_path(key)
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def list_template_keys() -> list[str]:
    """Return the keys of all shipped templates, sorted."""
    directory = _shipped_dir()
    keys = [
        entry.name.removesuffix(TEMPLATE_SUFFIX)
        for entry in directory.iterdir()
        if entry.name.endswith(TEMPLATE_SUFFIX)
    ]
    return sorted(key for key in keys if _KEY_RE.match(key))


def _sample_variables() -> dict[str, Any]:
    expected_by = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    return template_variables(
        AutoReplyContext(
            customer_name="Li Wei",
            ticket_reference="SUP-000123",
            department_name="Sales",
            department_code="sales",
            urgency=3,
            language="en",
            expected_by=expected_by,
            expected_by_text=format_expected_by(expected_by, "Asia/Shanghai", "en"),
            follow_url="https://support.example.com/t/SUP-000123?token=sample",
            company_name="Example Ltd",
            original_subject="Question about my order",
            faq_suggestions=[
                (
                    "How do I track my order?",
                    "Open the link in your shipping mail.",
                    "https://support.example.com/faq/1",
                    "https://support.example.com/solved/sample",
                )
            ],
        )
    )


def validate_template(source: str) -> list[str]:
    """Return problems an admin must fix before saving a template; empty when it is usable.

    Reports syntax errors, unknown filters, variables templates do not receive, and errors
    raised while rendering with sample data.
    """
    env = _environment(False)
    try:
        tree = env.parse(source)
        env.compile(source)  # also catches unknown filters and tests
    except TemplateSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.message}"]
    problems = []
    unknown = meta.find_undeclared_variables(tree) - TEMPLATE_VARIABLES - set(env.globals)
    for name in sorted(unknown):
        line = min(
            (node.lineno for node in tree.find_all(nodes.Name) if node.name == name), default=0
        )
        problems.append(f"line {line}: unknown variable '{name}'")
    if problems:
        return problems
    try:
        render_template_source(source, _sample_variables(), html=False)
    except Exception as exc:  # anything an admin's template can raise is reported, not thrown
        problems.append(f"rendering with sample data failed: {exc}")
    return problems


#: Paragraphs the shipped default texts show only to the mails that need them, by the variable
#: that turns each on and the one urgency such a mail has: the safety advice of a mail reporting
#: danger (level 5) and the request for the question of a mail that says nothing (level 2). A
#: text that never reads the variable leaves the paragraph out of every auto-reply it sends.
CONDITIONAL_PARAGRAPHS = {"danger": 5, "says_nothing": 2}
_THANKS_URGENCY = 1  # `template_chain` offers thanks.* to urgency 1 only


def missing_paragraphs(key: str, source: str) -> list[str]:
    """The variables of CONDITIONAL_PARAGRAPHS that a mail answered with template `key` may have
    set and `source` never reads: the editor warns, as the shipped text would have said more.
    [] for a subject, for a key whose urgency never has the paragraph, and for a source that
    does not parse (``validate_template`` reports that)."""
    parts = key.split(".")
    if parts[-1] not in ("txt", "html"):
        return []
    urgency = int(parts[1]) if len(parts) == 4 else None
    if parts[0] == "thanks":
        urgency = _THANKS_URGENCY
    try:
        used = meta.find_undeclared_variables(_environment(False).parse(source))
    except TemplateSyntaxError:
        return []
    return [
        variable
        for variable, level in CONDITIONAL_PARAGRAPHS.items()
        if urgency in (None, level) and variable not in used
    ]


def shipped_paragraph(variable: str, language: str, part: str) -> str:
    """The shipped default's ``{% if variable %}...{% endif %}`` block for `language` (English when
    none is shipped) and `part` ("txt" or "html"), for an admin to copy into their template."""
    base = language.split("-")[0]
    source = shipped_template_source(f"default.{base}.{part}") or (
        shipped_template_source(f"default.{DEFAULT_LANGUAGE}.{part}") or ""
    )
    found = re.search(
        r"\{%-?\s*if\s+" + re.escape(variable) + r"\s*-?%\}.*?\{%-?\s*endif\s*-?%\}",
        source,
        re.DOTALL,
    )
    return found[0] if found is not None else ""


def _as_template_source(
    overrides: Mapping[str, str] | TemplateSource | None,
) -> TemplateSource | None:
    if overrides is None or isinstance(overrides, TemplateSource):
        return overrides
    return MappingTemplateSource(overrides)


def _render_key(
    key: str, variables: Mapping[str, Any], overrides: TemplateSource | None
) -> str | None:
    html = key.endswith(".html")
    override = overrides.get_source(key) if overrides is not None else None
    if override is not None and override.strip():
        try:
            return render_template_source(override, variables, html=html)
        except Exception:  # an admin's mistake must not stop the auto-reply
            logger.error(
                "admin-edited template %s cannot be used; falling back to the shipped one",
                key,
                exc_info=True,
            )
    shipped = shipped_template_source(key)
    if shipped is None:
        return None
    return render_template_source(shipped, variables, html=html)


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    tidy = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return tidy + "\n"


_BLOCK_TAGS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "ul", "ol", "table")


def html_to_text(html: str) -> str:
    """Derive a plain-text part from HTML, keeping link targets readable."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["head", "style", "script", "title"]):
        tag.decompose()
    for link in soup.find_all("a", href=True):
        label, href = link.get_text(" ", strip=True), str(link["href"])
        link.replace_with(f"{label} ({href})" if label and label != href else href)
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return _tidy_text("\n".join(lines))


def render_auto_reply(
    context: AutoReplyContext,
    *,
    overrides: Mapping[str, str] | TemplateSource | None = None,
) -> RenderedReply:
    """Render the auto-reply for a new ticket, using the most specific template available.

    A template name is chosen when it has a text or an HTML part (override or shipped); its
    parts are used together so text and HTML never come from different templates. A missing
    text part is derived from the HTML; a missing HTML part means a text-only mail. The
    subject comes from the same name or, failing that, the next name in the chain, and always
    carries the ticket's subject token.
    """
    source = _as_template_source(overrides)
    variables = template_variables(context)
    names = template_chain(context.department_code, context.urgency, context.language)
    for position, name in enumerate(names):
        text = _render_key(f"{name}.txt", variables, source)
        html = _render_key(f"{name}.html", variables, source)
        if text is None and html is None:
            continue
        text = _tidy_text(text) if text is not None else html_to_text(html or "")
        subject = ""
        for subject_name in names[position:]:
            rendered = _render_key(f"{subject_name}.subject", variables, source)
            if rendered is not None and rendered.strip():
                subject = rendered
                break
        subject = add_subject_token(subject, context.ticket_reference)
        return RenderedReply(subject=subject, text=text, html=html, template_key=name)
    raise LookupError(f"no auto-reply template found among {names}")  # default.en is shipped
