"""TLS client contexts for the mail servers we connect to (IMAP mailboxes, the SMTP relay).

A company's own mail server often has a certificate from its own CA or a self-signed one.
Such a server is trusted by naming its certificate (or CA) file in the setting, on top of the
system's CAs; verification itself is never switched off, so the password never goes to a
server whose certificate does not verify.
"""

from __future__ import annotations

import ssl
from pathlib import Path


def check_ca_file(value: object, setting: str) -> str | None:
    """``value`` as a readable CA file path, None when empty; a clear error naming ``setting``
    when the file is missing (at start-up, not at the first connection an hour later)."""
    if value is None or str(value).strip() == "":
        return None
    path = Path(str(value).strip()).expanduser()
    if not path.is_file():
        raise ValueError(f"{setting}: no certificate file at {path}")
    return str(path)


def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The system's CAs, plus those in ``ca_file`` (PEM) when given; hosts are verified."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context
