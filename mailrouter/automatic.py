"""Recognise mail written by machines, so we never answer it and can act on bounces.

An auto-reply sent to a bounce, an out-of-office notice or a mailing list starts a mail loop
or spams a list, so anything that looks automatic is treated as automatic (RFC 3834 section 2,
RFC 3464, RFC 5965). ``automatic_reason`` says why, for the log and the staff view;
``bounce_info`` reads a non-delivery report so the ticket of the returned mail can be found and
the failing customer address flagged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

from mailrouter.parsing import (
    OTHER_LIST_HEADERS,
    ParsedMail,
    decode_bytes,
    normalise_message_id,
)

logger = logging.getLogger(__name__)

_ROLE_LOCAL_PART_RE = re.compile(
    r"^(?:mailer[-_.]?daemon|mail[-_.]?daemon|post[-_.]?master|no[-_.]?reply|do[-_.]?not[-_.]?reply|"
    r"dont[-_.]?reply|bounces?|mdaemon|majordomo|listserv|autoreply|auto[-_.]?responder)"
    r"(?:[-+._].*)?$",
    re.IGNORECASE,
)
# Mailman-style list and VERP bounce addresses: "list-bounces+user=host@...".
_BOUNCE_LOCAL_PART_RE = re.compile(r"(?:^|[-_.])(?:bounces?|noreply|no-reply)(?:[-+=_.]|$)", re.I)
_ROLE_NAME_RE = re.compile(
    r"^(?:mail delivery (?:sub)?system|mailer[-_ ]daemon|postmaster|mail administrator|"
    r"system administrator|mail ?system|mail delivery service|delivery status notification|"
    r"mail delivery failure|internet mail delivery|mail router|microsoft outlook|"
    r"mail ?server|e-?mail ?gateway|.*postmaster.*|.*mailer-daemon.*|"
    r"系统退信|系统管理员|邮件系统|退信服务)$",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|returned mail|return(?:ing|ed) (?:message|mail)? ?to sender|"
    r"delivery status notification|delivery notification|delivery (?:status )?report|"
    r"delivery failure|delivery[ -]fail|delivery has failed|delivery problem|delivery error|"
    r"mail delivery|failure notice|failed delivery|could not be delivered|not delivered|"
    r"non[- ]?deliver|mail system error|mail failure|delayed mail|could not send|"
    r"message you sent|postmaster notify|mail(?:er)? ?daemon|delivery status|"
    r"warning: message .* delayed|mail could not|error sending|sorry, your message|"
    r"failed mail|bounced? mail|unzustellbar|non recapitabile|non remis|no entregado|"
    r"退信|未送达|未能送达|无法送达|投递失败|发送失败|无法投递|邮件被退回|"
    r"メールエラー|配信できません|送信できません|配信エラー|エラー通知|"
    r"недоставлен|не доставлен|не может быть доставлено",
    re.IGNORECASE,
)
# Phrases MTAs write in the human-readable part of a bounce.
_BOUNCE_BODY_RE = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|wasn't able to deliver|"
    r"not able to deliver|delivery (?:to the following|has failed|failed)|"
    r"permanent (?:fatal )?error|following address(?:es)? failed|undeliverable|"
    r"user unknown|unknown user|no such user|mailbox (?:unavailable|not found|is full|full)|"
    r"does not exist|recipient address rejected|diagnostic-code|final-recipient|"
    r"this is the mail system at|this is the qmail-send program|returned to you|"
    r"message could not|unable to deliver|did not reach|unknown recipient|not recognized|"
    r"delivery attempts? (?:will continue|failed)|"
    r"quota exceeded|over quota|host unknown|message delivery failed|"
    r"\b5\.\d{1,3}\.\d{1,3}\b|\b55[0-4][ -]|"
    r"无法投递|退信|未能送达|送信できませんでした|配信できませんでした",
    re.IGNORECASE,
)
_AUTOREPLY_WORDS = (
    r"out of (?:the )?office(?: auto-?reply)?|automatic reply|auto[- ]?reply|"
    r"auto[- ]?response|autoresponse|auto-?antwort|automatische antwort|abwesenheitsnotiz|"
    r"réponse automatique|respuesta automática|risposta automatica|automatisch antwoord|"
    r"away from (?:the )?office|vacation reply|"
    r"自动回复|自動回覆|自動回复|自动答复|自動答覆|自動回應|自動応答|自動返信"
)
# A prefix with a colon (or the whole subject): "Out of office hours?" from a customer is not one.
# Chinese webmail systems also bracket it: "【自动回复】", "[自动回复]".
_AUTOREPLY_SUBJECT_RE = re.compile(
    rf"^\s*(?:{_AUTOREPLY_WORDS})\s*(?:[:：]|$)|"
    rf"^\s*[\[【〔(（]\s*(?:{_AUTOREPLY_WORDS})\s*[\]】〕)）]|"
    r"^\s*\S+(?: \S+){0,3} is out of (?:the )?office\.?\s*$",  # Lotus Notes
    re.IGNORECASE,
)
# The fixed opening of QQ Mail's (and Tencent Exmail's) vacation reply, which carries no
# Auto-Submitted and often no prefix: "这是来自QQ邮箱的假期自动回复邮件。" A person never
# begins a mail so. Read from the text, as its HTML-only body is shown.
_AUTOREPLY_OPENING_RE = re.compile(
    r"^\s*(?:这是来自\S{1,16}?的(?:假期)?自动回复邮件|這是來自\S{1,16}?的(?:假期)?自動回覆郵件)"
)
# Read receipts some webmail systems send as ordinary mail, without an RFC 8098 part.
_RECEIPT_SUBJECT_RE = re.compile(
    r"^\s*(?:已读回执|已讀回執|已读回条|已讀回條|阅读回执|閱讀回條|read receipt|return receipt)"
    r"\s*[:：]|^\s*(?:已读|已讀|read)\s*[:：]",
    re.IGNORECASE,
)
_RECEIPT_TEXT_RE = re.compile(
    r"已读回执|已讀回執|已被(?:对方|對方)?(?:阅读|閱讀|查看|打开|打開)|被(?:阅读|閱讀)|"
    r"was read on|has been read|was displayed",
    re.IGNORECASE,
)
_COMPLAINT_SUBJECT_RE = re.compile(
    r"complaint about message|abuse report|spam report|spam complaint|feedback report", re.I
)
_HEADERS_PARTS = ("text/rfc822-headers", "message/rfc822-headers", "text/rfc822-header")
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_REPORT_PARTS = {
    "message/delivery-status": "delivery-status report (RFC 3464)",
    "message/global-delivery-status": "delivery-status report (RFC 6533)",
    "message/feedback-report": "complaint report (ARF, RFC 5965)",
    "message/disposition-notification": "read receipt (RFC 8098)",
}
_REPORT_TYPES = {
    "delivery-status": "delivery-status report (RFC 3464)",
    "global-delivery-status": "delivery-status report (RFC 6533)",
    "feedback-report": "complaint report (ARF, RFC 5965)",
    "disposition-notification": "read receipt (RFC 8098)",
}


def _header(parsed: ParsedMail, name: str) -> str:
    return (parsed.headers.get(name) or "").strip()


def _local_part(address: str) -> str:
    return address.rsplit("@", 1)[0] if "@" in address else address


def is_role_sender(parsed: ParsedMail) -> bool:
    """A sender that is a mail system or a no-reply robot, not a person."""
    local = _local_part(parsed.from_address)
    if local and (_ROLE_LOCAL_PART_RE.match(local) or _BOUNCE_LOCAL_PART_RE.search(local)):
        return True
    return bool(parsed.from_name and _ROLE_NAME_RE.match(parsed.from_name.strip()))


def _report_reason(parsed: ParsedMail) -> str | None:
    content_type = _header(parsed, "content-type").lower()
    if content_type.startswith("multipart/report"):
        match = re.search(r"report-type\s*=\s*\"?([\w.-]+)", content_type)
        report_type = match.group(1) if match else ""
        return _REPORT_TYPES.get(report_type, f"multipart/report ({report_type or 'no type'})")
    for attachment in parsed.attachments:
        if attachment.content_type in _REPORT_PARTS:
            return _REPORT_PARTS[attachment.content_type]
    return None


#: iTIP methods a calendar program sends by mail (RFC 5546 / iMIP, RFC 6047): invitations,
#: answers to them ("Accepted: ..."), cancellations. PUBLISH, an event file a person attaches to
#: share it, is not one of them.
_CALENDAR_METHODS = {"REQUEST", "REPLY", "CANCEL", "COUNTER", "DECLINECOUNTER", "REFRESH", "ADD"}
_CALENDAR_TYPES = {"text/calendar", "application/ics"}
_CALENDAR_METHOD_RE = re.compile(rb"^METHOD:([A-Za-z-]+)\s*$", re.MULTILINE)


def _calendar_reason(parsed: ParsedMail) -> str | None:
    """A calendar program's invitation, answer or cancellation (an iMIP message)."""
    for attachment in parsed.attachments:
        if attachment.content_type not in _CALENDAR_TYPES or not attachment.data:
            continue
        match = _CALENDAR_METHOD_RE.search(attachment.data[:8192].replace(b"\r\n", b"\n"))
        method = match.group(1).decode("ascii").upper() if match else ""
        if method in _CALENDAR_METHODS:
            kind = {"REPLY": "answer", "CANCEL": "cancellation"}.get(method, "invitation")
            return f"calendar {kind} (iMIP METHOD:{method})"
    return None


