"""Log levels: LOG_LEVEL for the application, and floors for the mail protocol libraries.

At DEBUG, imapclient (and imaplib through it) writes every line of the IMAP conversation and
aiosmtpd every line of SMTP DATA: whole customers' messages in the logs. LOG_LEVEL=DEBUG is
for debugging our code, so those loggers keep their floor (or LOG_LEVEL when higher) unless
LOG_MAIL_PROTOCOL_LEVEL asks for their lines.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

#: Each library's logger and its floor: aiosmtpd ("mail.log") says at INFO what our own line
#: per message says better, with a line per connection besides.
MAIL_PROTOCOL_LOGGERS = {"imapclient": logging.INFO, "mail.log": logging.WARNING}


def apply_log_levels(config: Mapping[str, Any]) -> None:
    """Set the root logger to LOG_LEVEL and the mail protocol loggers as described above."""
    root = logging.getLogger()
    root.setLevel(config["LOG_LEVEL"])
    chosen = str(config.get("LOG_MAIL_PROTOCOL_LEVEL") or "").strip().upper()
    for name, floor in MAIL_PROTOCOL_LOGGERS.items():
        logging.getLogger(name).setLevel(chosen or max(floor, root.level))
