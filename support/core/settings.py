"""Settings of the application core, the staff side and response targets (see support.core.config)."""

from support.core.config import Setting

SETTINGS = [
    Setting(
        "SECRET_KEY",
        None,
        str,
        "Signs sessions, links and Message-ID tokens. Required outside development; `support init` writes one.",
        secret=True,
    ),
    Setting(
        "DEVELOPMENT", False, bool, "Development mode: allows the insecure built-in secret key."
    ),
    Setting(
        "DATABASE_URL",
        None,
        str,
        "SQLAlchemy URL; SQLite in instance/ by default, or `postgresql+psycopg://user@host/db`.",
    ),
    Setting("HTTP_HOST", "127.0.0.1", str, "Address the web portal listens on."),
    Setting("HTTP_PORT", 8080, int, "Port of the web portal."),
    Setting("HTTP_THREADS", 8, int, "Web server threads (waitress) in `support run`."),
    Setting(
        "HTTP_CONNECTION_LIMIT",
        1000,
        int,
        "Open connections the web server (waitress) holds at once; more wait to be accepted.",
    ),
    Setting(
        "HTTP_CHANNEL_TIMEOUT",
        30,
        int,
        "Seconds a web connection may stay idle (a slow or silent client) before it is closed.",
    ),
    Setting(
        "HTTP_TRUSTED_PROXIES",
        0,
        int,
        "Reverse proxies in front of the web portal whose X-Forwarded-For/-Proto/-Host are "
        "believed (0 = none: the connection's address is the client's).",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        None,
        str,
        "Base URL used in links sent by mail; by default the portal's own address "
        "(HTTP_HOST:HTTP_PORT). Set it to the public address behind a reverse proxy.",
    ),
    Setting("COMPANY_NAME", "Lumen Home", str, "Company name shown on pages and in mail."),
    Setting(
        "COMPANY_NAME_ZH",
        "",
        str,
        "Company name on Chinese pages and in Chinese mail (empty: COMPANY_NAME).",
    ),
    Setting(
        "COMPANY_TIMEZONE",
        "Asia/Shanghai",
        str,
        "Time zone for due times shown to customers and staff and for the business calendar. An "
        "auto-reply and the follow page give the due time on the customer's own clock instead "
        'when their mail\'s Date header carries another offset ("18:53 (UTC-5)"; the page adds '
        "ours; +0000 in a mail counts as unknown, from the contact form's browser clock as UTC).",
    ),
    Setting(
        "DEFAULT_LANGUAGE",
        "zh",
        str,
        "UI language when the browser states no preference (`zh` or `en`).",
    ),
    Setting(
        "LOGIN_MAX_FAILURES",
        5,
        int,
        "Failed sign-ins from one IP address before each further attempt from it must wait.",
    ),
    Setting(
        "LOGIN_ACCOUNT_MAX_FAILURES",
        20,
        int,
        "Failed sign-ins for one account (from any address) before each further attempt waits.",
    ),
    Setting(
        "LOGIN_THROTTLE_SECONDS",
        2,
        int,
        "First wait once sign-ins are throttled; it doubles with every further failure.",
    ),
    Setting(
        "LOGIN_LOCKOUT_MINUTES",
        15,
        int,
        "Longest wait between throttled sign-in attempts (there is no hard lock).",
    ),
    Setting(
        "STAFF_SESSION_IDLE_MINUTES",
        480,
        int,
        "Staff are signed out after this long without a request.",
    ),
    Setting(
        "STAFF_INVITATION_HOURS",
        168,
        int,
        "Hours an invitation link (a new staff member chooses their password) works, once.",
    ),
    Setting(
        "STAFF_RESET_MINUTES",
        60,
        int,
        'Minutes a password-reset link ("Forgot your password?") works, once.',
    ),
    Setting(
        "STAFF_RESET_MAX_PER_HOUR",
        3,
        int,
        "Password-reset mails asked for one address in an hour; more ask nothing (the page "
        "answers the same).",
    ),
    Setting(
        "STAFF_RESET_CLIENT_MAX_PER_HOUR",
        10,
        int,
        "Password resets one client address (IPv6: its /64) may ask for in an hour.",
    ),
    Setting(
        "SESSION_COOKIE_SECURE",
        False,
        bool,
        "Send the session cookie over HTTPS only (turn on behind TLS).",
    ),
    Setting(
        "SLA_WARN_FRACTION",
        0.75,
        float,
        "Share of a response target after which a ticket is 'due soon' and warned "
        "(at least 30 minutes before its end, at most half of it).",
    ),
    Setting("SLA_CHECK_SECONDS", 60, int, "How often `support run` checks response targets."),
    Setting(
        "NOTIFY_MAX_PER_SENDER_HOUR",
        3,
        int,
        "New-ticket notifications per sender and department in an hour; later tickets are "
        "queued without one and listed in a digest (0 = no limit).",
    ),
    Setting(
        "NOTIFY_DIGEST_MINUTES",
        15,
        int,
        "Minutes after a sender's first un-notified new ticket that the digest listing them "
        "goes out (more arriving meanwhile join it).",
    ),
    Setting(
        "SLA_BUSINESS_CALENDAR",
        {},
        dict,
        'Business calendar (empty = calendar hours, 24x7): `{timezone, hours: {"mon-fri": "09:00-18:00"}, holidays: [...], working_days: [...]}`.',
    ),
    Setting(
        "SLA_TARGETS",
        {},
        dict,
        'Overrides of the default first-response/resolution targets per urgency level, in minutes: `{"5": {"first_response_minutes": 60}}`.',
    ),
    Setting(
        "SLA_TIER_TARGETS",
        {
            "key": {"*": {"first_response_minutes": 480}, "4": {"first_response_minutes": 120}},
            "vip": {"*": {"first_response_minutes": 240}, "4": {"first_response_minutes": 60}},
        },
        dict,
        "Response targets of key accounts per customer tier and urgency level (applied last; "
        "never longer than the ticket's other targets), in minutes, same shape as SLA_TARGETS.",
    ),
    Setting(
        "COMPLAINT_WORKING_DAYS",
        {"simple": 1, "general": 3},
        dict,
        "Working days (business calendar) within which a complaint of each complexity is "
        "answered; complex ones get progress reports instead (COMPLAINT_PROGRESS_DAYS).",
    ),
    Setting(
        "COMPLAINT_PROGRESS_DAYS",
        3,
        int,
        "A complex complaint's customer hears from us at least this often (working days) until "
        "it is resolved; staff are reminded with a progress-update text.",
    ),
    Setting(
        "COMPLAINT_DEFAULT_COMPLEXITY",
        "general",
        str,
        "Complexity of a complaint recognised in mail (staff change it on the ticket).",
    ),
    Setting(
        "PERIODIC_LEASE_SECONDS",
        40.0,
        float,
        "Periodic jobs (SLA checks, retraining, purges) and the reading of each IMAP mailbox run "
        "on one host at a time; a dead host's jobs move to another within this many seconds and "
        "a third more (holders renew, and others look, every third of it).",
    ),
    Setting(
        "MODEL_SYNC_SECONDS",
        20.0,
        float,
        "How often a process looks in the database for a classifier or spam model trained on "
        "another host (it switches to it atomically).",
    ),
    Setting("LOG_LEVEL", "INFO", str, "Logging level."),
    Setting(
        "LOG_MAIL_PROTOCOL_LEVEL",
        "",
        str,
        "Logging level of the IMAP and SMTP libraries; empty: imapclient at INFO and aiosmtpd "
        "at WARNING (LOG_LEVEL when higher), since at DEBUG they log whole messages.",
    ),
]