def _has_original_message_part(parsed: ParsedMail) -> bool:
    return any(
        attachment.content_type == "message/rfc822" or attachment.content_type in _HEADERS_PARTS
        for attachment in parsed.attachments
    )


def _bounce_reason(parsed: ParsedMail) -> str | None:
    """Bounces from MTAs that send no delivery-status part: subject plus one more signal.

    A person may well write "mail delivery failed" in a subject, so the subject alone is not
    enough; it must come from a mail system, carry the returned message, or read like an MTA.
    """
    if not _BOUNCE_SUBJECT_RE.search(parsed.subject):
        return None
    if is_role_sender(parsed) or not parsed.from_address:
        return f"bounce (subject {parsed.subject[:60]!r} from a mail system)"
    if _has_original_message_part(parsed):
        return f"bounce (subject {parsed.subject[:60]!r} with the returned message attached)"
    if _BOUNCE_BODY_RE.search(parsed.text[:20000]):
        return f"bounce (subject {parsed.subject[:60]!r} and a delivery error in the text)"
    return None


def _complaint_reason(parsed: ParsedMail) -> str | None:
    """Abuse desks that forward the offending mail without an ARF report part."""
    if _COMPLAINT_SUBJECT_RE.search(parsed.subject) and _has_original_message_part(parsed):
        return f"complaint report (subject {parsed.subject[:60]!r} with the mail attached)"
    return None


