"""The customer-facing FAQ portal: home, categories, articles, search, suggestions, contact form.

Every page works without JavaScript; app.js only adds suggestions while typing. Demand signals
(views, search clicks, helpful votes) and searches are recorded here with a visitor id: a random
value in a cookie, stored only as a keyed hash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import TooManyRequests
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from faq import demand, privacy_notice
from faq import search as faq_search
from faq.index_sync import get_index
from faq.knowledge import (
    article_by_slug,
    near_the_first,
    related_articles,
    render_answer,
    search_faq,
    suggest_articles,
    translations_of,
)
from faq.matching import NO_ANSWER_BELOW, answer_confidence, first_page, search_confidence
from faq.models import LANGUAGES, Article, Category, Feedback, SearchQuery
from faq.phrasings import learn_from_helpful_vote
from support.core import rate_limits, web
from support.core.addresses import deliverable_address, readable_address
from support.core.db import db_session, get_db, utcnow
from support.core.form_fields import TextBoxField
from support.core.text import CJK_RE, detect_language, name_sort_key, written_in_pinyin
from support.core.zones import own_clock
from support.desk import privacy
from support.desk.models import Department

log = logging.getLogger(__name__)
bp = Blueprint("faq", __name__)

VISITOR_COOKIE = "faq_vid"
_VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: Characters of a search that are searched, stored and put into links (and of a suggestion
#: prefix). Real questions are far shorter; a longer text would be echoed into every link.
MAX_QUERY_CHARS = 200
RESULTS_PER_PAGE = 10
SUGGESTIONS = 6
CONTACT_MATCHES = 3


# -- visitor identity ---------------------------------------------------------------------------


def _keyed_hash(value: str, purpose: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def visitor_id() -> str:
    """This browser's pseudonymous id (hashed; the cookie value itself is never stored)."""
    if "faq_visitor" not in g:
        raw = request.cookies.get(VISITOR_COOKIE, "")
        if not _VISITOR_RE.match(raw):
            raw = secrets.token_urlsafe(24)
            g.faq_new_visitor_cookie = raw
        g.faq_visitor = _keyed_hash(raw, "visitor")
    return g.faq_visitor


def client_ip_hash() -> str:
    """The client's address (an IPv6 client's network, see rate_limits.client_network), hashed:
    what per-client limits count and the contact form stores."""
    return _keyed_hash(rate_limits.client_network(web.client_address()), "ip")


def is_bot_request() -> bool:
    return demand.is_bot(request.headers.get("User-Agent"))


