"""Forms of the staff pages (Flask-WTF: every POST form carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from support.core.form_fields import TextBoxField
from support.core.web import TRADITIONAL_CHINESE
from support.desk.models import ROLES

MAX_REPLY_CHARS = 50_000
# WTForms' Email() needs the email_validator package; a plain shape check is enough here.
ADDRESS = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an email address."))


#: Roles as people read them (stored as codes).
ROLE_LABELS = {"agent": _l("Agent"), "lead": _l("Team lead"), "admin": _l("Administrator")}


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (plain tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """Departments as checkboxes: usable without JavaScript, unlike a multi-select box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def checklist_sent(field: MultiCheckboxField, form_data: Mapping[str, Any]) -> bool:
    """Whether a post said anything about a checklist: a ticked box, or the page's hidden
    ``<name>_listed`` marker (no box ticked sends nothing at all). A scripted post that leaves
    the field out keeps what is stored; it used to clear a department's members."""
    return field.name in form_data or f"{field.name}_listed" in form_data


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class ReplyForm(FlaskForm):
    body = TextBoxField(_l("Reply to the customer"), validators=[Length(max=MAX_REPLY_CHARS)])
    then = SelectField(
        _l("After sending"),
        choices=options(
            [
                ("open", _l("Keep open")),
                ("waiting", _l("Wait for the customer")),
                ("resolved", _l("Resolve")),
            ]
        ),
        default="open",
    )
    faq_query = StringField(_l("Find an FAQ answer"), validators=[Length(max=300)])
    #: Read (bounded, only the conversation's addresses) by support.desk.reply_cc.read_cc.
    cc = StringField(_l("Cc"))
    #: Checked by support.desk.reply_files.read_uploads (count, sizes, names, types).
    files = MultipleFileField(_l("Attach files"))
    send = SubmitField(_l("Check and send"))
    send_anyway = SubmitField(_l("Send anyway"))
    send_next = SubmitField(_l("Send and next"))
    #: One click for the commonest end of a conversation (the "After sending" choice takes two).
    send_resolve = SubmitField(_l("Send and resolve"))
    search_faq = SubmitField(_l("Search answers"))
    #: Offered when the customer writes Traditional characters (customer_writes_traditional):
    #: the agent's text converted on their click (support.core.text.to_traditional).
    to_traditional = SubmitField(_l("Convert to Traditional characters"))
    #: How many messages of others the page showed (support.staff.tickets.others_messages): a
    #: reply sent after more came in is held back once, so the agent reads them first.
    seen = HiddenField()


class NoteForm(FlaskForm):
    body = TextBoxField(
        _l("Internal note (never sent)"),
        validators=[InputRequired(), Length(max=MAX_REPLY_CHARS)],
    )
    #: For staff only (never mailed, never on the follow page); limits as for a reply.
    files = MultipleFileField(_l("Attach files to the note"))
    #: Hand the ticket over with the note in one step (0: leave the assignee as it is);
    #: choices as the assign form's (support.staff.tickets.assign_choices).
    assign_to = SelectField(_l("And assign to"), coerce=int, choices=[], default=0)
    submit = SubmitField(_l("Add note"))


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assignee"), coerce=int, choices=[])
    submit = SubmitField(_l("Assign"))


class DepartmentChangeForm(FlaskForm):
    department = SelectField(_l("Department"), coerce=int, choices=[])
    submit = SubmitField(_l("Move"))


class UrgencyForm(FlaskForm):
    urgency = SelectField(_l("Urgency"), coerce=int, choices=[])
    submit = SubmitField(_l("Change urgency"))


class ComplaintForm(FlaskForm):
    complexity = SelectField(_l("Kind of complaint"), choices=[])
    steps = MultiCheckboxField(_l("Steps done"), choices=[])
    submit = SubmitField(_l("Save complaint"))


class TierForm(FlaskForm):
    tier = SelectField(_l("Customer tier"), choices=[])
    submit = SubmitField(_l("Set tier"))


class MergeForm(FlaskForm):
    target = StringField(
        _l("Merge into ticket (reference)"), validators=[InputRequired(), Length(max=40)]
    )
    #: "1" on the confirmation page's form: the first post only shows what would happen.
    confirm = HiddenField()
    submit = SubmitField(_l("Merge"))


