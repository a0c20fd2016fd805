"""Settings of mail intake, classification, auto-replies and outbound mail (see support.core.config)."""

from support.core.config import Setting

SETTINGS = [
    Setting("SMTP_HOST", "127.0.0.1", str, "Address the SMTP intake listens on."),
    Setting("SMTP_PORT", 2525, int, "Port of the SMTP intake."),
    Setting(
        "MAIL_DOMAINS",
        ["example.com"],
        list,
        "Domains we accept mail for; anything else is refused (550), so never an open relay.",
    ),
    Setting(
        "MAIL_GENERAL_ADDRESS",
        "support@example.com",
        str,
        "The general address; its mail is classified to a department.",
    ),
    Setting(
        "MAIL_MAX_MESSAGE_BYTES",
        26214400,
        int,
        "Largest message accepted over SMTP (552 above it, advertised in EHLO SIZE).",
    ),
    Setting(
        "MAIL_MAX_ATTACHMENT_BYTES",
        10485760,
        int,
        "Largest attachment stored; larger parts are listed but not kept.",
    ),
    Setting(
        "MAIL_REOPEN_MODE",
        "reopen",
        str,
        "A reply to a closed ticket: `reopen` it, or open a `new` ticket linked to it.",
    ),
    Setting(
        "MAIL_REOPEN_ON_THANKS",
        False,
        bool,
        "A reply to a resolved or closed ticket that only thanks (no question, no problem) reopens it too; by default it is added to the conversation and the ticket stays as it is, with no notice.",
    ),
    Setting(
        "MAIL_IMAP_MAILBOXES",
        [],
        list,
        "IMAP mailboxes to read: `[{host, port, ssl, username, password, folder, department, move_to, ca_file}]`; with `ssl` false, STARTTLS whenever the server offers it; `ca_file`: PEM file of the server's own or self-signed certificate, trusted besides the system's CAs (the certificate is always verified).",
        secret=True,
    ),
    Setting(
        "MAIL_IMAP_POLL_SECONDS",
        60,
        int,
        "Polling interval for IMAP servers without IDLE (and IDLE renewal).",
    ),
    Setting("WORKER_POLL_SECONDS", 1.0, float, "How often an idle worker looks for new mail."),
    Setting(
        "WORKER_MAX_ATTEMPTS", 3, int, "Failures after which a message is quarantined for staff."
    ),
    Setting(
        "WORKER_BATCH_SIZE",
        20,
        int,
        "Messages a worker claims at once; on SQLite also per transaction (a failing one is retried alone).",
    ),
    Setting(
        "WORKER_PREPARE_PROCESS",
        True,
        bool,
        "While a worker writes a batch, a second process prepares the next (parsing, spam check, routing model, FAQ answers): needs a second free core and about 350 MB more memory (its own models and FAQ index). Started at the first full batch; never on one core.",
    ),
    Setting(
        "MAIL_PARSE_BUDGET_SECONDS",
        5.0,
        float,
        "A message whose parsing takes more CPU time than this is quarantined at once (hostile mail), not retried.",
    ),
    Setting(
        "WORKER_LEASE_SECONDS",
        300,
        int,
        "A message claimed by a worker that died is retried after this.",
    ),
    Setting(
        "CLASSIFIER_MIN_CONFIDENCE",
        0.45,
        float,
        "Below this department confidence a ticket goes to the triage inbox.",
    ),
    Setting("CLASSIFIER_MODEL_PATH", "", str, "Model file (default `instance/classifier.pkl`)."),
    Setting(
        "CLASSIFIER_SPECIALIST_DEPARTMENT",
        "service",
        str,
        "Department code that receives urgency-3 (special problem) tickets whose department "
        "the classifier could not decide (instead of the triage inbox).",
    ),
    Setting(
        "CLASSIFIER_URGENCY_RULES",
        {},
        dict,
        'Extra urgency keywords per level, merged with the built-in ones: `{"5": ["停产"]}`.',
    ),
    Setting(
        "CLASSIFIER_DISABLED_URGENCY_RULES",
        [],
        list,
        "Urgency keywords switched off (the model decides those mails), e.g. "
        '`["escalate", "complaint"]`; `support train` and the classifier page report how often '
        "each keyword fired on the history and how often the history agreed.",
    ),
    Setting(
        "CLASSIFIER_RULE_MIN_AGREEMENT",
        0.5,
        float,
        "An urgency keyword that fired on at least 5 mails of the labelled history whose level "
        "the history agreed with less often than this is overruled: the model decides (0 = "
        "keywords always win).",
    ),
    Setting(
        "CLASSIFIER_BOOTSTRAP_MIN_EXAMPLES",
        30,
        int,
        "Shipped examples are used only for departments and urgency levels with fewer own "
        "examples than this, and, once a history is imported, only for its departments and levels.",
    ),
    Setting(
        "CLASSIFIER_PRIORITY_WORDS",
        {},
        dict,
        "Priority words of imported history and their urgency levels, merged over the built-in "
        "ones (low/minor/P4 1, medium/normal/P3 2, high/major/P2 4, urgent/critical/P1 5; "
        '低 1, 中 2, 高 4, 紧急 5): `{"sev3": 2}`.',
    ),
    Setting(
        "URGENCY_REPEAT_SIMILARITY",
        0.6,
        float,
        "A customer's message this similar (word cosine) to one of their earlier messages is a "
        "repeated report: urgency at least 4, tickets linked (0 = off).",
    ),
    Setting("URGENCY_REPEAT_DAYS", 14, int, "How far back a repeated report is looked for (days)."),
    Setting(
        "URGENCY_REPEAT_MIN_HOURS",
        1.0,
        float,
        "A repeat must come this long after the earlier message (a mail sent twice is no repeat).",
    ),
    Setting(
        "TRAIN_EVERY_HOURS",
        24.0,
        float,
        "How often `support run` retrains the classifier (skipped when nothing changed; 0 = never).",
    ),
    Setting("AUTOREPLY_ENABLED", True, bool, "Send an auto-reply to every new conversation."),
    Setting(
        "AUTOREPLY_WINDOW_HOURS",
        4.0,
        float,
        "At most one auto-reply per sender within this window (not for contact-form questions: a "
        "form cannot loop, and its confirmation page promises the mail).",
    ),
    Setting("AUTOREPLY_MAX_PER_DAY", 10, int, "At most this many auto-replies per sender per day."),
    Setting(
        "AUTOREPLY_NO_FAQ_DEPARTMENTS",
        ["pr", "hr"],
        list,
        "Codes of departments whose auto-replies offer no FAQ answers, nor count the mail as FAQ "
        "demand or as a gap of the FAQ: a customers' FAQ does not answer a journalist's, a "
        "partner's or a job applicant's mail.",
    ),
    Setting("AUTOREPLY_BURST_COUNT", 20, int, "This many messages from one sender ..."),
    Setting(
        "AUTOREPLY_BURST_MINUTES",
        10,
        int,
        "... within this many minutes stop auto-replies to them and flag them for staff.",
    ),
    Setting(
        "OUTBOUND_SMTP_HOST",
        "",
        str,
        "Relay for outgoing mail; empty keeps mail in `instance/outbox/` (development default).",
    ),
    Setting("OUTBOUND_SMTP_PORT", 25, int, "Relay port."),
    Setting("OUTBOUND_SMTP_USER", "", str, "Relay login (optional)."),
    Setting("OUTBOUND_SMTP_PASSWORD", "", str, "Relay password (optional).", secret=True),
    Setting("OUTBOUND_SMTP_TLS", "none", str, "`none`, `starttls` or `tls`."),
    Setting(
        "OUTBOUND_SMTP_CA_FILE",
        "",
        str,
        "PEM file of the relay's own or self-signed certificate (or its CA), trusted besides the "
        "system's CAs; the relay's certificate is always verified.",
    ),
    Setting(
        "OUTBOUND_MAX_ATTEMPTS",
        8,
        int,
        "Temporary failures after which an outgoing message is marked failed.",
    ),
    Setting(
        "OUTBOUND_LEASE_SECONDS",
        90,
        int,
        "A message whose sender stopped while sending it is sent again after this (at least 40).",
    ),
]