@bp.after_request
def _set_visitor_cookie(response):
    raw = g.pop("faq_new_visitor_cookie", None)
    if raw:
        response.set_cookie(
            VISITOR_COOKIE,
            raw,
            max_age=privacy_notice.VISITOR_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def _ui_language() -> str:
    return g.get("lang") if g.get("lang") in LANGUAGES else "en"


def _category_name(category: Category) -> str:
    return web.reader_script(category.name(_ui_language()))


# -- pages --------------------------------------------------------------------------------------


@bp.get("/")
def home():
    session = db_session()
    language = _ui_language()
    overview = demand.home_overview(session, language)
    return render_template(
        "faq/home.html",
        pinned=overview.pinned,
        blocks=overview.blocks,
        most_asked=overview.most_asked,
        language=language,
        category_name=_category_name,
    )


@bp.get("/c/<slug>")
def category(slug: str):
    session = db_session()
    found = session.scalar(
        select(Category).where(Category.slug == slug, Category.is_published.is_(True))
    )
    if found is None:
        abort(404)
    language = _ui_language()
    articles = demand.ranked_articles(session, found, language)
    other = [lang for lang in LANGUAGES if lang != language]
    elsewhere = [] if articles else demand.ranked_articles(session, found, other[0])
    return render_template(
        "faq/category.html",
        category=found,
        name=_category_name(found),
        articles=articles,
        elsewhere=elsewhere,
        elsewhere_language=other[0],
    )


class FeedbackForm(FlaskForm):
    helpful = HiddenField(validators=[Optional(), Regexp(r"^(yes|no)$")])
    comment = TextBoxField(
        _l("What was missing or unclear? (optional)"), validators=[Optional(), Length(max=2000)]
    )


@bp.get("/a/<slug>")
def article(slug: str):
    session = db_session()
    found = article_by_slug(session, slug)
    if found is None:
        abort(404)
    translations = translations_of(session, found)
    if request.args.get("lang") and request.args["lang"] != found.language:
        # The reader switched language: show the same answer in that language if we have it.
        for other in translations:
            if other.language == request.args["lang"]:
                return redirect(url_for("faq.article", slug=other.slug))
    if not is_bot_request():
        # A GET page's session only reads: count the view in a short write session of its own.
        visitor = visitor_id()
        with get_db().session() as writer:
            if _within_hourly_limit(writer, "faq-view", "FAQ_VIEWS_PER_IP_HOUR"):
                _record_search_click(writer, found, visitor)
                demand.record_demand(writer, found.id, "view", visitor=visitor)
    vote = _own_vote(session, found) if request.args.get("voted") else None
    related = related_articles(session, found)
    category_name = _category_name(found.category)
    return render_template(
        "faq/article.html",
        article=found,
        answer_html=render_answer(found.answer_md),
        # The article's script is judged on all of it: a short question may hold one
        # Traditional character only.
        written=f"{found.question}\n{found.answer_md}",
        category_name=category_name,
        related=related,
        translations=translations,
        vote=vote,
        form=FeedbackForm(),
        commented=request.args.get("commented") == "1",
    )


def _record_search_click(session, found: Article, visitor: str) -> None:
    """A result opened from our results page: the search led here."""
    query_id = web.id_or_none(request.args.get("sq"))
    if query_id is None:
        return
    query = session.get(SearchQuery, query_id)
    if query is None or query.visitor != visitor or query.clicked_article_id == found.id:
        return
    if query.created_at < utcnow() - timedelta(hours=12):
        return
    query.clicked_article_id = found.id
    demand.record_demand(session, found.id, "search_click", visitor=visitor)


def _own_vote(session, found: Article) -> Feedback | None:
    return session.scalar(
        select(Feedback)
        .where(Feedback.article_id == found.id, Feedback.visitor == visitor_id())
        .order_by(Feedback.created_at.desc())
        .limit(1)
    )


@bp.post("/a/<slug>/feedback")
def feedback(slug: str):
    """ "Was this helpful?": one vote per visitor and article (a second vote changes it)."""
    session = db_session()
    found = article_by_slug(session, slug)
    if found is None:
        abort(404)
    form = FeedbackForm()
    if not form.validate_on_submit():
        abort(400, _("Your answer could not be read; please reload the page and try again."))
    visitor = visitor_id()
    existing = _own_vote(session, found)
    if form.helpful.data in ("yes", "no"):
        helpful = form.helpful.data == "yes"
        if existing is None and not _within_hourly_limit(
            session, "faq-vote", "FAQ_VOTES_PER_IP_HOUR"
        ):
            # Thanked, not counted: a client clearing its cookies would stuff the ranking.
            return redirect(
                url_for("faq.article", slug=found.slug, voted=form.helpful.data) + "#feedback"
            )
        if existing is None:
            existing = Feedback(article_id=found.id, helpful=helpful, visitor=visitor)
            session.add(existing)
            _count_vote(session, found, helpful, +1)
            newly_helpful = helpful
        else:
            newly_helpful = helpful and not existing.helpful
            if existing.helpful != helpful:
                _count_vote(session, found, existing.helpful, -1)
                _count_vote(session, found, helpful, +1)
                existing.helpful = helpful
        if newly_helpful and not is_bot_request():
            demand.record_demand(session, found.id, "helpful", visitor=visitor)
            learn_from_helpful_vote(session, found.id, visitor)
        return redirect(
            url_for("faq.article", slug=found.slug, voted=form.helpful.data) + "#feedback"
        )
    if existing is not None and form.comment.data and form.comment.data.strip():
        existing.comment = form.comment.data.strip()
    return redirect(url_for("faq.article", slug=found.slug, voted="no", commented=1) + "#feedback")


def _within_hourly_limit(session: Session, kind: str, setting: str) -> bool:
    """One more ``kind`` from this client address is within the setting's hourly limit
    (counted in the database, so across processes and hosts). Views and votes rank the FAQ:
    a client that drops its cookie is a new visitor each time, its address is not."""
    per_hour = int(current_app.config[setting])
    key = rate_limits.limit_key(kind, client_ip_hash())
    return rate_limits.take(session, key, utcnow(), limit=per_hour, window=timedelta(hours=1))


def _count_vote(session: Session, found: Article, helpful: bool, delta: int) -> None:
    """Add to the article's vote count in SQL (two votes at once both count), leaving its
    "last updated" time alone: a vote is not an edit."""
    column = Article.helpful_yes if helpful else Article.helpful_no
    count = func.coalesce(column, 0) + delta
    session.execute(
        update(Article)
        .where(Article.id == found.id)
        .values({column: case((count < 0, 0), else_=count), "updated_at": Article.updated_at})
        .execution_options(synchronize_session=False)
    )
    session.expire(found, [column.key])


# -- search -------------------------------------------------------------------------------------

#: The window of FAQ_QUERIES_PER_IP_MINUTE, and the wait a refused client is told.
QUERY_WINDOW = timedelta(minutes=1)
TOO_MANY_QUERIES = _l(
    "You have searched very often in the last minute. Please wait a moment and try again."
)


def _query_budget_left(session: Session | None = None) -> bool:
    """One more search (a page, a suggestion or the contact form's matches) from this client
    is within FAQ_QUERIES_PER_IP_MINUTE. Anyone may ask, and a unique query costs the model and
    the word search up to half a second of CPU (docs/measurements.md, twenty-first session), so
    each client address is counted in the database, across processes and hosts. Counted in
    `session` (a form's, which commits with the request), else in a session of its own (a GET
    page's session only reads)."""
    per_minute = int(current_app.config["FAQ_QUERIES_PER_IP_MINUTE"])
    key = rate_limits.limit_key("faq-query", client_ip_hash())
    if session is not None:
        return rate_limits.take(session, key, utcnow(), limit=per_minute, window=QUERY_WINDOW)
    with get_db().session() as writer:
        return rate_limits.take(writer, key, utcnow(), limit=per_minute, window=QUERY_WINDOW)


def _too_many_queries_json(empty: dict):
    """A refused suggestion request: 429 with nothing to show (app.js shows nothing)."""
    response = _json_no_store({**empty, "error": str(TOO_MANY_QUERIES)})
    response.status_code = 429
    response.headers["Retry-After"] = str(int(QUERY_WINDOW.total_seconds()))
    return response


#: The query arguments a results page's own links (show all, the pages, did you mean) carry
#: over from the page they are on: the search, its filters, the typed words as typed, and the
#: page's language and script (kept in a cookie too, which a browser may refuse).
SEARCH_LINK_ARGS = ("q", "category", "language", "exact", "lang", "script")


def _search_url(query: str, **changes: Any) -> str:
    """A link to the results page with this page's SEARCH_LINK_ARGS (``q``: the query as
    searched, not as typed) and ``changes`` (a None value drops an argument)."""
    kept: dict[str, Any] = {
        name: request.args[name][: web.MAX_LINK_ARG_CHARS]
        for name in SEARCH_LINK_ARGS
        if request.args.get(name)
    }
    kept["q"] = query
    kept.update(changes)
    return url_for("faq.search", **{k: v for k, v in kept.items() if v not in (None, "")})


@bp.get("/search")
def search():
    session = db_session()
    query = " ".join(request.args.get("q", "").split())[:MAX_QUERY_CHARS]
    language = request.args.get("language", "")
    if language not in ("", "all", *LANGUAGES):
        language = ""
    categories = sorted(  # a list to pick from: by the name the reader sees
        demand.category_summaries(session), key=lambda c: name_sort_key(c.name(_ui_language()))
    )
    chosen = next((c for c in categories if c.slug == request.args.get("category")), None)
    page = web.page_number(request.args.get("page"), 50)
    # "Show all": every result, page by page; otherwise page 1 shows those close to the first.
    everything = request.args.get("all") == "1" or page > 1
    results = searched_language = None
    no_exact_answer = False
    shown: list = []
    log_id = None
    if query and not _query_budget_left():
        raise TooManyRequests(
            str(TOO_MANY_QUERIES),
            retry_after=int(QUERY_WINDOW.total_seconds()),
        )
    if query:

        def search_page(number: int) -> tuple[faq_search.SearchResults, str | None]:
            return search_faq(
                query,
                language=language or "auto",
                category_id=chosen.id if chosen else None,
                limit=RESULTS_PER_PAGE,
                page=number,
                session=session,
                spelling=request.args.get("exact") != "1",
            )

        results, searched_language = search_page(page)
        # Whether an article answers is the first result's verdict, which is on page 1: a later
        # page reads it there, so it keeps the notice and the way to ask us.
        first = first_page(results if page == 1 else search_page(1)[0])
        no_exact_answer = first.no_exact_answer
        if page == 1 and not is_bot_request():
            log_id = _log_search(query, searched_language, results)
        else:
            log_id = web.id_or_none(request.args.get("sq"))
        shown = results.hits if everything else first.hits
    # Fewer shown than found on page 1: a "show all" link instead of the pages.
    cut = results is not None and len(shown) < len(results.hits)
    pages = (results.total + RESULTS_PER_PAGE - 1) // RESULTS_PER_PAGE if results and not cut else 0
    popular = demand.most_asked(session, _ui_language(), limit=5) if not query else []
    return render_template(
        "faq/search.html",
        query=query,
        results=results,
        hits=shown,
        snippets=[Markup(hit.snippet_html) for hit in shown],
        cut=cut,
        searched_language=searched_language,
        language=language,
        categories=categories,
        chosen=chosen,
        category_name=_category_name,
        page=page,
        pages=pages,
        log_id=log_id,
        popular=popular,
        search_url=functools.partial(_search_url, query),
        # The first result is probably not an answer: said so on every page, and the results
        # are related articles.
        no_exact_answer=no_exact_answer,
    )


def _log_search(query: str, language: str | None, results: Any) -> int | None:
    """Store a search, at most once per visitor and query within a session window, and at
    most FAQ_SEARCH_LOG_PER_IP_HOUR per client address and hour (beyond: searched, not
    stored). Returns the stored search's id (a repeat gets the earlier row's), or None."""
    visitor = visitor_id()
    now = utcnow()
    window = timedelta(minutes=int(current_app.config["FAQ_SEARCH_SESSION_MINUTES"]))
    with get_db().session() as writer:  # a GET page's session only reads
        earlier = writer.scalar(
            select(SearchQuery.id)
            .where(
                SearchQuery.visitor == visitor,
                SearchQuery.query == query,
                SearchQuery.created_at >= now - window,
            )
            .order_by(SearchQuery.id.desc())
            .limit(1)
        )
        if earlier is not None:
            return earlier
        per_hour = int(current_app.config["FAQ_SEARCH_LOG_PER_IP_HOUR"])
        key = rate_limits.limit_key("faq-search", client_ip_hash())
        if not rate_limits.take(writer, key, now, limit=per_hour, window=timedelta(hours=1)):
            return None
        entry = SearchQuery(
            query=query,
            language=language,
            result_count=results.total,
            top_score=search_confidence(results.hits, [hit.score for hit in results.hits]),
            visitor=visitor,
            created_at=now,
        )
        writer.add(entry)
        writer.flush()
        return entry.id


@bp.get("/suggest")
def suggest():
    """Questions for the search box while the customer types (JSON, for app.js)."""

    prefix = request.args.get("q", "")[:MAX_QUERY_CHARS]
    if len(prefix.strip()) < 2 and detect_language(prefix, min_cjk_share=0) != "zh":
        return _json_no_store({"suggestions": []})
    if not _query_budget_left():
        return _too_many_queries_json({"suggestions": []})
    index = get_index()
    try:
        found = index.suggest(
            prefix, language=detect_language(prefix, min_cjk_share=0), limit=SUGGESTIONS
        )
        if not found:
            found = index.suggest(prefix, language=None, limit=SUGGESTIONS)
    except Exception:  # suggestions are a convenience: never an error for the customer
        log.exception("FAQ suggestions failed for %r", prefix[:100])
        found = []
    live = _live_ids([s.article_id for s in found])
    return _json_no_store(
        {
            "suggestions": [
                {
                    "question": web.in_reader_script(s.question, typed=prefix),
                    "lang": web.text_language_tag(s.language, typed=prefix),
                    "url": url_for("faq.article", slug=s.slug),
                }
                for s in found
                if s.article_id in live
            ]
        }
    )


def _live_ids(ids: list[int]) -> set[int]:
    """Of these article ids, the ones still published (the index may lag a moment)."""
    if not ids:
        return set()
    return set(
        db_session().scalars(
            select(Article.id).where(Article.id.in_(ids), Article.is_published.is_(True))
        )
    )


def _json_no_store(payload: dict):
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- contact form -------------------------------------------------------------------------------


def _valid_email(_form: FlaskForm, field: StringField) -> None:
    """Any address mail can deliver to, user@bücher.de and 用户@例子.公司 included
    (`deliverable_address`)."""
    value = (field.data or "").strip()
    if value and deliverable_address(value) is None:
        raise ValidationError(_("Please enter a valid email address, like name@example.com."))


def _no_control_characters(_form: FlaskForm, field: StringField) -> None:
    """A name or subject goes into mail headers: no line breaks or other control characters
    (a browser never sends them from a one-line field; a script forging headers does)."""
    value = field.data or ""
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        raise ValidationError(
            _("Please use only letters, digits and punctuation here (no line breaks).")
        )


class ContactForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Please tell us your name.")),
            Length(max=200),
            _no_control_characters,
        ],
    )
    email = StringField(
        _l("Your email address"),
        validators=[
            DataRequired(_l("Please enter your email address so we can answer you.")),
            Length(max=254),
            _valid_email,
        ],
    )
    # Optional: on a phone the question is typed first, and a missing subject is made from it.
    subject = StringField(
        _l("Subject (optional)"),
        validators=[Optional(), Length(max=200), _no_control_characters],
    )
    question = TextBoxField(
        _l("Your question"),
        validators=[
            DataRequired(_l("Please write your question.")),
            Length(max=10_000, message=_l("Please keep your question under 10,000 characters.")),
        ],
    )
    department = SelectField(_l("Department (optional)"), choices=[], validate_choice=True)
    # The label is the configured consent text in the page's language (`_contact_form`).
    consent = BooleanField(
        _l("I agree to the privacy notice"),
        # A ticked box sends "y"; anything that reads as "no" is no consent.
        false_values=("", "false", "n", "no", "off", "0"),
        # The error summary names the field by this, not by the whole consent text.
        description=_l("Privacy notice"),
        validators=[
            DataRequired(
                _l("Please tick the box to agree that we store your details to answer you.")
            )
        ],
    )
    # Left empty by people; bots fill every field. Hidden with CSS and from screen readers.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])
    # The browser's clock, minutes east of UTC, put here by app.js (`browser_utc_offset`).
    utc_offset = HiddenField()

    def address(self) -> str:
        """The validated address as we keep it: its domain in IDNA (`deliverable_address`),
        so user@bücher.de typed here and user@xn--bcher-kva.de sent by Chromium are one."""
        typed = (self.email.data or "").strip()
        return deliverable_address(typed) or typed


