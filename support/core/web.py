"""Web wiring shared by every page: CSRF, language choice, security headers, error pages."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import Babel, force_locale, get_translations, ngettext, refresh
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from support.core import i18n
from support.core.addresses import readable_address
from support.core.config import company_name, public_base_url
from support.core.db import MAX_ID
from support.core.json_errors import http_error, json_error, status_message
from support.core.text import (
    NO_SUBJECT_MARKER,
    NO_TEXT_MARKER,
    for_simplified_reader,
    has_cjk,
    segmenter,
    to_simplified,
    to_traditional,
    typed_in_traditional,
)
from support.core.zones import zone_text

log = logging.getLogger(__name__)
csrf = CSRFProtect()
babel = Babel()

SUPPORTED_LANGUAGES = ("zh", "en")


def select_language() -> str:
    """?lang= (remembered in a cookie), then the cookie, then the browser, then the default."""

    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh", "zh-CN", "zh-TW", "zh-HK", "en"])
    if best:
        return "zh" if best.startswith("zh") else "en"
    return current_app.config["DEFAULT_LANGUAGE"]


#: Chinese pages in Simplified ("hans") or Traditional ("hant") characters. The FAQ and the
#: UI texts are kept in Simplified; Traditional pages are converted on the way out.
SCRIPTS = ("hans", "hant")
_BROWSER_CHINESE = ["zh-CN", "zh-SG", "zh-Hans", "zh", "zh-TW", "zh-HK", "zh-MO", "zh-Hant"]
_TRADITIONAL_LOCALES = frozenset({"zh-TW", "zh-HK", "zh-MO", "zh-Hant"})


def select_script() -> str:
    """?script= (remembered in a cookie), then the cookie, then the browser: readers whose
    browser asks for Taiwan, Hong Kong or Macau Chinese get Traditional characters."""
    chosen = request.args.get("script") or request.cookies.get("script")
    if chosen in SCRIPTS:
        return chosen
    best = request.accept_languages.best_match(_BROWSER_CHINESE)
    return "hant" if best in _TRADITIONAL_LOCALES else "hans"


#: What people wrote (a customer's mail, our reply as sent, what they typed into a form) is
#: shown as written on Traditional pages: converting it again turns a Taiwan customer's 台北市
#: and 十台 into 臺北市 and 十臺, and a form sent back with an error would carry the change.
_AS_WRITTEN_START, _AS_WRITTEN_END = "<!--as-written-->", "<!--/as-written-->"
_WRITTEN_RE = re.compile(
    f"{_AS_WRITTEN_START}.*?{_AS_WRITTEN_END}"
    r"|(?P<textarea><textarea\b[^>]*>)(?P<typed>.*?)(?=</textarea>)"
    r"|(?P<input><input\b[^>]*>)",
    re.S | re.I,
)
_BUTTON_TYPE_RE = re.compile(r'\btype="(?:submit|button|reset)"', re.I)
_VALUE_RE = re.compile(r'(\bvalue="[^"]*")', re.I)


#: Our quotes around what someone wrote: the pair spans two converted parts of the page.
_QUOTED_WRITTEN_RE = re.compile(f"“({_AS_WRITTEN_START}.*?{_AS_WRITTEN_END})”", re.S)


def as_written(text: object) -> Markup:
    """Template filter: `text` escaped and kept out of the page's Traditional conversion (in
    element content and the title; not in attributes). Marked only on a page that will be
    converted, which takes the marks out again."""
    if not (has_request_context() and g.get("traditional")):
        return escape(text)
    return Markup(f"{_AS_WRITTEN_START}{escape(text)}{_AS_WRITTEN_END}")


#: A web address in our own text (ASCII only: "請到 https://x.tw/a 填寫" ends at the space,
#: "（https://x.tw/faq）" at the full-width bracket); trailing punctuation is the sentence's.
_URL_RE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]{1,2000}")
_URL_TRAILING = ".,;:!?'\")]"


def linked(text: str, new_tab: bool = False) -> Markup:
    """Template filter: text as written (see `as_written`), escaped, then its http(s) web
    addresses as links (no other scheme): a mail program shows them so; a page showed bare
    text that a phone could not open. On the customer's follow page only for our own text (a
    link they were sent is no advice); on staff pages for every message and note, `new_tab`
    so that a reply being written stays where it is."""
    text = text or ""
    out, done = [], 0
    link = (
        '<a href="{0}" rel="nofollow noopener noreferrer" target="_blank">{0}</a>'
        if new_tab
        else '<a href="{0}" rel="nofollow noopener noreferrer">{0}</a>'
    )
    for found in _URL_RE.finditer(text):
        url = found.group().rstrip(_URL_TRAILING)
        if len(url) <= len("https://"):
            continue
        out.append(as_written(text[done : found.start()]))
        out.append(Markup(link).format(url))
        done = found.start() + len(url)
    out.append(as_written(text[done:]))
    return Markup("").join(out)


def subject_shown(subject: str | None) -> Markup:
    """Template filter: a ticket's subject as the customer wrote it (`as_written`), or "(no
    subject)" in the reader's language when their mail had none (it is stored in English)."""
    if not subject or subject.strip() == NO_SUBJECT_MARKER:
        return escape(_("(no subject)"))
    return as_written(subject)


