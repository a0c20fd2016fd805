"""Staff editing of the FAQ under /staff/faq: articles, categories, phrasings, gaps.

Any signed-in staff member may write and publish; pinning a notice on top of the home page is
for admins. Every change goes through faq.knowledge, which re-indexes after the commit.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from faq.gaps import draft_from_ticket, gap_report
from faq.knowledge import (
    KnowledgeError,
    categories_by_name,
    create_article,
    create_category,
    render_answer,
    set_pinned,
    set_published,
    translations_of,
    update_article,
    update_category,
)
from faq.models import LANGUAGES, Article, Category, Phrasing
from faq.phrasings import approve_phrasing, proposed_phrasings, reject_phrasing
from support.auth import current_user, login_required, role_required, visible_ticket_or_404
from support.core.db import db_session, like_contains
from support.core.form_fields import TextBoxField
from support.core.text import detect_language
from support.core.web import id_or_none, local_path

log = logging.getLogger(__name__)

#: Characters of the article list's filter that are searched (a longer LIKE pattern is an
#: error on SQLite beyond 50,000 bytes, and slow before that).
MAX_FILTER_CHARS = 200
bp = Blueprint("faq_editor", __name__, url_prefix="/staff/faq")

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("zh", "中文")]
AUTO_LANGUAGE = "auto"


def _article_language(form: ArticleForm) -> str:
    """The chosen language, or the one the question and answer are written in; text with no
    letters at all (a table of numbers) gets the editor's UI language."""
    if form.language.data in LANGUAGES:
        return str(form.language.data)
    text = f"{form.question.data or ''}\n{form.answer_md.data or ''}"
    if not any(ch.isalpha() for ch in text):
        return g.lang if g.get("lang") in LANGUAGES else "en"
    return detect_language(text)


@bp.context_processor
def _staff_user() -> dict:
    return {"staff_user": current_user()}


class ActionForm(FlaskForm):
    """A state-changing button: only the CSRF token."""


class ArticleForm(FlaskForm):
    question = StringField(
        _l("Question"), validators=[DataRequired(_l("A question is required.")), Length(max=500)]
    )
    answer_md = TextBoxField(
        _l("Answer (Markdown)"),
        validators=[DataRequired(_l("An answer is required.")), Length(max=50_000)],
    )
    category_id = SelectField(
        _l("Category"),
        coerce=int,
        validate_choice=True,
        # A new article's list opens on "Choose a category" (0): it opened on the first
        # category, and an editor who missed the field filed the article there.
        validators=[NumberRange(min=1, message=_l("Choose the article's category."))],
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            Optional(),
            Length(max=160),
            Regexp(SLUG_PATTERN, message=_l("Lower-case letters, digits and hyphens only.")),
        ],
    )
    translation_key = StringField(_l("Translation key"), validators=[Optional(), Length(max=160)])
    phrasings = TextBoxField(
        _l("Other ways customers ask this (one per line)"), validators=[Length(max=20_000)]
    )
    is_published = BooleanField(_l("Published (visible to customers)"))


class CategoryForm(FlaskForm):
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            DataRequired(_l("A slug is required.")),
            Length(max=120),
            Regexp(SLUG_PATTERN, message=_l("Lower-case letters, digits and hyphens only.")),
        ],
    )
    name_en = StringField(
        _l("Name in English"), validators=[DataRequired(_l("A name is required.")), Length(max=200)]
    )
    name_zh = StringField(_l("Name in Chinese"), validators=[Optional(), Length(max=200)])
    is_published = BooleanField(_l("Published (visible to customers)"), default=True)


def _category_choices() -> list[SelectChoice]:
    return [
        SelectChoice(c.id, c.both_names(g.lang)) for c in categories_by_name(db_session(), g.lang)
    ]


def _article_or_404(article_id: int) -> Article:
    article = db_session().get(Article, article_id)
    if article is None:
        abort(404)
    return article


def _phrasing_lines(article: Article) -> str:
    return "\n".join(p.text for p in article.phrasings if p.status == "approved")


# -- articles -----------------------------------------------------------------------------------


@bp.get("/")
@login_required
def articles():
    session = db_session()
    statement = (
        select(Article).options(selectinload(Article.category)).order_by(Article.updated_at.desc())
    )
    text = request.args.get("q", "").strip()[:MAX_FILTER_CHARS]
    if text:
        like = like_contains(text)
        statement = statement.where(
            or_(Article.question.ilike(like, escape="\\"), Article.slug.ilike(like, escape="\\"))
        )
    language = request.args.get("language", "")
    if language in LANGUAGES:
        statement = statement.where(Article.language == language)
    category_id = id_or_none(request.args.get("category"))
    if category_id is not None:
        statement = statement.where(Article.category_id == category_id)
    status = request.args.get("status", "")
    if status == "draft":
        statement = statement.where(Article.is_published.is_(False))
    elif status == "published":
        statement = statement.where(Article.is_published.is_(True))
    found = session.scalars(statement.limit(500)).all()
    waiting = session.scalar(
        select(func.count()).select_from(Phrasing).where(Phrasing.status == "proposed")
    )
    return render_template(
        "faq/editor/articles.html",
        articles=found,
        categories=categories_by_name(session, g.lang),
        waiting_phrasings=waiting or 0,
        action_form=ActionForm(),
        args=request.args,
    )