#: X-Auto-Response-Suppress values that ask us not to answer ([MS-OXCMAIL] 2.2.3.2.20). "All"
#: and "AutoReply" name our acknowledgement's kind; "OOF" is Microsoft's out-of-office, which
#: Exchange pairs with AutoReply, and a sender who refuses even a colleague's vacation notice
#: refuses an acknowledgement no less (RFC 3834's one family of automatic responses). "DR",
#: "NDR", "RN" and "NRN" refuse delivery and read reports only; "None" refuses nothing.
_SUPPRESSING_VALUES = frozenset({"all", "autoreply", "oof"})


def auto_reply_suppressed(parsed: ParsedMail) -> str | None:
    """The sender's X-Auto-Response-Suppress value when it refuses our auto-reply, or None.

    Not a robot's mark (see ``automatic_reason``): the mail is a person's and makes a ticket;
    only the acknowledgement is left out.
    """
    value = _header(parsed, "x-auto-response-suppress")[:200]
    words = {word.strip().lower() for word in value.split(",")}
    return value[:60] if words & _SUPPRESSING_VALUES else None


def _exchange_rule_reply(parsed: ParsedMail) -> bool:
    """Exchange's inbox rule (its out-of-office) answering: the rule names its own mailbox,
    the sender (see ``automatic_reason`` on why a redirect by rule is not one)."""
    rule_loop = _header(parsed, "x-ms-exchange-inbox-rules-loop").strip("<> ").lower()
    return bool(rule_loop and parsed.from_address and rule_loop == parsed.from_address.lower())