#: Longest text `browser_utc_offset` reads: "-720", "+840", "330" and the like.
_OFFSET_CHARS = 5


def browser_utc_offset(value: str | None) -> int | None:
    """The customer's UTC offset in minutes as the contact form's script gave it, when a
    clock on earth uses it; None for no script, garbage or anything out of range (the form
    is sent all the same: the ticket then shows the company's clock)."""
    text = (value or "").strip()
    if not text or len(text) > _OFFSET_CHARS:
        return None
    try:
        return own_clock(int(text))
    except ValueError:
        return None


#: A subject made from the question: about one line of an inbox, in either language.
DERIVED_SUBJECT_CHARS = 60


def subject_from_question(question: str) -> str:
    """The question's first line, cut at a word where there are words, for a form sent with
    no subject (staff inboxes and the customer's confirmation show the subject, never blank)."""
    line = next((" ".join(part.split()) for part in question.splitlines() if part.strip()), "")
    if len(line) <= DERIVED_SUBJECT_CHARS:
        return line
    cut = line[:DERIVED_SUBJECT_CHARS]
    space = cut.rfind(" ")
    if space >= DERIVED_SUBJECT_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。；：") + "…"


def _contact_form() -> ContactForm:
    form = ContactForm()
    language = _ui_language()
    departments = db_session().scalars(
        select(Department).where(Department.is_active.is_(True)).order_by(Department.id)
    )
    form.department.choices = [SelectChoice("", _("Not sure – you decide"))] + [
        SelectChoice(d.code, d.label(language)) for d in departments
    ]
    # The configured text, escaped, with its words "privacy notice" linked (the record keeps
    # the plain text: `_enqueue`).
    form.consent.label.text = privacy_notice.consent_label(
        privacy.consent_text(current_app.config, language), language
    )
    return form