def message_words(text: str | None) -> str:
    """Template filter: a message's text, the marker of a mail that had none ("(no text)",
    stored in English) in the reader's language; already in Traditional characters on a page
    that is converted, as the customer's text beside it is kept as written (`as_written`)."""
    if (text or "").strip() != NO_TEXT_MARKER:
        return text or ""
    marker = _("(no text)")
    return to_traditional(marker) if has_request_context() and g.get("traditional") else marker


#: A message longer than this many characters (half as many in Chinese, which fills a line
#: with half the characters and says as much with them) or lines shows its opening and folds
#: the rest (staff scrolled past a 9,000-character mail to reach the reply box).
LONG_MESSAGE_CHARS = 2000
LONG_MESSAGE_LINES = 30
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ")


def opening_and_rest(text: str) -> tuple[str, str]:
    """Template filter: a long message as (its opening, the rest), cut at a paragraph, line or
    sentence end; a short one as (itself, ""). The cut is kept only where the rest is worth
    folding (a quarter of the limit or more): folding three lines away helps nobody."""
    chars = LONG_MESSAGE_CHARS // 2 if has_cjk(text[:LONG_MESSAGE_CHARS]) else LONG_MESSAGE_CHARS
    lines = text.split("\n")
    limit = min(chars, len("\n".join(lines[:LONG_MESSAGE_LINES])))
    if len(text) - limit < chars // 4:
        return text, ""
    window = text[:limit]
    ends = [window.rfind(mark) + len(mark) for mark in _BREAKS if window.rfind(mark) > limit // 2]
    cut = max(ends) if ends else limit
    return text[:cut].rstrip(), text[cut:].lstrip("\n")


_FULL_WIDTH_CLOSERS = "）」』】〉》"


def before_value(label: str) -> str:
    """Template filter: a label, then its colon and the space before its value as its language
    writes them: "Status: ", "Your reference: ", but "状态：", "您的工单编号：" (a full-width
    colon brings its own space)."""
    if label.endswith("："):
        return label
    if label.endswith(":"):
        return label + " "
    last = label[-1:]
    # A closing full-width bracket ends a Chinese label too: "答案（Markdown）：".
    return label + ("：" if has_cjk(last) or last in _FULL_WIDTH_CLOSERS else ": ")


def in_brackets(value: object) -> Markup:
    """Template filter: a value in brackets after what it qualifies, as the page's language
    writes them: "History (3)", but "记录（3）" (full-width brackets bring their own space)."""
    if has_request_context() and g.get("lang") == "zh":
        return Markup("（{}）").format(value)
    return Markup(" ({})").format(value)


def duration(seconds: float | None) -> str:
    """Template filter: a length of time as people say it, in the page's language: "18 min",
    "1 h 30 min", "2 d 4 h", "18 分钟", "1 小时 30 分钟" (reports said "0.3 h")."""
    if seconds is None:
        return ""
    if 0 < seconds < 60:
        return _("under 1 min")
    minutes = max(0, int(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h", d=days, h=hours) if hours else _("%(d)s d", d=days)
    if hours:
        return _("%(h)s h %(m)s min", h=hours, m=mins) if mins else _("%(h)s h", h=hours)
    return _("%(m)s min", m=mins)


def file_size(size: int) -> str:
    """Template filter: a file's size as people say it: "13 bytes", "1.5 KB", "3.5 MB" (a
    13-byte file read "0.0 KB", as if it were empty, and 3.5 MB "3584.0 KB")."""
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    amount = float(size)
    for unit in ("KB", "MB", "GB"):
        amount /= 1024
        if amount < 1024 or unit == "GB":
            break
    return f"{amount:.1f}".removesuffix(".0") + f" {unit}"


def page_in_traditional(html: str) -> str:
    """An HTML page in Traditional characters except the parts marked `as_written` (unmarked
    here), what a textarea holds and the value of an input that is not a button (a button's
    value is its label, ours to convert). Our “” around such a part become 「」 too."""
    html = _QUOTED_WRITTEN_RE.sub(r"「\1」", html)
    out, done = [], 0
    for found in _WRITTEN_RE.finditer(html):
        out.append(to_traditional(html[done : found.start()]))
        if found.group("textarea") is not None:
            out.append(to_traditional(found.group("textarea")) + found.group("typed"))
        elif (tag := found.group("input")) is not None and not _BUTTON_TYPE_RE.search(tag):
            parts = _VALUE_RE.split(tag)
            out.append("".join(p if odd % 2 else to_traditional(p) for odd, p in enumerate(parts)))
        elif tag is not None:
            out.append(to_traditional(tag))
        else:
            out.append(found.group()[len(_AS_WRITTEN_START) : -len(_AS_WRITTEN_END)])
        done = found.end()
    out.append(to_traditional(html[done:]))
    return "".join(out)


def in_reader_script(text: str, typed: str | None = None) -> str:
    """`text` (ours or an FAQ article's) as this request's reader reads it: for answers other
    than HTML pages (JSON), which `init_app` converts as a whole (see `reader_script`)."""
    return to_traditional(text) if g.get("traditional") else reader_script(text, typed=typed)


def reader_script(text: Any, written: str | None = None, *, typed: str | None = None) -> Any:
    """Template filter: FAQ text (a question, an answer, an excerpt) in the reader's script.

    A page in Traditional is converted as a whole instead. On any other page (English, or
    Simplified) Chinese text is in Traditional for a reader of Traditional: one whose browser
    or switch asks for it, or who ``typed`` (a search, the ask-us form) in Traditional
    characters, as a Hong Kong reader with an English browser does; otherwise in Simplified
    when a Taiwan admin wrote it in Traditional, judged on ``written`` (the whole article)."""
    if not has_request_context() or g.get("traditional") or not text:
        return text
    if g.get("reads_traditional") or typed_in_traditional(typed):
        converted = to_traditional(str(text))
    else:
        converted = for_simplified_reader(str(text), written)
    return Markup(converted) if isinstance(text, Markup) else converted


_READER_PAGES = "support.reader_pages"


def reader_pages(app: Flask, *blueprints: Blueprint) -> None:
    """Mark customer-facing blueprints: their Chinese pages follow the reader's script. Staff
    pages follow the staff member's own choice (`own_language`), else the browser too; what a
    form hands back (textareas, input values) is never converted (`page_in_traditional`)."""
    app.extensions.setdefault(_READER_PAGES, set()).update(bp.name for bp in blueprints)


#: A staff member's own choice of pages and mail ("zh", "zh-Hant", "en"; see `own_language`).
OWN_LANGUAGES = ("zh", "zh-Hant", "en")
TRADITIONAL_CHINESE = "zh-Hant"
_OWN_LANGUAGE = "support.own_language"


def own_language(app: Flask, chosen: Callable[[], str | None]) -> None:
    """Register how the signed-in staff member's own language is found (support.auth): on
    staff pages it decides the language and the script, as it does for the mail they get."""
    app.extensions[_OWN_LANGUAGE] = chosen


def page_language() -> str:
    """The language this page is shown in, as a staff member's own choice names it."""
    if g.get("lang") == "zh":
        return TRADITIONAL_CHINESE if g.get("traditional") else "zh"
    return "en"


def _babel_locale() -> str:
    lang = g.get("lang") if has_request_context() else None
    if (lang or select_language()) != "zh":
        return "en"
    traditional = has_request_context() and g.get("traditional_messages")
    return i18n.TRADITIONAL_LOCALE if traditional else i18n.SIMPLIFIED_LOCALE


#: What the JSON API's answers follow besides the URL: Accept-Language and the ``lang`` and
#: ``script`` cookies (`select_language`, `select_script`); the token, where it decides, is
#: the API's to add (support.staff.api). A cache must not give one client's language to another.
API_VARY = ("Accept-Language", "Cookie")


def api_language(lang: str, traditional: bool) -> None:
    """The JSON API's language, and its messages in Traditional characters (``zh_Hant``:
    `i18n`) when ``traditional``: there is no page to convert on the way out."""
    g.lang = lang
    g.script_switch = False
    g.reads_traditional = traditional
    g.traditional = False
    g.traditional_messages = lang == "zh" and traditional
    refresh()  # a message may have been translated already (the 401 check's)


def client_address() -> str:
    """The client's IP address, for per-IP limits: the only place that reads it.

    Behind HTTP_TRUSTED_PROXIES reverse proxies it comes from their X-Forwarded-For (see
    `trust_proxies`); otherwise it is the connection's, and a client's own X-Forwarded-For is
    ignored.
    """
    return request.remote_addr or "unknown"


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from the HTTP_TRUSTED_PROXIES proxies in front."""
    count = int(app.config["HTTP_TRUSTED_PROXIES"])
    if count > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )


def _ids_in_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A number in a URL that no id column can hold (every ``<int:...>`` here is an id, from 1)
    is a 404 on every page and in the API, so it never reaches the database (PostgreSQL answers
    such a number with an overflow error)."""
    for value in (values or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= MAX_ID:
            abort(404)


def id_or_none(text: str | None) -> int | None:
    """An id from a query string or form field (ASCII digits, 1 to MAX_ID), else None.

    ``str.isdigit()`` is no check: it accepts "²" and "١", which ``int()`` refuses or reads,
    and a longer number overflows the database's id column (a 500 either way).
    """
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def page_number(text: str | None, maximum: int) -> int:
    """A page number from a query string: 1 unless it is a whole number, at most `maximum`."""
    return min(id_or_none(text) or 1, maximum)


def _holds_nul(values: MultiDict[str, str]) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def public_url(path: str) -> str:
    """`path` on PUBLIC_BASE_URL: a page's own absolute links never take the request's Host
    header, which the client chooses (a cache in front would keep the poisoned page)."""
    return public_base_url(current_app.config) + path


def page_company_name() -> str:
    """The company's name in this page's language (support.core.config.company_name)."""
    return company_name(current_app.config, g.get("lang"))


def page_zone() -> str:
    """The company's time zone as this page's reader knows it, as customers' mail names it:
    北京时间 on a Simplified page, UTC+8 on a Traditional one, ``Asia/Shanghai, UTC+8`` in
    English."""
    name = str(current_app.config.get("COMPANY_TIMEZONE") or "UTC")
    local = datetime.now(ZoneInfo(name))
    return zone_text(name, local, g.get("lang") or "en", traditional=bool(g.get("traditional")))


class PageWarmUp:
    """Loads, as the web server starts and before it says "ready", what the first page of each
    kind loaded while its user waited: every page template compiled (the first ticket page
    compiled four, 1.0-1.4 s under load), the Traditional/Simplified tables, the Chinese word
    segmenter and the translations of each language. What a page shows does not change; only
    when the work is done. (The FAQ index and its models are IndexCheck's, started before.)"""

    name = "page-warm-up"

    def __init__(self, app: Flask) -> None:
        self.app = app

    def start(self) -> None:
        warm_up_pages(self.app)

    def stop(self) -> None:
        pass


def warm_up_pages(app: Flask) -> int:
    """Compile every page template into the app's template cache, load the script tables, the
    word segmenter and the translations; returns how many templates were compiled."""
    started = time.process_time()
    names = app.jinja_env.list_templates(extensions=["html"])
    for name in names:
        app.jinja_env.get_template(name)
    to_simplified("臺灣")
    to_traditional("台湾")
    segmenter()  # the reply box's FAQ search of Chinese words (the worker loads it too)
    with app.test_request_context():
        for locale in ("en", i18n.SIMPLIFIED_LOCALE, i18n.TRADITIONAL_LOCALE):
            with force_locale(locale):
                get_translations()
    log.info(
        "pages warmed up: %d templates compiled (%.2f s CPU)",
        len(names),
        time.process_time() - started,
    )
    return len(names)


def address_shown(address: str | None) -> Markup:
    """An address for staff: an IDNA domain in its own script (用户@例子.公司), with the ASCII
    form beside it, so a look-alike domain (pаypal.com with a Cyrillic а) shows what it is."""
    address = address or ""
    readable = readable_address(address)
    if readable == address:
        return escape(address)
    return Markup('{} <span class="muted">({})</span>').format(readable, address)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_ids_in_range)
    compiled = i18n.compile_translations(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.jinja_env.filters["as_written"] = as_written
    app.jinja_env.filters["reader_script"] = reader_script
    app.jinja_env.filters["linked"] = linked
    app.jinja_env.filters["message_words"] = message_words
    app.jinja_env.filters["subject_shown"] = subject_shown
    app.jinja_env.filters["before_value"] = before_value
    app.jinja_env.filters["in_brackets"] = in_brackets
    app.jinja_env.filters["address_shown"] = address_shown
    app.jinja_env.filters["readable_address"] = readable_address
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["opening_and_rest"] = opening_and_rest
    babel.init_app(app, locale_selector=_babel_locale)

    @app.before_request
    def _language() -> None:
        if request.path.startswith("/api/"):
            # As a page's (readers of Taiwan, Hong Kong or Macau Chinese: Traditional); the
            # token owner's own choice is the API's (support.staff.api).
            api_language(select_language(), select_script() == "hant")
            return
        staff = request.path.startswith("/staff")
        chosen = app.extensions.get(_OWN_LANGUAGE)
        own = chosen() if staff and chosen is not None else None
        if own in OWN_LANGUAGES:  # the account says, not a switch (a link's ?lang= may)
            asked, script = request.args.get("lang"), request.args.get("script")
            g.own_language = own
            g.lang = asked if asked in SUPPORTED_LANGUAGES else own[:2]
            g.script_switch = False
            g.reads_traditional = (
                script == "hant" if script in SCRIPTS else own == TRADITIONAL_CHINESE
            )
            g.traditional = g.lang == "zh" and g.reads_traditional
            return
        g.lang = select_language()
        readers = app.extensions.get(_READER_PAGES, set())
        # An address that matches no page (a mistyped link) is a customer's page too: its 404
        # came in Simplified to a reader of Traditional characters.
        unmatched = request.url_rule is None and not request.path.startswith(("/staff", "/api"))
        # Staff pages without an own choice (the sign-in page) follow the browser as these do.
        reader = request.blueprint in readers or unmatched or staff
        g.script_switch = g.lang == "zh" and reader
        # Also on a reader's English page: its links to Chinese pages are labelled so.
        g.reads_traditional = reader and select_script() == "hant"
        g.traditional = g.script_switch and g.reads_traditional

    @app.before_request
    def _no_nul_characters() -> None:
        """A NUL character in a query or form value is a 400: PostgreSQL cannot store one, and
        every note, reply, saved reply or search would otherwise fail at the database (a 500).
        Multipart forms too: the ticket page's reply and note forms are (they carry files), and
        anyone may send any form so (a sign-in was a 500). Their files' names are cleaned by
        their views, and the mail parser drops NUL from what files carry."""
        if _holds_nul(request.args) or (
            request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
            and _holds_nul(request.form)
        ):
            abort(400, _("The text holds a character that cannot be stored (NUL)."))

    @app.after_request
    def _headers(response):
        lang = request.args.get("lang")
        if lang in SUPPORTED_LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax")
        script = request.args.get("script")
        if script in SCRIPTS:
            response.set_cookie("script", script, max_age=365 * 86400, samesite="Lax")
        if response.mimetype == "text/html":  # language and script follow these
            response.vary.update(("Accept-Language", "Cookie"))
        if request.path.startswith("/api/"):
            response.vary.update(API_VARY)
        if (
            g.get("traditional")
            and response.mimetype == "text/html"
            and not (response.direct_passthrough or response.is_streamed)
        ):
            response.set_data(page_in_traditional(response.get_data(as_text=True)))
        if request.path.startswith(("/staff/", "/api/")):
            # Customers' mail, notes and exports: not kept on disk by a browser or proxy, nor
            # shown again by the Back button after sign-out.
            response.headers.setdefault("Cache-Control", "private, no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        message = _("The form has expired. Please go back, reload the page and try again.")
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if request.path.startswith("/api/"):  # support.core.json_errors: the API's one shape
            return http_error(error, megabytes(int(current_app.config["MAX_CONTENT_LENGTH"])))
        # The error's own headers say what to do next (a 405's Allow, a 401's WWW-Authenticate).
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        # Werkzeug's stock descriptions are English: the page says it in the UI language.
        own = error.description if error.description != type(error).description else None
        if error.code == 413 and own is None:  # files too large for any form: say what to do
            own = _(
                "What you sent is larger than %(size)s. Go back (your text is still there) "
                "and attach fewer or smaller files.",
                size=megabytes(int(current_app.config["MAX_CONTENT_LENGTH"])),
            )
        return render_template("error.html", code=error.code, message=own), error.code, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # The path is the client's (%0a decodes to a newline): quoted and bounded in the log.
        log.exception("unhandled error on %s %r", request.method, request.path[:MAX_LOGGED_PATH])
        # The database unreachable (or SQLite locked): 503, as /healthz says, so a reverse
        # proxy tries another host (docs/deploy.md: proxy_next_upstream ... http_503).
        code = 503 if isinstance(error, OperationalError) else 500
        if request.path.startswith("/api/"):
            name = "Service Unavailable" if code == 503 else "Internal Server Error"
            return json_error(code, name, status_message(code))
        return render_template("error.html", code=code, message=None), code

    app.jinja_env.globals["SUPPORTED_LANGUAGES"] = SUPPORTED_LANGUAGES
    app.jinja_env.globals["lang_switch_url"] = lang_switch_url
    app.jinja_env.globals["script_switch_url"] = script_switch_url
    app.jinja_env.globals["chinese_tag"] = chinese_tag
    app.jinja_env.globals["lang_attribute"] = lang_attribute
    app.jinja_env.globals["public_url"] = public_url
    app.jinja_env.globals["company_name"] = page_company_name
    app.jinja_env.globals["company_zone"] = page_zone


def megabytes(size: int) -> str:
    """A size limit as people read it ("10 MB")."""
    return f"{size / 1048576:.3g} MB"


#: Types a stored file is served as; all else is application/octet-stream.
DOWNLOAD_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
)


def download_response(data: bytes, filename: str, content_type: str) -> Response:
    """A stored file (a mail's attachment): always a download, never rendered by the browser,
    with nosniff and a locked-down CSP, whatever the sender called it."""
    return _stored_file(
        data,
        filename or "attachment",
        content_type if content_type in DOWNLOAD_TYPES else "application/octet-stream",
        as_attachment=True,
        policy="default-src 'none'; sandbox",
    )


def _stored_file(
    data: bytes, filename: str, content_type: str, *, as_attachment: bool, policy: str
) -> Response:
    response = send_file(
        io.BytesIO(data),
        mimetype=content_type,
        as_attachment=as_attachment,
        download_name=filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "private, no-store"
    return response


def picture_response(data: bytes, filename: str, content_type: str) -> Response:
    """A stored picture shown in the page (an ``<img>`` or opened in a tab): served as the
    type its bytes were found to be (`support.core.images.picture`, never SVG), inline, with
    nosniff and a CSP that lets the browser show the picture and nothing else run."""
    response = _stored_file(
        data,
        filename or "picture",
        content_type,
        as_attachment=False,
        policy="default-src 'none'; img-src 'self'; sandbox",
    )
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


#: Characters of a request path written to the log with an unhandled error.
MAX_LOGGED_PATH = 300

#: Characters of a query-string key or value carried into a rebuilt link (the switches).
MAX_LINK_ARG_CHARS = 200


def this_page_with(name: str, value: str) -> str:
    """This page's URL with one query argument set and the rest of its query kept (bounded:
    it is the visitor's), so a search survives a language or script switch."""
    args: dict[str, Any] = {
        key[:MAX_LINK_ARG_CHARS]: [item[:MAX_LINK_ARG_CHARS] for item in values[:5]]
        for key, values in list(request.args.lists())[:20]
    }
    args[name] = [value]
    if request.endpoint and request.url_rule is not None:
        try:
            return url_for(request.endpoint, **(request.view_args or {}), **args)
        except Exception:
            log.debug("cannot rebuild %s with %s=%s", request.endpoint, name, value)
    return f"?{name}={value}"


#: Longest path a "next" may send the user on to.
MAX_NEXT_CHARS = 2000


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: a form's or link's "next" must not
    send anyone to another site (``//host``, ``/\\host`` and ``https:`` are refused). Control
    characters are refused too: a newline cannot go into a Location header, and browsers drop
    tabs, so "/<tab>/evil.example" would be "//evil.example"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if len(target) > MAX_NEXT_CHARS or not target.isprintable():
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def lang_switch_url(code: str) -> str:
    """This page in another UI language."""
    return this_page_with("lang", code)


def text_language_tag(language: str, typed: str | None = None) -> str:
    """The language tag of FAQ text written in `language` as `reader_script` shows it (with
    the same ``typed``): Chinese in the reader's script or the one they typed in."""
    if language != "zh":
        return "en"
    reads_traditional = g.get("traditional") or g.get("reads_traditional")
    return "zh-Hant" if reads_traditional or typed_in_traditional(typed) else "zh-Hans"


def lang_attribute(language: str, typed: str | None = None) -> Markup:
    """Template global: `` lang="zh-Hans"`` on FAQ text in another language than the page's,
    nothing on the page's own: a screen reader speaks it in its own voice (WCAG 3.1.2) and a
    browser draws Chinese on an English page in a Chinese font, not a Japanese one."""
    tag = text_language_tag(language, typed)
    page = ("zh-Hant" if g.get("traditional") else "zh-Hans") if g.get("lang") == "zh" else "en"
    return Markup(f' lang="{tag}"') if tag != page else Markup("")


def chinese_tag() -> str:
    """The language tag of Chinese text as this reader sees it (`lang` of a link to a Chinese
    page, of a Chinese article): Traditional pages are converted, and the tag says so."""
    return "zh-Hant" if g.get("reads_traditional") else "zh-Hans"


def script_switch_url() -> str:
    """This page in the other Chinese script."""
    return this_page_with("script", "hans" if g.get("traditional") else "hant")
