"""Which department works a ticket and how urgent it is, decided so a person can see why.

Department, first that applies:

1. ``address``: the customer wrote to a department's own address (or chose it in the contact
   form): their choice stands.
2. ``previous``: a new ticket that follows a closed one stays with that ticket's department.
3. ``model``: the classifier, reading the subject and the customer's *new* text (never quoted
   history), when it is at least CLASSIFIER_MIN_CONFIDENCE sure and names an active department.
4. ``rules``: a special problem (urgency 3) whose department the model could not decide goes
   to CLASSIFIER_SPECIALIST_DEPARTMENT rather than waiting in triage. A special problem whose
   department is known stays there: level 3 says a specialist is needed, and a double charge
   needs finance's specialists, not customer service's.
5. ``fallback``: otherwise the ticket waits in the triage inbox *without* a department, as does
   a mail that says nothing (a greeting, "test", "see attached", a signature; urgency 2). A
   department inbox lists every ticket of its department, so a guess there would put an
   unconfirmed ticket in front of a team; the guess and its reasons stay in
   ``Ticket.classification`` for the person who triages.

Urgency: the keyword rules win when they fire, else the model, else level 2. The model's
level 5 that rests on the customer's own "urgent" alone (the model, reading the mail without
that word, says less) counts as 4: a claim is not an emergency. Likewise a model's 4 that rests
on an angry word alone ("ridiculous", "荒谬": `urgency_rules.match_tone`) counts as the level the
model reads without it: tone is no complaint. The model's level 1 (praise)
counts as 2 when it is less than PRAISE_MIN_CONFIDENCE sure or the mail names a problem left to
solve (`urgency_rules.match_problem`) or asks for information (`match_question`), unless the
model is PRAISE_SURE_CONFIDENCE sure and the mail names itself praise (`match_praise`: the
problem is what the praised staff solved); in a reply ("Re:") only the new text is read for the
problem, as the subject names the thread's. A kind of mail with a settled level moves the model's
own level one step (`matters`: a double charge pressed for 4, discrimination reported 4, a VAT
invoice asked for 2, a personal-data request 3; `docs/urgency-levels.md`). A customer's
further message on an open ticket raises it (`route_follow_up`): to at least 4 for the same
problem reported again (``repeats``) or an angry chase ("This is ridiculous, still nothing",
`urgency_rules.match_angry_chase`), to an urgency keyword's level. Level 5 is the ceiling.

An emergency the model decides with less than EMERGENCY_MIN_CONFIDENCE (it thinks it less likely
than not) is neither trusted nor dropped: the ticket goes to its department at 4 (important,
ahead of all normal mail) and is flagged for triage as well (``needs_triage`` with the
department kept, ``unsure_emergency`` in its urgency), so the triage team is told at once and
a person raises it to 5 or keeps it (either clears the flag). A missed emergency costs more
than a false alarm, but a 5 starts the one-hour target and its escalation for someone; the
model of the twenty-sixth session's start made three 5s under 50 % on the development sets, all
false alarms (bulk pricing of emergency lighting, a reporter asking about recall rumours, a
supplier's new bank account), and none of its true 5s was under 55 %. Dangers, outages and
legal threats the keyword rules find are certain (1.0) and never lowered.

Everything decided is stored in ``Ticket.classification`` (label, probability, reasons, source,
rule, adjustments, model version), which the ticket page shows.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailrouter.compose import AUTO_SUBMITTED_AUTO_GENERATED
from mailrouter.models import ClaimedMail
from mailrouter.parsing import reading_text
from mailrouter.routing import model_store, repeats
from mailrouter.routing.contentless import says_nothing, sender_words
from mailrouter.routing.features import mail_text
from mailrouter.routing.labels import Prediction
from mailrouter.routing.matters import (
    match_department_matter,
    match_matter,
    match_press_emergency,
)
from mailrouter.routing.urgency_rules import (
    DEFAULT_URGENCY_RULES,
    match_angry_chase,
    match_calm,
    match_complaint,
    match_praise,
    match_problem,
    match_question,
    match_tone,
    match_urgency_claim,
    match_urgency_rules,
    merge_urgency_rules,
    without_rules,
    without_tone,
    without_urgency_claims,
)
from support.core.addresses import readable_address
from support.core.db import utcnow
from support.core.reference_cache import reference_data
from support.core.tables import table_of
from support.core.text import (
    NO_SUBJECT_MARKER,
    NO_TEXT_MARKER,
    PinyinVocabulary,
    pinyin_as_chinese,
    pinyin_vocabulary,
    written_in_pinyin,
)
from support.desk import complaints, sla
from support.desk.audit import record_event
from support.desk.models import (
    OPEN_STATUSES,
    Department,
    Message,
    Ticket,
    UrgencyLevel,
    User,
    department_members,
)
from support.desk.notifications import notify_new_ticket, ticket_url
from support.desk.outbox import enqueue_mail

if TYPE_CHECKING:
    from mailrouter.routing.classifier import ClassifierBundle

log = logging.getLogger(__name__)

SOURCE_ADDRESS = "address"
SOURCE_PREVIOUS = "previous"
SOURCE_MODEL = "model"
SOURCE_RULES = "rules"
SOURCE_FALLBACK = "fallback"
#: The triage reason of a mail that says nothing (``contentless.says_nothing``).
SAYS_NOTHING = "says_nothing"

MIN_LEVEL = 1
MAX_LEVEL = 5
DEFAULT_LEVEL = 2
#: Suggestions and praise: thanked, not answered first.
PRAISE_LEVEL = 1
#: Below this the model's own 1 is no praise: the mail is normal (2). Praise answered in the
#: normal queue costs little; a question thanked and queued last costs an answer. On the
#: hand-written sets 1-12 (twenty-ninth session) both model 1s under it were requests ("What's the
#: safest way to descale it?" at 31%, a sponsorship offer at 44%), and no praise was under 52%.
PRAISE_MIN_CONFIDENCE = 0.5
#: From this on, the model's 1 for a mail that names itself praise (a level-1 keyword: 表扬,
#: "great service") stays praise beside a problem word: the problem is what the praised staff
#: solved ("表扬客服小王，上周扫地机器人出问题，她耐心教我排查"). On the hand-written sets 1-13
#: (thirtieth session) three such praises were read at 88-92 %, and no mail rightly raised from
#: a model's 1 above 77 %.
PRAISE_SURE_CONFIDENCE = 0.85
#: The urgency entry's flag of a model's 1 kept at 2 for PRAISE_MIN_CONFIDENCE.
UNSURE_PRAISE = "unsure_praise"
SPECIAL_PROBLEM_LEVEL = 3
#: The most a customer's own "urgent" makes of a mail whose content says less.
CLAIM_LEVEL = 4
#: Below this the model's own level 5 is an emergency to confirm, not one decided: the ticket
#: is UNSURE_EMERGENCY_LEVEL and flagged for triage (module docstring).
EMERGENCY_MIN_CONFIDENCE = 0.5
UNSURE_EMERGENCY_LEVEL = 4
#: The urgency entry's flag of such a ticket (the ticket page and the urgency action read it).
UNSURE_EMERGENCY = "unsure_emergency"

ADJUST_REPEAT = "repeat"
#: A further message that says in anger that nothing has happened ("still nothing", "还是没人
#: 回"): the customer reports the problem again, as a repeat does (thirty-third session).
ADJUST_CHASE = "chase"
#: Below these the model has seen too few of a mail's words for its department to count.
MIN_KNOWN_WORDS = 2
MIN_KNOWN_SHARE = 0.35
#: A repeated report is at least "important" (the texts: a customer who reports the same
#: problem again is important).
REPEAT_LEVEL = 4
KIND_FORWARD = "forward"
#: A new ticket's subject when the mail had none (intake's ``ticket_subject``). Not the
#: customer's words: the model never reads it (its "no" pushed short questions to HR).
NO_SUBJECT = NO_SUBJECT_MARKER


#: A subject that answers a mail ("Re:", "AW:", "回复："): its topic is the thread's, and the
#: problem it names may be solved by now.
REPLY_SUBJECT_RE = re.compile(r"^\s*(?:re|aw|sv|回复|回覆|答复|答覆)\s*[:：]", re.IGNORECASE)


def is_reply_subject(subject: str | None) -> bool:
    """Whether a mail's own subject (before intake strips its prefixes) answers a mail."""
    return bool(REPLY_SUBJECT_RE.match(subject or ""))