#: What a set-aside out-of-office is called where staff see it (the quarantine page translates
#: it: templates/mail/quarantine.html), like a report's kind (``report_label``).
AUTO_REPLY_LABEL = "out-of-office or automatic reply"


def is_auto_reply(parsed: ParsedMail) -> bool:
    """Whether the mail is an answer a program wrote to a mail (RFC 3834's "auto-replied": an
    out-of-office or vacation notice, an acknowledgement), not a report, calendar or list mail.

    Marks a program writes: Auto-Submitted: auto-replied, X-Autoreply / X-Autorespond,
    Precedence: auto_reply, Exchange's inbox-rule loop naming the sender, an auto-reply
    subject ("Automatic reply:", "自动回复:", "【自动回复】"), QQ Mail's fixed opening. Not
    X-Auto-Response-Suppress, which Exchange writes on people's mail too.
    """
    if _report_reason(parsed) or _calendar_reason(parsed):
        return False
    if _bounce_reason(parsed) or _complaint_reason(parsed):
        return False
    auto_submitted = _header(parsed, "auto-submitted").split(";")[0].strip().lower()
    if auto_submitted == "auto-replied" or _exchange_rule_reply(parsed):
        return True
    if _header(parsed, "precedence").lower() in ("auto_reply", "auto-reply"):
        return True
    for name in ("x-autoreply", "x-autorespond"):
        value = _header(parsed, name).lower()
        if value and value not in ("no", "false", "0"):
            return True
    return bool(
        _AUTOREPLY_SUBJECT_RE.search(parsed.subject)
        or _AUTOREPLY_OPENING_RE.search(parsed.text[:200])
    )


def auto_reply_detail(reason: str) -> str:
    """A set-aside auto-reply's reason as staff read it, AUTO_REPLY_LABEL first:
    "out-of-office or automatic reply: Auto-Submitted: auto-replied"."""
    if reason.startswith(AUTO_REPLY_LABEL):
        rest = reason[len(AUTO_REPLY_LABEL) :].strip()
        if rest.startswith("(") and rest.endswith(")"):
            rest = rest[1:-1]
        reason = rest
    return f"{AUTO_REPLY_LABEL}: {reason}" if reason else AUTO_REPLY_LABEL


