"""How a staff member's name reads on pages and in notices.

`support init` names a first admin given no name ``UNNAMED_ADMIN`` ("Administrator"): a role,
not a person's name, so it is said in the reader's language (管理员 on a Chinese page or
notice), never shown as stored. Every other name is the person's and is shown as written.
"""

from __future__ import annotations

from flask_babel import gettext as _

from support.desk.models import UNNAMED_ADMIN


def staff_name(name: str | None) -> str:
    """``name`` as the reader sees it: the unnamed admin's placeholder in their language."""
    if (name or "").strip() == UNNAMED_ADMIN:
        return _("Administrator")
    return name or ""