def read_subject(subject: str) -> str:
    """The subject as the model and the keyword rules read it: the placeholder is no text."""
    return "" if subject.strip() == NO_SUBJECT else subject


def read_text(text: str) -> str:
    """The text as the model, the keyword rules and `says_nothing` read it: the "(no text)"
    of a mail without any is ours, not the customer's. A photo sent to the general address
    went to Customer Service at 87% on the words "no" and "text" (seen from a fresh start.sh)
    where a mail that says nothing goes to triage."""
    return "" if text.strip() == NO_TEXT_MARKER else text


def read_mail(subject: str, text: str, config: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """The subject and text as the model and the keyword rules read them (`read_subject`,
    `read_text`); a mail written in pinyin, judged on the two together, as the Chinese it
    spells (support.core.text.pinyin_as_chinese, the reading the FAQ's offers use), the urgency
    keywords (built-in and `config`'s CLASSIFIER_URGENCY_RULES) preferred where its letters
    spell one: the model learnt Chinese words, and "tui kuan" would be read as English letters."""
    subject, text = read_subject(subject), read_text(text)
    if written_in_pinyin(f"{subject}\n{text}"):
        known = _keyword_vocabulary(_configured_keywords(config or {}))
        return (
            pinyin_as_chinese(subject, known, pinyin=True),
            pinyin_as_chinese(text, known, pinyin=True),
        )
    return subject, text


#: Keywords of the urgency rules this long at least are read where a pinyin mail's letters
#: spell them: a shorter one may be another word of the same sound (宕机 and 当即 are dang ji),
#: and preferring it would put the keyword into mails that never meant it. The same for an
#: admin's keywords (CLASSIFIER_URGENCY_RULES): a two-character one is matched only where the
#: dictionary's commonest reading happens to spell it.
MIN_PINYIN_KEYWORD_CHARS = 3


def _configured_keywords(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The keywords of CLASSIFIER_URGENCY_RULES (``{"5": ["冷库断电"]}``), in a stable order."""
    rules = config.get("CLASSIFIER_URGENCY_RULES") or {}
    words = (
        word for value in rules.values() for word in ([value] if isinstance(value, str) else value)
    )
    return tuple(sorted({word.strip() for word in words if isinstance(word, str)}))


@functools.lru_cache(maxsize=8)
def _keyword_vocabulary(configured: tuple[str, ...] = ()) -> PinyinVocabulary:
    """The urgency rules' Chinese keywords (built-in: 煤气味, 燃气泄漏; and `configured`, an
    admin's) by their pinyin: "mei qi wei" is 煤气味 where the dictionary's commonest words
    would read 煤气为, and the rule fires as it does for the mail typed in characters."""
    builtin = (word for words in DEFAULT_URGENCY_RULES.values() for word in words)
    return pinyin_vocabulary(
        word for word in (*builtin, *configured) if len(word) >= MIN_PINYIN_KEYWORD_CHARS
    )


@dataclass
class RoutingDecision:
    """Where a mail goes and why; `department_code` None means the triage inbox, and
    `needs_triage` with a department an emergency the model is unsure of (a person confirms)."""

    department_code: str | None
    needs_triage: bool
    urgency: int
    classification: dict[str, Any] = field(default_factory=dict)


def urgency_rules(config: Mapping[str, Any]) -> dict[int, tuple[str, ...]]:
    """The built-in urgency keywords plus CLASSIFIER_URGENCY_RULES."""
    return merge_urgency_rules(
        config.get("CLASSIFIER_URGENCY_RULES") or {},
        disabled=config.get("CLASSIFIER_DISABLED_URGENCY_RULES") or (),
    )


def _department_part(
    prediction: Prediction | None,
    *,
    chosen: tuple[str, str] | None,
    active_codes: Collection[str],
    min_confidence: float,
) -> tuple[dict[str, Any], str | None]:
    """The department entry of the classification and the code routed to (None: triage)."""
    if chosen is not None:
        code, source = chosen
        return {"label": code, "probability": 1.0, "reasons": [], "source": source}, code
    if prediction is None:
        part: dict[str, Any] = {
            "label": None,
            "probability": None,
            "reasons": [],
            "source": SOURCE_FALLBACK,
        }
        return {**part, "triage_reason": "no_model"}, None
    part = {
        "label": str(prediction.label),
        "probability": round(float(prediction.probability), 4),
        "reasons": list(prediction.reasons),
        "source": SOURCE_MODEL,
    }
    if prediction.known_words is not None:
        known, total = prediction.known_words
        part["known_words"] = [known, total]
        if known < MIN_KNOWN_WORDS or known < MIN_KNOWN_SHARE * total:
            # Words the model never saw: its confidence means nothing (gibberish, a language
            # it was not trained on). A person looks first.
            return {**part, "source": SOURCE_FALLBACK, "triage_reason": "unfamiliar_text"}, None
    if part["label"] not in active_codes:
        return {**part, "source": SOURCE_FALLBACK, "triage_reason": "inactive_department"}, None
    if prediction.probability < min_confidence:
        return {**part, "source": SOURCE_FALLBACK, "triage_reason": "low_confidence"}, None
    return part, part["label"]


def _urgency_part(
    prediction: Prediction | None, text: str, rules: Mapping[int, Collection[str]]
) -> dict[str, Any]:
    """Rules first (they are already applied inside a model prediction), then the model."""
    if prediction is None:
        hit = match_urgency_rules(text, rules)
        if hit is not None:
            prediction = Prediction(hit.level, 1.0, [hit.keyword], rule=hit.keyword)
    if prediction is None:
        return {
            "label": DEFAULT_LEVEL,
            "probability": None,
            "reasons": [],
            "rule": None,
            "source": "default",
        }
    return {
        "label": int(prediction.label),
        "probability": round(float(prediction.probability), 4),
        "reasons": list(prediction.reasons),
        "rule": prediction.rule,
        "source": SOURCE_RULES if prediction.rule else SOURCE_MODEL,
    }


def predict(
    bundle: ClassifierBundle,
    subject: str,
    body: str,
    *,
    urgency_rules: Mapping[int, Iterable[str]] | None = DEFAULT_URGENCY_RULES,
) -> tuple[Prediction, Prediction]:
    """`classifier.predict` (the same arguments and defaults), imported on the first mail a
    model routes (a loaded model has imported scikit-learn already): the pages and commands
    that import this module route no mail and need neither."""
    from mailrouter.routing import classifier

    return classifier.predict(bundle, subject, body, urgency_rules=urgency_rules)


def _weigh_claim(
    urgency: dict[str, Any], bundle: ClassifierBundle | None, subject: str, text: str, read: str
) -> None:
    """A model's 5 that the customer's "urgent" alone made becomes 4 (in place)."""
    if bundle is None or urgency["source"] != SOURCE_MODEL or urgency["label"] != MAX_LEVEL:
        return
    claim = match_urgency_claim(read)
    if claim is None:
        return
    _department, plain = predict(
        bundle,
        without_urgency_claims(read_subject(subject)),
        without_urgency_claims(text),
        urgency_rules=None,
    )
    if int(plain.label) < MAX_LEVEL:
        urgency.update(model_label=MAX_LEVEL, label=CLAIM_LEVEL, claim=claim)
        urgency["reasons"] = [f"claim: {claim}", *urgency["reasons"]]


def _weigh_tone(
    urgency: dict[str, Any], bundle: ClassifierBundle | None, subject: str, text: str, read: str
) -> None:
    """A model's 4 or 5 that an angry word alone made ("ridiculous", "荒谬": `match_tone`) is
    the level the model reads in the mail without it (in place): tone is no fact. The 5 since
    the thirty-fourth session ("ABSOLUTELY UNACCEPTABLE" over a dented box was 5 at 0.33)."""
    if (
        bundle is None
        or urgency["source"] != SOURCE_MODEL
        or urgency["label"] not in (CLAIM_LEVEL, MAX_LEVEL)
        or "model_label" in urgency
    ):
        return
    tone = match_tone(read)
    if tone is None:
        return
    _department, plain = predict(
        bundle, without_tone(read_subject(subject)), without_tone(text), urgency_rules=None
    )
    if int(plain.label) < urgency["label"]:
        urgency.update(model_label=urgency["label"], label=int(plain.label), tone=tone)
        urgency["reasons"] = [f"tone: {tone}", *urgency["reasons"]]


def _weigh_matter(urgency: dict[str, Any], read: str) -> None:
    """The model's own level moved to the one a kind of mail has (`matters`, in place): a
    customer pressing for a double charge's money is 4, a request for a VAT invoice 2, a
    request for one's personal data 3."""
    if urgency["source"] != SOURCE_MODEL or "model_label" in urgency:
        return
    hit = match_matter(read, int(urgency["label"]))
    if hit is None:
        return
    urgency.update(model_label=hit.from_level, label=hit.to_level, matter=hit.kind)
    urgency["matter_phrase"] = hit.phrase
    urgency["reasons"] = [f"matter: {hit.phrase}", *urgency["reasons"]]


def _weigh_department_matter(
    department: dict[str, Any], code: str | None, read: str, active_codes: Collection[str]
) -> tuple[dict[str, Any], str | None]:
    """The model's department moved to the one a kind of mail has (`matters`): a customer's
    personal-data request is customer service's, not HR's; a customer's threat to post their
    case online is a complaint for customer service, not PR's press work."""
    if department["source"] != SOURCE_MODEL or code is None:
        return department, code
    hit = match_department_matter(read, code)
    if hit is None or hit.to_department not in active_codes:
        return department, code
    moved = {
        "label": hit.to_department,
        "probability": 1.0,
        "reasons": [f"matter: {hit.phrase}"],
        "source": SOURCE_RULES,
        "model": {"label": department["label"], "probability": department["probability"]},
        "matter": hit.kind,
        "matter_phrase": hit.phrase,
    }
    return moved, hit.to_department


def _weigh_press_emergency(urgency: dict[str, Any], read: str) -> bool:
    """A press story about a danger due today is 5 (in place; `matters.match_press_emergency`),
    whatever level a complaint keyword ("读者投诉") or an unsure model gave it; True when it
    raised the level."""
    if urgency["label"] >= MAX_LEVEL:
        return False
    danger = match_press_emergency(read)
    if danger is None:
        return False
    urgency.setdefault("model_label", urgency["label"])
    urgency.update(label=MAX_LEVEL, press_emergency=danger)
    urgency["reasons"] = [f"press story due today: {danger}", *urgency["reasons"]]
    return True


def _weigh_praise_with_problem(
    urgency: dict[str, Any], read: str, rules: Mapping[int, Iterable[str]]
) -> None:
    """A model's 1 (praise, a suggestion) for a mail that names a problem or asks for
    information (`match_question`) becomes 2 (in place), as the level-1 keywords never fire
    beside a problem: "we love the hob; the problem: the hood rattles" was thanked for its kind
    words and queued last, and "just testing: how long does delivery take to Shanghai?" was
    thanked for its suggestion with no FAQ answer offered."""
    if urgency["source"] != SOURCE_MODEL or urgency["label"] != PRAISE_LEVEL:
        return
    if urgency["probability"] >= PRAISE_SURE_CONFIDENCE and match_praise(read, rules):
        return
    problem = match_problem(read, rules)
    if problem is not None:
        urgency.update(model_label=PRAISE_LEVEL, label=DEFAULT_LEVEL, problem=problem)
        urgency["reasons"] = [f"problem: {problem}", *urgency["reasons"]]
        return
    question = match_question(read)
    if question is not None:
        urgency.update(model_label=PRAISE_LEVEL, label=DEFAULT_LEVEL, question=question)
        urgency["reasons"] = [f"question: {question}", *urgency["reasons"]]


def _weigh_unsure(
    urgency: dict[str, Any], level: int, min_confidence: float, to_level: int, flag: str
) -> bool:
    """A model's ``level`` less than ``min_confidence`` sure becomes ``to_level``, flagged with
    ``flag`` (in place); True when it did. A 5 becomes 4 (EMERGENCY_MIN_CONFIDENCE), a 1
    becomes 2 (PRAISE_MIN_CONFIDENCE)."""
    probability = urgency["probability"]
    if (
        urgency["source"] != SOURCE_MODEL
        or urgency["label"] != level
        or probability is None
        or probability >= min_confidence
    ):
        return False
    urgency.update(model_label=level, label=to_level, **{flag: True})
    urgency["reasons"] = [f"unsure: {level} at {probability:.0%}", *urgency["reasons"]]
    return True


def _hide_sender(sender_name: str, *parts: dict[str, Any]) -> None:
    """Reasons without the sender's own name (in place): a model trained on signed mail may
    still lean on a name the signature reading missed, but staff are shown content words."""
    own = sender_words(sender_name)
    if not own:
        return
    for part in parts:
        part["reasons"] = [r for r in part["reasons"] if not own & set(r.casefold().split())]


@dataclass(frozen=True)
class MailPrediction:
    """The model's (department, urgency) for one text, made before the write transaction.

    It remembers what it was made from, so it is used only for exactly that text and model.
    """

    subject: str
    text: str
    model_version: str | None
    department: Prediction | None
    urgency: Prediction | None

    def fits(self, subject: str, text: str, bundle: ClassifierBundle | None) -> bool:
        version = bundle.model_version if bundle is not None else None
        return (self.subject, self.text, self.model_version) == (subject, text, version)


def predict_mail(subject: str, text: str, config: Mapping[str, Any]) -> MailPrediction:
    """What the current model says of a mail (pure but for loading the model file): the
    costly part of ``decide``, which the worker runs before it opens a write transaction."""
    bundle = model_store.current_model(config)
    read, text = read_mail(subject, text, config)
    department = urgency = None
    if bundle is not None:
        department, urgency = predict(bundle, read, text, urgency_rules=urgency_rules(config))
    version = bundle.model_version if bundle is not None else None
    return MailPrediction(subject, text, version, department, urgency)


def decide(
    subject: str,
    text: str,
    *,
    config: Mapping[str, Any],
    bundle: ClassifierBundle | None,
    active_codes: Collection[str],
    chosen: tuple[str, str] | None = None,
    prediction: MailPrediction | None = None,
    sender_name: str = "",
    reply: bool | None = None,
) -> RoutingDecision:
    """Route one mail (pure: no database); ``chosen`` is (code, source) the customer decided.
    ``sender_name``: the From's display name, whose words may sign a mail that says nothing.
    ``reply``: the mail's own subject answers a mail ("Re:"; the ticket subject has lost the
    prefix); None reads it from ``subject``.

    ``prediction``: the model's verdict made earlier by ``predict_mail``; used only if it was
    made from this very subject, text and model.
    """
    rules = urgency_rules(config)
    min_confidence = float(config["CLASSIFIER_MIN_CONFIDENCE"])
    written, (subject, text) = subject, read_mail(subject, text, config)
    department_prediction = urgency_prediction = None
    if prediction is not None and prediction.fits(written, text, bundle):
        department_prediction, urgency_prediction = prediction.department, prediction.urgency
    elif bundle is not None:
        department_prediction, urgency_prediction = predict(
            bundle, read_subject(subject), text, urgency_rules=rules
        )
    department, code = _department_part(
        department_prediction,
        chosen=chosen,
        active_codes=active_codes,
        min_confidence=min_confidence,
    )
    read = mail_text(read_subject(subject), text)
    says = says_nothing(read_subject(subject), text, sender_name)
    if says and chosen is None:
        # A greeting, "test", "see attached", a signature: the model's department and level
        # would be read from nothing ("hi" was PR at 0.458). A person looks first.
        department, code = (
            {**department, "source": SOURCE_FALLBACK, "triage_reason": SAYS_NOTHING},
            None,
        )
        urgency_prediction = None
    elif says:
        # Sent to a department's own address (or after its closed ticket): it stays there, but
        # its level is not read from nothing either, and the auto-reply asks for the question.
        department = {**department, SAYS_NOTHING: True}
        urgency_prediction = None
    department, code = _weigh_department_matter(department, code, read, active_codes)
    urgency = _urgency_part(urgency_prediction, read, rules)
    _weigh_claim(urgency, bundle, subject, text, read)
    _weigh_tone(urgency, bundle, subject, text, read)
    _weigh_matter(urgency, read)
    if urgency["source"] != SOURCE_RULES and urgency["label"] > SPECIAL_PROBLEM_LEVEL:
        # "not urgent, but...": the customer says so; no keyword fired. "No hurry" speaks to
        # time: a special problem (3) still needs its specialist (thirty-fourth session).
        calm = match_calm(read)
        if calm is not None:
            urgency.update(model_label=urgency["label"], label=DEFAULT_LEVEL, calm=calm)
            urgency["reasons"] = [f"calm: {calm}", *urgency["reasons"]]
    # A keyword the company's history overruled ("final reminder" on invoice copies filed low)
    # shows no problem either.
    overruled = bundle.overruled_rules if bundle is not None else frozenset()
    _weigh_unsure(urgency, PRAISE_LEVEL, PRAISE_MIN_CONFIDENCE, DEFAULT_LEVEL, UNSURE_PRAISE)
    # A reply's subject names the thread's problem ("Re: 清淨機無法開機" over "換了電源線以後就
    # 正常了，謝謝"): whether one is left is in the new text (thirty-first session, set 14).
    replying = is_reply_subject(subject) if reply is None else reply
    _weigh_praise_with_problem(
        urgency, mail_text("", text) if replying else read, without_rules(rules, overruled)
    )
    unsure_emergency = _weigh_unsure(
        urgency, MAX_LEVEL, EMERGENCY_MIN_CONFIDENCE, UNSURE_EMERGENCY_LEVEL, UNSURE_EMERGENCY
    )
    if _weigh_press_emergency(urgency, read):
        unsure_emergency = False  # the story's danger and deadline say it, not the model
        urgency.pop(UNSURE_EMERGENCY, None)
    base_level = urgency["label"]

    specialist = str(config.get("CLASSIFIER_SPECIALIST_DEPARTMENT") or "")
    confident_urgency = urgency["source"] == SOURCE_RULES or (
        urgency["source"] == SOURCE_MODEL and urgency["probability"] >= min_confidence
    )
    if (
        base_level == SPECIAL_PROBLEM_LEVEL
        and department["source"] == SOURCE_FALLBACK
        and confident_urgency
        and specialist in active_codes
    ):
        guess = {k: department[k] for k in ("label", "probability") if department[k] is not None}
        department = {
            "label": specialist,
            "probability": 1.0,
            "reasons": ["urgency 3: special problem"],
            "source": SOURCE_RULES,
        }
        if guess:
            department["model"] = guess
        code = specialist

    urgency.update(base=base_level, adjustments=[])
    _hide_sender(sender_name, department, urgency)
    return RoutingDecision(
        department_code=code,
        needs_triage=code is None or unsure_emergency,
        urgency=base_level,
        classification={
            "department": department,
            "urgency": urgency,
            "model_version": bundle.model_version if bundle is not None else None,
            "decided_at": utcnow().isoformat(),
        },
    )


def active_departments(session: Session) -> Mapping[str, Department]:
    """Code -> department, with its members (each new ticket notifies them). Read-only: in
    the worker a mapping whose departments join the transaction as they are used."""
    return reference_data(
        session,
        "active_departments",
        lambda: {
            d.code: d
            for d in session.scalars(
                select(Department)
                .where(Department.is_active.is_(True))
                .options(selectinload(Department.members))
            )
        },
        tables=(table_of(Department), department_members, table_of(User)),
    )


def urgency_level(session: Session, level: int) -> UrgencyLevel | None:
    """The level's row (names and response targets), for routing each new ticket."""
    return reference_data(
        session,
        f"urgency_level:{level}",
        lambda: session.get(UrgencyLevel, level),
        tables=(table_of(UrgencyLevel),),
    )


def _chosen_department(
    session: Session, ticket: Ticket, inbound: ClaimedMail, active: Mapping[str, Department]
) -> tuple[str, str] | None:
    if inbound.department_code and inbound.department_code in active:
        return inbound.department_code, SOURCE_ADDRESS
    if ticket.department_id is not None:  # set by intake from the closed ticket this follows
        previous = session.get(Department, ticket.department_id)
        if previous is not None and previous.code in active:
            return previous.code, SOURCE_PREVIOUS
    return None


def customer_text(new_text: str | None, body_text: str | None, forwarded_text: str = "") -> str:
    """What the customer wrote now (the whole body only when nothing new was recognised), and
    the mail they forward under a short comment ("FYI"): ``forwards.reading_text``."""
    return reading_text(new_text, body_text, forwarded_text)


def _customer_text(message: Message) -> str:
    return customer_text(message.new_text, message.body_text, message.forwarded_text or "")


def _decide_stored(
    subject: str,
    message: Message,
    active: Mapping[str, Department],
    config: Mapping[str, Any],
    **options: Any,
) -> RoutingDecision:
    """``decide`` on a stored customer message, with the current model and its sender's name."""
    return decide(
        subject,
        _customer_text(message),
        config=config,
        bundle=model_store.current_model(config),
        active_codes=active,
        sender_name=message.from_name or "",
        reply=is_reply_subject(message.subject),
        **options,
    )


def route_new_ticket(
    session: Session,
    ticket: Ticket,
    message: Message,
    inbound: ClaimedMail,
    config: Mapping[str, Any],
    *,
    prediction: MailPrediction | None = None,
    first_contact: bool = False,
    earlier_reports: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Decide department and urgency and start the response clock, before the ticket is written.

    Runs inside the worker's transaction: a failure here rolls the whole message back and the
    worker retries it. A model that cannot be loaded only means "no model". ``prediction``
    is the model's verdict, made by the worker before its write transaction opened. Once the
    ticket is written, ``announce_new_ticket`` records the decision and tells the team.
    ``first_contact``: the customer was created for this mail, so no earlier report of theirs
    can exist (one query less; on PostgreSQL one wait for the server less). ``earlier_reports``:
    the customer's earlier messages as the caller read them (``repeats.EARLIER_AS_JSON``).
    """
    active = active_departments(session)
    decision = _decide_stored(
        ticket.subject or message.subject or "",
        message,
        active,
        config,
        chosen=_chosen_department(session, ticket, inbound, active),
        prediction=prediction,
    )
    department = active.get(decision.department_code) if decision.department_code else None
    ticket.department = department
    # Intake may already have sent it to triage (automatic mail, no sender): that stays.
    ticket.needs_triage = bool(ticket.needs_triage) or decision.needs_triage
    level = decision.urgency
    classification = decision.classification
    earlier = repeats.find_earlier_report(
        session,
        customer_id=None if first_contact else ticket.customer_id,
        subject=ticket.subject or "",
        text=_customer_text(message),
        now=ticket.created_at or utcnow(),
        config=config,
        candidates=earlier_reports,
    )
    if earlier is not None:
        # The same problem reported again in a new thread: important, and linked.
        level = max(level, REPEAT_LEVEL)
        classification["urgency"].update(
            label=level,
            adjustments=[ADJUST_REPEAT],
            repeat_of={
                "ticket_id": earlier.ticket_id,
                "reference": earlier.reference,
                "similarity": earlier.similarity,
            },
        )
        if ticket.previous_ticket_id is None:
            ticket.previous_ticket_id = earlier.ticket_id
    complaint = match_complaint(mail_text(ticket.subject or "", _customer_text(message)))
    if complaint is not None:
        classification["complaint"] = complaint
        complaints.mark_complaint(
            session, ticket, str(config["COMPLAINT_DEFAULT_COMPLEXITY"]), config
        )
    ticket.urgency = level
    ticket.classification = classification
    level_row = urgency_level(session, level)
    assert level_row is not None  # decide() picks one of the five seeded levels
    ticket.urgency_level = level_row
    sla.start_clock(ticket, config)


def announce_new_ticket(
    session: Session, ticket: Ticket, message: Message, config: Mapping[str, Any]
) -> None:
    """Record how a written, routed ticket was routed; notify the team (and its mailbox)."""
    department = ticket.department
    source = (ticket.classification or {}).get("department", {}).get("source")
    if ticket.kind == complaints.COMPLAINT:
        _audit(
            session,
            ticket,
            "ticket.complaint",
            {
                "complexity": ticket.complaint_complexity,
                "reason": f"word: {(ticket.classification or {}).get('complaint')}",
            },
        )
    _audit(
        session,
        ticket,
        "ticket.routed",
        {
            "department": department.code if department is not None else None,
            "source": source,
            "urgency": ticket.urgency,
            "needs_triage": ticket.needs_triage,
        },
    )
    log.info(
        "ticket %s routed to %s (%s), urgency %s",
        ticket.reference,
        department.code if department is not None else "triage",
        source,
        ticket.urgency,
    )
    _notify(session, ticket, config)
    if department is not None and department.forward_address and not ticket.needs_triage:
        forward_copy(session, ticket, message, department, config)


def _notify(
    session: Session, ticket: Ticket, config: Mapping[str, Any], message: Message | None = None
) -> None:

    notify_new_ticket(session, ticket, config, message=message)


def forward_copy(
    session: Session,
    ticket: Ticket,
    message: Message,
    department: Department,
    config: Mapping[str, Any],
) -> None:
    """A copy of the customer's mail for a team that works from its own mailbox.

    Marked as automatic mail (Auto-Submitted), so the team's out-of-office replies do not
    come back as customer mail, and stored as an automatic entry, never as a staff reply.
    A broken forward address is logged, not fatal: the ticket is routed all the same.
    """

    customer = ticket.customer
    address = readable_address(customer.email)  # for people: 例子.公司, not xn--
    lines = [
        f"Ticket: {ticket.reference}",
        f"From: {customer.name} <{address}>" if customer.name else f"From: {address}",
        f"Urgency: {ticket.urgency}",
        f"Staff page: {ticket_url(ticket, config)}",
        "",
        message.body_text or message.new_text or "",
    ]
    try:
        enqueue_mail(
            session,
            ticket=ticket,
            kind=KIND_FORWARD,
            to=[department.forward_address or ""],
            subject=ticket.subject or message.subject or "",
            text="\n".join(lines),
            automatic=True,
            auto_submitted=AUTO_SUBMITTED_AUTO_GENERATED,
            department=department,
            config=config,
        )
    except ValueError as exc:
        log.warning(
            "ticket %s: no copy forwarded to department %s (%s)",
            ticket.reference,
            department.code,
            exc,
        )


def route_follow_up(
    session: Session,
    ticket: Ticket,
    message: Message,
    inbound: ClaimedMail,
    config: Mapping[str, Any],
) -> None:
    """A customer's further message: it stays with the ticket, but may make it more urgent.

    A plain follow-up ("also...", an answer to our question) changes nothing. A repeated
    report (``repeats``: the same words again, an hour or more later) or an angry chase in
    other words ("This is ridiculous, still nothing", "这太离谱了，还是没人回":
    `match_angry_chase`) raises the ticket to at least 4; an urgency keyword in the new
    message raises it to that keyword's level. Each reason raises once per ticket. The clock
    follows, and a clock paused while we waited on the customer runs again now that they
    answered.
    """
    if message.is_automatic or message.direction != "in" or ticket.status not in OPEN_STATUSES:
        return
    if ticket.sla_paused_at is not None and ticket.status != "waiting":
        sla.resume_clock(ticket, config)
    _route_the_question_asked_for(session, ticket, message, config)
    previous = int(ticket.urgency or DEFAULT_LEVEL)
    level = previous
    classification = dict(ticket.classification or {})
    urgency = dict(classification.get("urgency") or {})
    done = set(urgency.get("adjustments") or [])
    reasons: list[str] = []
    if ADJUST_REPEAT not in done and level < REPEAT_LEVEL:
        earlier = repeats.find_earlier_report(
            session,
            customer_id=ticket.customer_id,
            subject="",
            text=_customer_text(message),
            now=message.created_at or utcnow(),
            config=config,
            ticket_id=ticket.id,
            exclude_message_id=message.id,
        )
        if earlier is not None:
            level = REPEAT_LEVEL
            reasons.append(ADJUST_REPEAT)
    if ADJUST_CHASE not in done and level < REPEAT_LEVEL:
        # The new words only: the subject is the thread's ("Re: Ridiculous delivery time").
        if match_angry_chase(_customer_text(message)) is not None:
            level = REPEAT_LEVEL
            reasons.append(ADJUST_CHASE)
    text = mail_text(message.subject or "", _customer_text(message))
    if ticket.kind is None:
        complaint = match_complaint(text)
        if complaint is not None:
            complaints.mark_complaint(
                session,
                ticket,
                str(config["COMPLAINT_DEFAULT_COMPLEXITY"]),
                config,
                reason=f"word: {complaint}",
            )
    hit = match_urgency_rules(text, urgency_rules(config))
    if hit is not None and hit.level > level and f"rule:{hit.keyword}" not in done:
        level = hit.level
        reasons.append(f"rule:{hit.keyword}")
    if level <= previous:
        return
    ticket.urgency = level
    urgency["label"] = level
    urgency["adjustments"] = [*urgency.get("adjustments", []), *reasons]
    classification["urgency"] = urgency
    ticket.classification = classification  # a new dict: JSON columns track assignment only
    session.flush()
    session.expire(ticket, ["urgency_level"])
    sla.start_clock(ticket, config)
    _audit(
        session,
        ticket,
        "ticket.urgency_raised",
        {"from": previous, "to": level, "reasons": reasons, "message_id": message.id},
    )
    log.info("ticket %s: urgency raised %s -> %s (%s)", ticket.reference, previous, level, reasons)


def _route_the_question_asked_for(
    session: Session, ticket: Ticket, message: Message, config: Mapping[str, Any]
) -> None:
    """The customer's answer to the auto-reply that asked for their question: a ticket in
    triage because its mail said nothing, which no one has taken, answered or routed yet, is
    routed by this message as a new mail would be (to triage again if the model is unsure).
    The level stays; urgency keywords in the answer raise it as in any follow-up."""
    part = (ticket.classification or {}).get("department")
    if not (
        ticket.needs_triage
        and ticket.department_id is None
        and ticket.assignee_id is None
        and ticket.first_response_at is None
        and isinstance(part, dict)
        and part.get("triage_reason") == SAYS_NOTHING
    ):
        return
    active = active_departments(session)
    # The ticket's own subject (one that says nothing): the answer's is most often ours,
    # "Re: [#SUP-00020] Received: Hi", whose "Received" the model would read as a word.
    decision = _decide_stored(ticket.subject or "", message, active, config)
    department = active.get(decision.department_code) if decision.department_code else None
    if department is None:  # the model is unsure of it too: triage it is
        return
    ticket.department = department
    ticket.needs_triage = False
    classification = dict(ticket.classification or {})
    classification["department"] = {
        **decision.classification["department"],
        "from_message_id": message.id,
    }
    ticket.classification = classification  # a new dict: JSON columns track assignment only
    session.flush()
    sla.start_clock(ticket, config)
    _audit(
        session,
        ticket,
        "ticket.routed",
        {
            "department": department.code,
            "source": classification["department"].get("source"),
            "urgency": ticket.urgency,
            "needs_triage": False,
            "message_id": message.id,
        },
    )
    log.info(
        "ticket %s: the customer's question routed it to %s", ticket.reference, department.code
    )
    _notify(session, ticket, config, message)
    if department.forward_address:
        forward_copy(session, ticket, message, department, config)


def _audit(session: Session, ticket: Ticket, action: str, data: dict[str, Any]) -> None:
    record_event(
        session, action, data, ticket_id=ticket.id, subject_type="ticket", subject_id=ticket.id
    )