def automatic_reason(parsed: ParsedMail, own_addresses: Collection[str]) -> str | None:
    """Why this message was sent by a machine (never answer it), or None for a person's mail."""
    own = {address.strip().lower() for address in own_addresses}
    if parsed.from_address and parsed.from_address in own:
        return f"sent from our own address {parsed.from_address}"

    auto_submitted = _header(parsed, "auto-submitted")
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto_submitted[:60]}"

    report = _report_reason(parsed)
    if report:
        return report

    calendar = _calendar_reason(parsed)
    if calendar:
        return calendar

    # Not X-Auto-Response-Suppress: Exchange writes it on people's mail too (mail through a
    # distribution group, meeting requests, some clients' every mail). It asks the receiver's
    # robots not to answer; it says nothing of who wrote the mail, and reading it as "a
    # machine" set real customers' mail aside (as help desks that tried it found: jitbit,
    # Discourse, osTicket, GLPI). Exchange's out-of-office carries no Auto-Submitted, but the
    # inbox rule that sends it names its own mailbox, the sender: a redirect by rule (a
    # company's old address passing customers' mail on) keeps the customer as the sender.
    if _exchange_rule_reply(parsed):
        return f"Exchange inbox-rule reply (out-of-office of {parsed.from_address[:60]})"

    if _header(parsed, "list-id"):
        return f"mailing list (List-Id: {_header(parsed, 'list-id')[:60]})"
    if _header(parsed, "list-unsubscribe"):
        return "mailing list or newsletter (List-Unsubscribe)"
    for name in OTHER_LIST_HEADERS:
        if _header(parsed, name):
            return f"mailing list ({name}: {_header(parsed, name)[:60]})"

    precedence = _header(parsed, "precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"

    for name, label in (("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond")):
        value = _header(parsed, name)
        if value and value.lower() not in ("no", "false", "0"):
            return f"{label}: {value[:60]}"

    if _header(parsed, "x-autogenerated"):
        return f"X-AutoGenerated: {_header(parsed, 'x-autogenerated')[:60]}"

    if _header(parsed, "x-loop"):
        return f"X-Loop: {_header(parsed, 'x-loop')[:60]}"

    if _header(parsed, "return-path").replace(" ", "") == "<>":
        return "empty Return-Path (sent by a mail system)"

    bounce = _bounce_reason(parsed) or _complaint_reason(parsed)
    if bounce:
        return bounce

    if _AUTOREPLY_SUBJECT_RE.search(parsed.subject):
        return f"{AUTO_REPLY_LABEL} (subject {parsed.subject[:60]!r})"
    if _AUTOREPLY_OPENING_RE.search(parsed.text[:200]):
        return f"{AUTO_REPLY_LABEL} (it opens {parsed.text.strip()[:20]!r})"
    if _RECEIPT_SUBJECT_RE.search(parsed.subject) and _RECEIPT_TEXT_RE.search(parsed.text[:2000]):
        return f"read receipt (subject {parsed.subject[:60]!r})"

    if is_role_sender(parsed):
        return f"sent by a mail system or no-reply address ({parsed.from_address or '?'})"
    return None


# --------------------------------------------------------------------------------------------
# Bounces
# --------------------------------------------------------------------------------------------


@dataclass
class BounceInfo:
    """What a non-delivery report (or complaint) says about one of our messages.

    ``kind`` is "failure" (flag ``failed_recipients``), "delay" (the MTA is still trying; do
    not flag anyone), "complaint" (an ARF report; ``failed_recipients`` holds the address that
    complained, which should not be mailed again unasked) or "delivered" (a sending service's
    notice that the mail arrived: Amazon SES's "Delivery" notification; nobody is flagged).
    """

    kind: str
    original_message_id: str | None
    failed_recipients: list[str] = field(default_factory=list)
    delayed_recipients: list[str] = field(default_factory=list)
    status: str | None = None
    diagnostic: str | None = None


@dataclass
class _Recipient:
    final: str = ""
    original: str = ""
    action: str = ""
    status: str = ""
    diagnostic: str = ""

    @property
    def address(self) -> str:
        # Original-Recipient is the address we sent to; Final-Recipient may be a local alias.
        return self.original or self.final


_DSN_ADDRESS_RE = re.compile(r"^\s*(?:[\w.-]+\s*;)?\s*<?\s*([^<>\s;]+@[^<>\s;]+?)\s*>?\s*$")
_ADDRESS_IN_TEXT_RE = re.compile(r"<?([\w.!#$%&'*+=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+)>?")
_FIELD_RE = re.compile(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$")
_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# Where the copy of the returned message begins in a plain-text bounce.
_COPY_MARKERS_RE = re.compile(
    r"^\s*(?:-+\s*)?(?:below this line is a copy of the message|this is a copy of the message|"
    r"original message follows|original message|unsent message follows|"
    r"the (?:original )?(?:message|header)s? (?:of the original message )?(?:is|are|was) "
    r"(?:following|included|attached)|returned message|message headers follow|"
    r"content-type: message/rfc822)"
    r"|^(?:received|return-path|message-id|dkim-signature):",
    re.IGNORECASE | re.MULTILINE,
)
_FAILURE_LINE_RE = re.compile(
    r"fail|unknown|no such|not exist|doesn't exist|does not exist|invalid|rejected|refused|"
    r"unavailable|not found|disabled|inactive|over ?quota|quota|full|blocked|denied|bounced|"
    r"could not|couldn't|unable|undeliverable|not delivered|permanent|error|expired|exceed|"
    r"did not reach|not recognized|"
    r"\b5\d\d\b|\b5\.\d+\.\d+|存在しません|見つかりません|宛先|不存在|失败|错误|退信",
    re.IGNORECASE,
)
_IGNORED_LOCAL_PARTS_RE = re.compile(r"^(?:mailer[-_.]?daemon|no[-_.]?reply)$", re.IGNORECASE)


def _parts(message: Message) -> Iterator[Message]:
    """All parts, depth first, without recursion (a hostile mail may nest deeply)."""
    stack = [message]
    seen = 0
    while stack and seen < 500:
        part = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([child for child in payload if isinstance(child, Message)]))


def _part_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):
        lines: list[str] = []
        for block in payload:
            if isinstance(block, Message):
                lines.extend(f"{name}: {value}" for name, value in block.items())
                lines.append("")
        return "\n".join(str(line) for line in lines)
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        data = str(payload).encode("utf-8", "surrogateescape")
    return decode_bytes(data, part.get_content_charset())[0]