@bp.route("/articles/new", methods=["GET", "POST"])
@login_required
def new_article():
    session = db_session()
    form = ArticleForm()
    form.category_id.choices = _category_choices()
    if not form.category_id.choices:
        flash(_("Create a category first."), "warning")
        return redirect(url_for("faq_editor.new_category"))
    form.category_id.choices.insert(0, SelectChoice(0, _("Choose a category")))
    # A new article's language: detected from its text unless the editor picks one.
    form.language.choices = [
        SelectChoice(AUTO_LANGUAGE, _("Detect from the text")),
        *LANGUAGE_CHOICES,
    ]
    source = None
    if request.method == "GET":
        form.language.data = AUTO_LANGUAGE
        form.is_published.data = False
        source_id = id_or_none(request.args.get("translation_of"))
        if source_id is not None:
            source = session.get(Article, source_id)
        if source is not None:
            form.category_id.data = source.category_id
            form.translation_key.data = source.translation_key
            form.language.data = next((lang for lang in LANGUAGES if lang != source.language), "en")
    preview = None
    if request.method == "POST" and request.form.get("action") == "preview":
        preview = render_answer(form.answer_md.data or "")
    elif form.validate_on_submit():
        category = session.get(Category, form.category_id.data)
        assert category is not None  # validate_choice: one of _category_choices()
        try:
            article = create_article(
                session,
                category=category,
                question=form.question.data,
                answer_md=form.answer_md.data,
                language=_article_language(form),
                slug=form.slug.data or None,
                translation_key=form.translation_key.data or None,
                is_published=form.is_published.data,
                phrasings=(form.phrasings.data or "").splitlines(),
                actor=current_user(),
            )
            session.flush()
        except KnowledgeError as exc:
            session.rollback()
            form.form_errors.append(str(exc))
        else:
            flash(_saved(article), "info")
            return redirect(url_for("faq_editor.edit_article", article_id=article.id))
    return render_template(
        "faq/editor/article_form.html",
        form=form,
        article=None,
        preview=preview,
        source=source,
        translations=[],
        action_form=ActionForm(),
    )


@bp.route("/articles/<int:article_id>", methods=["GET", "POST"])
@login_required
def edit_article(article_id: int):
    session = db_session()
    article = _article_or_404(article_id)
    form = ArticleForm(obj=article if request.method == "GET" else None)
    form.category_id.choices = _category_choices()
    if request.method == "GET":
        form.phrasings.data = _phrasing_lines(article)
    preview = None
    if request.method == "POST" and request.form.get("action") == "preview":
        preview = render_answer(form.answer_md.data or "")
    elif form.validate_on_submit():
        try:
            changed = update_article(
                session,
                article,
                actor=current_user(),
                question=form.question.data,
                answer_md=form.answer_md.data,
                category=session.get(Category, form.category_id.data),
                language=form.language.data,
                slug=form.slug.data or article.slug,
                translation_key=form.translation_key.data or "",
                is_published=form.is_published.data,
                phrasings=(form.phrasings.data or "").splitlines(),
            )
            session.flush()
        except KnowledgeError as exc:
            session.rollback()
            form.form_errors.append(str(exc))
        else:
            flash(_saved(article) if changed else _("Nothing changed."), "info")
            return redirect(url_for("faq_editor.edit_article", article_id=article.id))
    return render_template(
        "faq/editor/article_form.html",
        form=form,
        article=article,
        preview=preview,
        source=None,
        translations=translations_of(session, article, published_only=False),
        proposed=[p for p in article.phrasings if p.status == "proposed"],
        action_form=ActionForm(),
    )


def _saved(article: Article) -> str:
    """Saved, and whether customers see it: a new article is a draft until published, and
    "Article saved." let its writer believe customers could find it."""
    if article.is_published:
        return _("Article saved.")
    return _("Saved as a draft: customers do not see it until you publish it.")


def _state_change(article_id: int, change, message: str):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    article = _article_or_404(article_id)
    change(session, article)
    flash(message, "info")
    target = local_path(request.form.get("next"))
    return redirect(target or url_for("faq_editor.edit_article", article_id=article.id))