#: Spam and forged senders (mailrouter.spam).
SETTINGS += [
    Setting(
        "SPAM_FILTER_ENABLED",
        True,
        bool,
        "Hold mail judged spam on the Spam page instead of making it a ticket (the built-in filter, or the one in front).",
    ),
    Setting(
        "SPAM_SUSPECTED_SCORE",
        5.0,
        float,
        "Spam score (SpamAssassin's scale; the built-in filter's (log-odds + 1.64) / 0.4, plus 4 for a cold pitch) from which mail is suspected spam and held.",
    ),
    Setting(
        "SPAM_CERTAIN_SCORE",
        12.0,
        float,
        "Spam score from which mail is certain spam: held hidden and purged sooner.",
    ),
    Setting(
        "SPAM_NO_AUTOREPLY_SCORE",
        3.0,
        float,
        "Spam score from which mail that is not held still becomes a ticket but gets no auto-reply (the reason is in the ticket's audit): most spam the filter lets through scores there.",
    ),
    Setting(
        "SPAM_TRUSTED_RELAYS",
        [],
        list,
        "Host names of our MTAs (the `by` of their Received headers): spam-filter headers above them are believed.",
    ),
    Setting(
        "SPAM_TRUSTED_AUTHSERV_IDS",
        [],
        list,
        "authserv-ids of our MTA's Authentication-Results headers (SPF, DKIM, DMARC) that are believed.",
    ),
    Setting(
        "SPAM_AUTHENTICATED_SENDERS",
        [],
        list,
        "Addresses and domains (with their subdomains) whose mail is never held as spam when our MTA's trusted Authentication-Results show their own domain's DKIM signature or DMARC pass (as SpamAssassin's `whitelist_auth`).",
    ),
    Setting(
        "SPAMD_ADDRESS",
        "",
        str,
        "`host:port` of a running spamd the worker asks after storing each mail (empty = none).",
    ),
    Setting(
        "SPAMD_TIMEOUT_SECONDS",
        10.0,
        float,
        "How long to wait for spamd before using the built-in filter instead.",
    ),
    Setting(
        "SPAM_MODEL_PATH",
        "",
        str,
        "The learned filter's model with staff's decisions (default `instance/spam-model.npz`; the shipped one until then).",
    ),
    Setting(
        "SPAM_KEEP_DAYS",
        30,
        int,
        "Suspected spam is kept on the Spam page this many days, then deleted.",
    ),
    Setting(
        "SPAM_CERTAIN_KEEP_DAYS",
        7,
        int,
        "Certain spam is kept (hidden) this many days, then deleted.",
    ),
    Setting(
        "SPAM_RELEASE_AUTOREPLY_HOURS",
        24.0,
        float,
        "Mail staff mark 'not spam' within this many hours of its arrival still gets its auto-reply.",
    ),
    Setting(
        "SPAM_MAINTENANCE_MINUTES",
        10.0,
        float,
        "How often `support run` purges old spam and retrains the filter on new staff decisions (0 = never).",
    ),
]