def _dsn_recipients(text: str) -> list[_Recipient]:
    """Per-recipient fields of a delivery-status report (RFC 3464 section 2.3).

    Blocks are separated by blank lines, but some MTAs omit them, so a repeated
    Final-Recipient or Original-Recipient also starts a new recipient.
    """
    recipients: list[_Recipient] = []
    current: _Recipient | None = None
    last_field = ""
    for line in text.replace("\r", "").split("\n"):
        if not line.strip():
            current, last_field = None, ""
            continue
        if line[:1] in (" ", "\t"):
            if current is not None and last_field == "diagnostic-code":
                current.diagnostic += " " + line.strip()
            continue
        match = _FIELD_RE.match(line)
        if not match:
            continue
        name, value = match.group(1).lower(), match.group(2).strip()
        last_field = name
        if name in ("final-recipient", "original-recipient"):
            address = _dsn_address(value)
            if not address:
                continue
            slot = "final" if name == "final-recipient" else "original"
            if current is None or getattr(current, slot):
                current = _Recipient()
                recipients.append(current)
            setattr(current, slot, address)
        elif current is not None and name == "action":
            current.action = value.lower().split()[0] if value else ""
        elif current is not None and name == "status":
            current.status = value.split()[0] if value else ""
        elif current is not None and name == "diagnostic-code":
            current.diagnostic = value
    return [recipient for recipient in recipients if recipient.address]


def _dsn_address(value: str) -> str | None:
    """ "rfc822; <user@example.com>" -> "user@example.com" (source routes dropped)."""
    match = _DSN_ADDRESS_RE.match(value)
    if not match:
        return None
    address = match.group(1)
    if address.startswith("@") and ":" in address:
        address = address.rsplit(":", 1)[1]
    return address.lower()


def _headers_message_id(text: str) -> str | None:
    match = re.search(r"^message-id\s*:\s*(.+(?:\n[ \t].*)*)", text, re.IGNORECASE | re.MULTILINE)
    return normalise_message_id(match.group(1)) if match else None


def _report_region(text: str) -> str:
    """The MTA's own words: the text before the copy of the returned message."""
    copy_start = _COPY_MARKERS_RE.search(text)
    return text[: copy_start.start()] if copy_start else text