#: Snooze presets (support.desk.snooze.PRESETS) and "custom", which reads ``until``.
SNOOZE_CHOICES = [
    ("tomorrow", _l("Tomorrow morning")),
    ("three_days", _l("In 3 days")),
    ("next_week", _l("Next week (Monday morning)")),
    ("custom", _l("Choose a date and time")),
]


class SnoozeForm(FlaskForm):
    """Set a ticket aside until a preset time or a date and time of the agent's choosing."""

    preset = RadioField(_l("Snooze until"), choices=options(SNOOZE_CHOICES), default="tomorrow")
    until = StringField(_l("Date and time"), validators=[Optional(), Length(max=19)])
    submit = SubmitField(_l("Snooze"))


#: The inbox filter's value for tickets whose status is exactly "open".
ONLY_OPEN = "only-open"
#: The inbox filter's value for open tickets set aside until later (support.desk.snooze).
SNOOZED = "snoozed"


class InboxFilterForm(FlaskForm):
    """Read from the query string: filters are bookmarkable and need no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=options(
            [
                ("open", _l("Open (new, open, waiting)")),
                ("new", _l("new")),
                # "open" names the group above; the status alone has a value of its own.
                (ONLY_OPEN, _l("open")),
                ("waiting", _l("waiting for customer")),
                (SNOOZED, _l("Snoozed")),
                ("resolved", _l("resolved")),
                ("closed", _l("closed")),
                ("spam", _l("Spam")),
                ("all", _l("All")),
            ]
        ),
        default="open",
    )
    urgency = SelectField(
        _l("Urgency"),
        choices=options([("", _l("Any"))] + [(str(n), str(n)) for n in range(5, 0, -1)]),
    )
    sla = SelectField(
        _l("Response target"),
        choices=options(
            [
                ("", _l("Any")),
                ("breached", _l("Breached")),
                ("due_soon", _l("Due soon")),
                ("on_track", _l("On track")),
            ]
        ),
    )
    assignee = SelectField(_l("Assignee"), choices=[])
    q = StringField(_l("Subject or customer"), validators=[Length(max=200)])
    tag = StringField(_l("Tag"), validators=[Length(max=200)])
    #: The order, for a phone, where the column headers that sort are hidden (the rows are
    #: cards); values from support.staff.inbox.SORTS. On a wide screen it is hidden and only
    #: carries the order the headers chose through a filtering.
    sort = SelectField(
        _l("Order"),
        choices=options(
            [
                ("", _l("Most urgent first")),
                ("received", _l("Oldest first")),
                ("-received", _l("Newest first")),
                ("due", _l("Response due soonest")),
                ("customer", _l("Customer, A to Z")),
                ("-customer", _l("Customer, Z to A")),
                ("status", _l("Status, new first")),
                ("-status", _l("Status, closed first")),
                ("-due", _l("Response due latest")),
            ]
        ),
    )


class TagForm(FlaskForm):
    """Put a tag on a ticket (support.desk.tags normalises and bounds it)."""

    tag = StringField(_l("Add a tag"), validators=[InputRequired(), Length(max=200)])
    submit = SubmitField(_l("Add tag"))


class SavedViewForm(FlaskForm):
    """Save the inbox's current filters under a name, or rename a saved view."""

    name = StringField(_l("View name"), validators=[InputRequired(), Length(max=200)])
    submit = SubmitField(_l("Save view"))


class ReportPeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(lazy_pgettext("date range", "To"), validators=[Optional()])
    department = SelectField(_l("Department"), choices=[])


#: A password's length, and what the refusal says (in the words of the label's rule).
PASSWORD_LENGTH = Length(min=10, max=500, message=_l("At least 10 characters, at most 500."))


LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
#: A staff member's own language (support.core.web.OWN_LANGUAGES): 简体 is written as character
#: references, so that a page converted to Traditional still names it in Simplified.
LANGUAGE_CHOICES = (
    ("zh", Markup("&#31616;&#20307;中文")),
    (TRADITIONAL_CHINESE, "繁體中文"),
    ("en", "English"),
)


class UserForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[InputRequired(), ADDRESS, Length(max=254)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    display_alias = StringField(
        _l("Name customers see (optional)"), validators=[Optional(), Length(max=120)]
    )
    role = SelectField(_l("Role"), choices=options((r, ROLE_LABELS.get(r, r)) for r in ROLES))
    departments = MultiCheckboxField(_l("Departments"), coerce=int, choices=[])
    can_triage = BooleanField(_l("May work the triage inbox"))
    is_active = BooleanField(_l("Active"), default=True)
    language = SelectField(
        _l("Language of pages and notifications"),
        choices=options([("", _l("Default")), *LANGUAGE_CHOICES]),
        validate_choice=False,  # anything else means the default
    )
    password = PasswordField(
        _l("New password (leave empty to keep)"), validators=[Optional(), PASSWORD_LENGTH]
    )
    submit = SubmitField(_l("Save"))


class DepartmentForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(),
            Length(max=40),
            Regexp(r"^[a-z][a-z0-9_-]*$", message=_l("Lower-case letters, digits, - and _.")),
        ],
    )
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=120)])
    email_address = EmailField(
        _l("Address"), validators=[InputRequired(), ADDRESS, Length(max=254)]
    )
    #: Optional: the mail's sender name falls back to the name (``outbox.team_name``); a new
    #: admin had to type the name twice, and only a browser bubble said the second was needed.
    display_name = StringField(
        _l("Display name in mail (optional)"), validators=[Optional(), Length(max=120)]
    )
    description = TextBoxField(_l("Description"), validators=[Optional(), Length(max=2000)])
    is_active = BooleanField(_l("Active (untick to retire)"), default=True)
    members = MultiCheckboxField(_l("Members"), coerce=int, choices=[])
    submit = SubmitField(_l("Save"))


def language_choices() -> list[SelectChoice]:
    """The staff member's own languages, "Default" saying what it follows (a bare "Default"
    said nothing; "Default (中文)" named the desk's, which only the mail followed)."""
    return options([("", _l("Default (as the browser asks)")), *LANGUAGE_CHOICES])


class NotificationLanguageForm(FlaskForm):
    """The language of one's own pages and of the mail one gets (new tickets, assignments,
    reminders): on one's own account page, not only on the admin's user form."""

    language = SelectField(
        _l("Language of your pages and mail"),
        choices=options([("", _l("Default")), *LANGUAGE_CHOICES]),
    )
    submit = SubmitField(_l("Save"))


class OwnNameForm(FlaskForm):
    """One's own name and the name customers see: replies are signed and sent with it, so
    an agent must not need an admin to stop signing as "Administrator"."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    display_alias = StringField(
        _l("Name customers see (optional)"), validators=[Optional(), Length(max=120)]
    )
    submit = SubmitField(_l("Save"))


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    new = PasswordField(
        _l("New password (at least 10 characters)"), validators=[InputRequired(), PASSWORD_LENGTH]
    )
    submit = SubmitField(_l("Change password"))


RATING_CHOICES = (
    (5, _l("5 - Excellent")),
    (4, _l("4 - Good")),
    (3, _l("3 - OK")),
    (2, _l("2 - Poor")),
    (1, _l("1 - Very poor")),
)


class RatingCommentForm(FlaskForm):
    """All five scores selectable; the link's score is only the preselection."""

    score = RadioField(
        _l("Your rating"), choices=options(RATING_CHOICES), coerce=int, validators=[Optional()]
    )
    comment = TextBoxField(_l("Anything you want to tell us? (optional)"), [Length(max=4000)])
    submit = SubmitField(_l("Send rating"))


class SavedReplyForm(FlaskForm):
    """A saved reply: its scope's choices are set per user (support.staff.saved_replies)."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=120)])
    body = TextBoxField(_l("Text"), validators=[InputRequired(), Length(max=20_000)])
    scope = SelectField(_l("Who can use it"), choices=[])
    department_id = SelectField(
        _l("Department (for a department reply)"), coerce=int, choices=[], default=0
    )
    submit = SubmitField(_l("Save"))