def _over_limits(session: Session, email: str, ip_hash: str) -> tuple[bool, bool]:
    """Whether this client, and whether this address, is over FAQ_CONTACT_LIMIT_PER_HOUR
    questions an hour, counted in the database (``rate_limits``: one row each, taken
    atomically across processes). The queue's web mail of the last hour was read on every
    question instead: each question cost more than the one before (0.35 s with 20,000
    others' questions in the hour; anyone with many IPv6 networks could send that many), and
    two at once could both pass.

    The client's is told to it (it is about the client). The address's never is: anyone may
    type any address, and "several questions in the last hour" told them whether its owner
    had used the form (`contact`)."""
    limit = int(current_app.config["FAQ_CONTACT_LIMIT_PER_HOUR"])
    if limit <= 0:
        return False, False
    now, window = utcnow(), timedelta(hours=1)

    def over(kind: str, value: str) -> bool:
        key = rate_limits.limit_key(kind, value)
        return not rate_limits.take(session, key, now, limit=limit, window=window)

    # The client first: a client over its own limit does not use up the address's.
    if over("contact-ip", ip_hash):
        return True, False
    return False, over("contact-address", _keyed_hash(email.strip().lower(), "email"))


@bp.route("/contact", methods=["GET", "POST"])
def contact():
    """Ask us: becomes a ticket through exactly the pipeline an email takes."""
    session = db_session()
    form = _contact_form()
    if request.method == "GET":
        # The subject is what the customer was reading or searching for: not typed twice.
        about = article_by_slug(session, request.args.get("article", ""))
        searched = " ".join(request.args.get("q", "").split())[:MAX_QUERY_CHARS]
        if about is not None and not form.subject.data:
            form.subject.data = about.question
        elif searched and not form.subject.data:
            form.subject.data = searched
    matches = []
    status = 200
    if request.method == "POST" and request.form.get("action") == "check":
        text = f"{form.subject.data or ''}\n{form.question.data or ''}"
        if _match_weight(text) >= MATCH_MIN_WEIGHT and not _query_budget_left(session):
            form.form_errors.append(str(TOO_MANY_QUERIES))
            status = 429
        else:
            matches = _matches(text)
    elif request.method == "POST":
        if form.validate_on_submit():
            if form.website.data:
                log.info("contact form: honeypot filled, dropped")
                return redirect(url_for("faq.contact_sent"))
            ip_hash = client_ip_hash()
            client_over, address_over = _over_limits(session, form.address(), ip_hash)
            if client_over:
                form.form_errors.append(
                    _(
                        "You have sent several questions in the last hour. Please wait a while "
                        "before sending another; we answer every question you already sent."
                    )
                )
                status = 429
            else:
                # An address over its limit: taken as any question, but not answered by mail
                # (no one may fill an inbox with our confirmations); the page is the same.
                outcome = _enqueue(session, form, ip_hash, mail_to_address=not address_over)
                if isinstance(outcome, int):
                    receipt = _receipts().dumps([outcome, form.address()])
                    return redirect(url_for("faq.contact_sent", r=receipt))
                form.form_errors.append(outcome)
                status = 503
        else:
            status = 400
    return (
        render_template(
            "faq/contact.html",
            form=form,
            matches=matches,
            checked=request.form.get("action") == "check" and status != 429,
            general_address=current_app.config.get("MAIL_GENERAL_ADDRESS", ""),
        ),
        status,
    )


