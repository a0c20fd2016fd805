"""Settings of the ticket desk: files on staff replies, consent on the contact form and retention
(see support.core.config)."""

from support.core.config import Setting

#: The contact form's consent box, per UI language; a changed text is a new consent version.
DEFAULT_CONSENT_TEXT = {
    "en": "I agree that {company} stores my name, email address and question to answer me, and keeps them as its privacy notice describes (by default up to two years after my question is closed). I can ask for a copy or for erasure at any time by writing to {address}.",
    "zh": "我同意{company}保存我的姓名、邮箱地址和问题，用于答复我，并按其隐私说明保存（默认在问题关闭后最长两年）。我可以随时写信至 {address} 索取副本或要求删除。",
}

#: The words of the consent text (per language) that link to the privacy notice; a text without
#: them gets the link after it.
NOTICE_WORDS = {"en": "privacy notice", "zh": "隐私说明"}

#: Years a closed ticket's personal data is kept, per customer tier (customers.tier).
DEFAULT_CLOSED_TICKET_YEARS = {"standard": 2, "key": 5, "vip": 5}

SETTINGS = [
    Setting(
        "REPLY_MAX_FILES",
        10,
        int,
        "Files one staff reply may carry (0 = none); more are refused with the text kept.",
    ),
    Setting(
        "REPLY_MAX_FILE_BYTES",
        10485760,
        int,
        "Largest file on a staff reply.",
    ),
    Setting(
        "REPLY_MAX_TOTAL_BYTES",
        10485760,
        int,
        "Largest total of the files on one staff reply. A request may be 16 MB, or 1 MB more than this if larger; a larger one gets a page saying so (the typed text stays in the browser's form; with JavaScript the page checks before sending).",
    ),
    Setting(
        "REPLY_UNDO_SECONDS",
        10,
        int,
        "Seconds a reply sent from the ticket page is held before it goes out, while its author may undo it (at most 60; 0 = sent at once).",
    ),
    Setting(
        "PRIVACY_CONSENT_TEXT",
        DEFAULT_CONSENT_TEXT,
        dict,
        "The contact form's consent text per language (`en`, `zh`); `{company}` and `{address}` (the general address) are filled in. The text a customer agreed to is recorded with a version (its hash).",
    ),
    Setting(
        "PRIVACY_NOTICE_URL",
        "",
        str,
        "Address (http/https) of the company's own privacy notice: the consent text's words \"privacy notice\" and the portal's footer link to it. Empty: the portal's built-in /privacy page, which states what this software keeps and for how long from these settings.",
    ),
    Setting(
        "RETENTION_RAW_MAIL_DAYS",
        90,
        int,
        "Raw bytes of processed inbound mail older than this are dropped by the purge; the parsed message stays (0 = keep).",
    ),
    Setting(
        "RETENTION_CLOSED_TICKET_YEARS",
        DEFAULT_CLOSED_TICKET_YEARS,
        dict,
        "Years after closing that a ticket's personal data is kept, per customer tier; older tickets are anonymised like an erasure, and a customer with nothing left and no contact for that long is erased (0 = keep; a tier not listed uses the longest).",
    ),
    Setting(
        "RETENTION_PURGE_HOURS",
        24.0,
        float,
        "How often `support run` applies the retention limits (`support purge`); 0 = never.",
    ),
]