@bp.post("/articles/<int:article_id>/publish")
@login_required
def publish_article(article_id: int):
    return _state_change(
        article_id,
        lambda s, a: set_published(s, a, True, actor=current_user()),
        _("Published: customers can find it now."),
    )


@bp.post("/articles/<int:article_id>/unpublish")
@login_required
def unpublish_article(article_id: int):
    return _state_change(
        article_id,
        lambda s, a: set_published(s, a, False, actor=current_user()),
        _("Unpublished: customers no longer see it."),
    )


@bp.post("/articles/<int:article_id>/pin")
@role_required("admin")
def pin_article(article_id: int):
    return _state_change(
        article_id,
        lambda s, a: set_pinned(s, a, True, actor=current_user()),
        _("Pinned as a notice on the home page."),
    )


@bp.post("/articles/<int:article_id>/unpin")
@role_required("admin")
def unpin_article(article_id: int):
    return _state_change(
        article_id,
        lambda s, a: set_pinned(s, a, False, actor=current_user()),
        _("No longer pinned."),
    )


@bp.post("/preview")
@login_required
def preview():
    """Rendered Markdown for the editor's live preview (app.js); same renderer as the portal."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    return {"html": str(render_answer(request.form.get("answer_md", "")[:50_000]))}


# -- categories ---------------------------------------------------------------------------------


@bp.get("/categories")
@login_required
def categories():
    session = db_session()
    # Not dict(result): a Result has keys() (its column names), so dict() reads it as a mapping.
    counts = {
        category_id: count
        for category_id, count in session.execute(
            select(Article.category_id, func.count()).group_by(Article.category_id)
        )
    }
    return render_template(
        "faq/editor/categories.html",
        categories=categories_by_name(session, g.lang),
        counts=counts,
    )


@bp.route("/categories/new", methods=["GET", "POST"])
@login_required
def new_category():
    form = CategoryForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            create_category(
                session,
                slug=form.slug.data,
                name_en=form.name_en.data,
                name_zh=form.name_zh.data or "",
                is_published=form.is_published.data,
                actor=current_user(),
            )
            session.flush()
        except KnowledgeError as exc:
            session.rollback()
            form.form_errors.append(str(exc))
        else:
            flash(_("Category saved."), "info")
            return redirect(url_for("faq_editor.categories"))
    return render_template("faq/editor/category_form.html", form=form, category=None)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@login_required
def edit_category(category_id: int):
    session = db_session()
    category = session.get(Category, category_id)
    if category is None:
        abort(404)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changed = update_category(
                session,
                category,
                slug=form.slug.data,
                name_en=form.name_en.data,
                name_zh=form.name_zh.data or "",
                is_published=form.is_published.data,
                actor=current_user(),
            )
            session.flush()
        except KnowledgeError as exc:
            session.rollback()
            form.form_errors.append(str(exc))
        else:
            flash(_("Category saved.") if changed else _("Nothing changed."), "info")
            return redirect(url_for("faq_editor.categories"))
    return render_template("faq/editor/category_form.html", form=form, category=category)


# -- phrasings and gaps -------------------------------------------------------------------------


@bp.get("/phrasings")
@login_required
def phrasings():
    return render_template(
        "faq/editor/phrasings.html",
        phrasings=proposed_phrasings(db_session()),
        action_form=ActionForm(),
    )


@bp.post("/phrasings/<int:phrasing_id>/<any(approve, reject):decision>")
@login_required
def decide_phrasing(phrasing_id: int, decision: str):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    phrasing = session.get(Phrasing, phrasing_id)
    if phrasing is None:
        abort(404)
    if decision == "approve":
        approve_phrasing(session, phrasing)
        flash(_("Approved: searches now find the article with these words."), "info")
    else:
        reject_phrasing(session, phrasing)
        flash(_("Rejected."), "info")
    return redirect(local_path(request.form.get("next")) or url_for("faq_editor.phrasings"))


@bp.get("/gaps")
@login_required
def gaps():
    user = current_user()
    assert user is not None  # login_required
    groups = gap_report(
        db_session(),
        visible_to=user,
        left_out_departments=current_app.config.get("AUTOREPLY_NO_FAQ_DEPARTMENTS") or (),
    )
    return render_template("faq/editor/gaps.html", groups=groups)


@bp.post("/from-ticket/<int:ticket_id>")
@login_required
def from_ticket(ticket_id: int):
    """One click on a solved ticket: an unpublished draft article to edit and publish."""

    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    user = current_user()
    assert user is not None  # login_required
    ticket = visible_ticket_or_404(session, user, ticket_id)
    try:
        article = draft_from_ticket(session, ticket, actor=user)
        session.flush()
    except KnowledgeError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("faq_editor.articles"))
    flash(_("Draft article created from the ticket: edit it, then publish."), "info")
    return redirect(url_for("faq_editor.edit_article", article_id=article.id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