def _enqueue(
    session: Session, form: ContactForm, ip_hash: str, *, mail_to_address: bool = True
) -> int | str:
    """Queue the question; returns its id, or an error message for the customer.
    ``mail_to_address``: whether the address gets the confirmation mail."""

    consent = privacy.consent_text(current_app.config, _ui_language())
    meta = {
        "source": "contact_form",
        "consent_version": privacy.consent_version(consent),
        "name": form.name.data.strip(),
        "email": form.address(),
        "ip_hash": ip_hash,
        "visitor": visitor_id(),
        "language": _ui_language(),
        "user_agent": (request.headers.get("User-Agent") or "")[: privacy_notice.USER_AGENT_CHARS],
    }
    try:
        question_id = _contact_intake().submit(
            session,
            name=form.name.data.strip(),
            email=form.address(),
            subject=(form.subject.data or "").strip() or subject_from_question(form.question.data),
            body=form.question.data.strip(),
            department_code=form.department.data or None,
            meta=meta,
            utc_offset_minutes=browser_utc_offset(form.utc_offset.data),
            mail_to_address=mail_to_address,
        )
        # The record of what was agreed goes with the question, in the same transaction.
        privacy.record_consent(
            session, email=form.address(), text=consent, language=_ui_language(), channel="web"
        )
        session.flush()
    except ValueError as exc:
        session.rollback()
        log.info("contact form rejected: %s", exc)
        return _("We could not accept this address or department; please check the form.")
    except SQLAlchemyError:
        session.rollback()
        log.exception("contact form: cannot store the question")
        return _(
            "We could not store your question just now. Please try again in a few minutes, "
            "or write to us by email."
        )
    return question_id