def _failed_from_text(text: str, exclude: set[str]) -> list[str]:
    """Failed recipients named in the readable text of a bounce without a DSN part."""
    lines = _report_region(text).replace("\r", "").split("\n")
    found: list[str] = []

    def add(address: str) -> None:
        address = address.strip("<>.,;:'\"()[] ").lower()
        local = address.rsplit("@", 1)[0]
        if address in exclude or _IGNORED_LOCAL_PARTS_RE.match(local) or address in found:
            return
        found.append(address)

    for index, line in enumerate(lines):
        stripped = line.strip()
        # qmail and Postfix: "<user@example.com>:" alone or before the reason.
        match = re.match(r"^<([^<>\s]+@[^<>\s]+)>\s*:", stripped)
        if match:
            add(match.group(1))
            continue
        # A transcript or summary naming the envelope recipient.
        match = re.match(
            r"^(?:in:\s*)?rcpt to\s*:\s*<?([^<>\s]+@[^<>\s]+?)>?(?:\s|$)", stripped, re.I
        )
        if match:
            add(match.group(1))
            continue
        addresses = _ADDRESS_IN_TEXT_RE.findall(line)
        if not addresses:
            continue
        context = " ".join(lines[max(0, index - 2) : index + 3])
        is_list_entry = stripped.startswith(("<", addresses[0]))
        if is_list_entry or _FAILURE_LINE_RE.search(line) or _FAILURE_LINE_RE.search(context):
            for address in addresses:
                add(address)
    return found


def bounce_info(parsed: ParsedMail, raw: bytes) -> BounceInfo | None:
    """Read a bounce or complaint report; None when the message is neither."""
    try:
        return _bounce_info(parsed, raw)
    except Exception:  # a report we cannot read is still automatic; it just links nowhere
        logger.exception("could not read bounce report %s", parsed.message_id)
        return None


def _ses_notification(parsed: ParsedMail) -> BounceInfo | None:
    """Amazon SES bounce/complaint notifications arrive as JSON in a plain mail (via SNS)."""
    body = parsed.text.lstrip()
    if not body.startswith("{") or '"notificationType"' not in body[:200]:
        return None
    try:
        notification, _end = json.JSONDecoder(strict=False).raw_decode(body)
    except ValueError:
        return None
    if not isinstance(notification, dict):
        return None
    kind = str(notification.get("notificationType", "")).lower()
    mail = notification.get("mail") or {}
    original_id = None
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            original_id = normalise_message_id(str(header.get("value", "")))
    original_id = original_id or normalise_message_id(
        str((mail.get("commonHeaders") or {}).get("messageId") or "")
    )
    if kind == "bounce":
        bounce = notification.get("bounce") or {}
        recipients = bounce.get("bouncedRecipients") or []
        addresses = [
            str(r.get("emailAddress", "")).lower() for r in recipients if isinstance(r, dict)
        ]
        first = recipients[0] if recipients and isinstance(recipients[0], dict) else {}
        transient = str(bounce.get("bounceType", "")).lower() == "transient"
        return BounceInfo(
            kind="delay" if transient else "failure",
            original_message_id=original_id,
            failed_recipients=[] if transient else _unique(addresses),
            delayed_recipients=_unique(addresses) if transient else [],
            status=first.get("status"),
            diagnostic=first.get("diagnosticCode"),
        )
    if kind == "complaint":
        complaint = notification.get("complaint") or {}
        recipients = complaint.get("complainedRecipients") or []
        addresses = [
            str(r.get("emailAddress", "")).lower() for r in recipients if isinstance(r, dict)
        ]
        return BounceInfo(
            kind="complaint", original_message_id=original_id, failed_recipients=_unique(addresses)
        )
    if kind == "delivery":
        return BounceInfo(kind="delivered", original_message_id=original_id)
    return None