#: How long the confirmation page (its URL holds the receipt) shows the address and reference.
RECEIPT_MAX_AGE_SECONDS = 24 * 3600


@bp.route("/privacy", endpoint="privacy")
def privacy_page():
    """The privacy notice the consent text names (`faq.privacy_notice`)."""
    return privacy_notice.page()


def _receipts() -> URLSafeTimedSerializer:
    """Signed receipts: the page names the question the browser sent, and only that one."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="faq.contact-receipt")


@bp.get("/contact/sent")
def contact_sent():
    """Confirmation: the address the answer goes to, then the reference and follow link as soon
    as the worker has made the ticket (the page checks again for a while)."""
    email = receipt = None
    try:
        question_id, email = _receipts().loads(
            request.args.get("r", "")[:500], max_age=RECEIPT_MAX_AGE_SECONDS
        )
    except (BadSignature, ValueError, TypeError):
        question_id = None
    if isinstance(question_id, int):
        receipt = _contact_intake().receipt(
            db_session(),
            question_id,
            language=_ui_language(),
            traditional=bool(g.get("traditional")),
        )
    response = make_response(
        render_template(
            "faq/contact_sent.html",
            # The address as the customer knows it: user@bücher.de, not user@xn--bcher-kva.de.
            email=readable_address(email) if isinstance(email, str) else None,
            reference=receipt.reference if receipt is not None else None,
            answer_by=receipt.answer_by if receipt is not None else None,
        )
    )
    # The URL holds the receipt: keep it out of Referer headers, search engines and caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: Text shorter than this offers no answers ("hi"); a Chinese character counts three, as
#: app.js counts it: 退款 or 发票 is a whole question, as "refund" is.
MATCH_MIN_WEIGHT = 3


def _match_weight(text: str) -> int:
    stripped = text.strip()
    return len(stripped) + 2 * len(CJK_RE.findall(stripped[:MATCH_MIN_WEIGHT]))


def _matches(text: str) -> list:
    if _match_weight(text) < MATCH_MIN_WEIGHT:
        return []
    session = db_session()
    # Pinyin typed for want of a Chinese keyboard is read as the Chinese it spells, as the
    # auto-reply reads the mail it becomes (faq.matching.answers_for): as letters it matched
    # English articles ("tui kuan duo jiu neng dao zhang" offered the warranty's).
    if written_in_pinyin(text):
        text = get_index(session=session).pinyin_as_chinese(text)
    found = suggest_articles(
        session, text, detect_language(text, min_cjk_share=0), limit=CONTACT_MATCHES
    )
    if not found:
        found = suggest_articles(session, text, None, limit=CONTACT_MATCHES)
    # "These answers may already help you" offers answers, not guesses: nothing when the first
    # hit probably does not answer the text (the customer then writes to us).
    sure = answer_confidence(
        found, [hit.score for hit in found], mail=faq_search.is_mail(text.strip())
    )
    if sure is None or sure < NO_ANSWER_BELOW:
        return []
    return near_the_first(found)


@bp.post("/contact/matches")
def contact_matches():
    """FAQ answers that may already answer what the customer is typing (JSON, for app.js).

    A POST with the contact form's CSRF token: the text can be long, and 2,000 Chinese
    characters are some 18 kB percent-encoded, more than a proxy takes in a request line
    (nginx answers 414 above 8 kB); the body has no such limit. Bounded here all the same."""
    text = request.form.get("q", "")[:2000]
    if _match_weight(text) >= MATCH_MIN_WEIGHT and not _query_budget_left():
        return _too_many_queries_json({"matches": []})
    return _json_no_store(
        {
            "matches": [
                {
                    "question": web.in_reader_script(m.question, typed=text),
                    "lang": web.text_language_tag(m.language, typed=text),
                    "url": url_for("faq.article", slug=m.slug),
                }
                for m in _matches(text)
            ]
        }
    )


class ContactIntake(Protocol):
    """Where the contact form's questions go: the mail intake, handed in by the factory
    (``support.app``), so the FAQ needs to know nothing of mail."""

    def submit(
        self,
        session: Session,
        *,
        name: str,
        email: str,
        subject: str,
        body: str,
        department_code: str | None,
        meta: Mapping[str, Any],
        utc_offset_minutes: int | None = None,
        mail_to_address: bool = True,
    ) -> int:
        """Queue one question in the caller's transaction (ValueError: not acceptable);
        returns its id for ``receipt``. ``utc_offset_minutes``: the customer's clock;
        ``mail_to_address``: False, the address gets no confirmation mail (over its limit)."""

    def receipt(
        self, session: Session, question_id: int, *, language: str, traditional: bool
    ) -> ContactReceipt | None:
        """The ticket the question started, once it is one (texts in ``language``)."""


class ContactReceipt(Protocol):
    """The confirmation's reference, and when the personal answer is due on the customer's
    clock (the time the auto-reply promises; None when there is none to promise)."""

    @property
    def reference(self) -> str: ...

    @property
    def answer_by(self) -> str | None: ...


def _contact_intake() -> ContactIntake:
    intake: ContactIntake = current_app.extensions["faq.contact_intake"]
    return intake


def init_app(app: Flask, *, contact_intake: ContactIntake) -> None:
    app.extensions["faq.contact_intake"] = contact_intake
    app.register_blueprint(bp)
    web.reader_pages(app, bp)
    app.jinja_env.globals["privacy_notice_url"] = privacy_notice.notice_url