def _bounce_info(parsed: ParsedMail, raw: bytes) -> BounceInfo | None:
    ses = _ses_notification(parsed)
    if ses is not None:
        return ses
    report = _report_reason(parsed) or ""
    is_complaint = "complaint" in report or _complaint_reason(parsed) is not None
    is_dsn = "delivery-status" in report
    if not (is_complaint or is_dsn or _bounce_reason(parsed)):
        system_sender = is_role_sender(parsed) or not parsed.from_address
        reads_like_bounce = _BOUNCE_BODY_RE.search(parsed.text[:20000]) is not None
        if not (system_sender and (reads_like_bounce or _has_original_message_part(parsed))):
            return None
    message = BytesParser(policy=policy.compat32).parsebytes(raw)

    recipients: list[_Recipient] = []
    complainants: list[str] = []
    original_id: str | None = None
    for part in _parts(message):
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            recipients += _dsn_recipients(_part_text(part))
        elif content_type == "message/feedback-report":
            text = _part_text(part)
            for value in re.findall(r"^original-rcpt-to\s*:\s*(.+)$", text, re.I | re.M):
                complainants += [a.lower() for a in _ADDRESS_IN_TEXT_RE.findall(value)]
        elif content_type == "message/rfc822" and original_id is None and part is not message:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original_id = normalise_message_id(str(inner[0].get("message-id") or ""))
        elif content_type in _HEADERS_PARTS:
            original_id = original_id or _headers_message_id(_part_text(part))

    if original_id is None:
        original_id = parsed.in_reply_to or (parsed.references[-1] if parsed.references else None)
    if original_id is None:
        original_id = _headers_message_id(parsed.text)
    if original_id == parsed.message_id:
        original_id = None

    if is_complaint:
        return BounceInfo(
            kind="complaint",
            original_message_id=original_id,
            failed_recipients=_unique(complainants),
        )

    if not recipients:
        # Some MTAs paste the delivery-status fields into the readable text instead.
        recipients = _dsn_recipients(_report_region(parsed.text))

    failed: list[str] = []
    delayed: list[str] = []
    status = diagnostic = None
    for recipient in recipients:
        if recipient.action in ("delivered", "relayed", "expanded"):
            continue
        transient = recipient.action == "delayed" or (
            not recipient.action and recipient.status.startswith("4")
        )
        (delayed if transient else failed).append(recipient.address)
        status = status or recipient.status or None
        diagnostic = diagnostic or recipient.diagnostic or None

    if not recipients:
        for value in message.get_all("x-failed-recipients") or []:
            failed += [a.lower() for a in _ADDRESS_IN_TEXT_RE.findall(str(value))]
        if not failed:
            failed = _failed_from_text(parsed.text, {parsed.from_address, *parsed.to, *parsed.cc})
        status_match = _STATUS_RE.search(_report_region(parsed.text))
        status = ".".join(status_match.groups()) if status_match else None
        if re.search(r"delay|warning|still being retried", parsed.subject, re.I):
            failed, delayed = [], failed

    delayed = [address for address in delayed if address not in failed]
    return BounceInfo(
        kind="delay" if delayed and not failed else "failure",
        original_message_id=original_id,
        failed_recipients=_unique(failed),
        delayed_recipients=_unique(delayed),
        status=status,
        diagnostic=(diagnostic or "")[:500] or None,
    )


#: What each kind of report is called where staff see it (the quarantine page's reason, which
#: translates each of these: templates/mail/quarantine.html).
_REPORT_LABELS = {
    "failure": "delivery failure report",
    "delay": "delivery delay report",
    "complaint": "complaint report",
    "delivered": "delivery report",
}


def has_report_structure(parsed: ParsedMail) -> bool:
    """Whether the mail is built as a mail system's report, not merely worded like one: a
    delivery-status or feedback-report part (RFC 3464, RFC 5965), the returned message or its
    headers attached, an Amazon SES notification, or the empty Return-Path our MTA writes for
    the null sender every bounce must come from (RFC 5321 4.5.5). Phishing dressed as a
    delivery failure ("Package delivery failed") has the words, not this."""
    report = _report_reason(parsed) or ""
    if "delivery-status" in report or "complaint" in report:
        return True
    if _has_original_message_part(parsed) or _ses_notification(parsed) is not None:
        return True
    return _header(parsed, "return-path").replace(" ", "") == "<>"


def report_label(bounce: BounceInfo) -> str:
    """What a report is, in a few words: "delivery failure report", "complaint report"..."""
    return _REPORT_LABELS.get(bounce.kind, "delivery report")


def _unique(addresses: list[str]) -> list[str]:
    """Each non-empty address once, in order (a dict: linear for a report of 10k recipients)."""
    return list(dict.fromkeys(address for address in addresses if address))
