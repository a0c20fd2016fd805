"""Reference data every installation needs (departments, urgency levels) and the first admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.core.addresses import deliverable_address
from support.core.passwords import hash_password
from support.desk.models import ROLES, Department, UrgencyLevel, User


@dataclass(frozen=True)
class DepartmentSeed:
    code: str
    name: str
    name_zh: str
    local_part: str
    description: str


DEFAULT_DEPARTMENTS = (
    DepartmentSeed(
        "sales", "Sales", "销售部", "sales", "Prices, supply, product information, stock."
    ),
    DepartmentSeed(
        "service",
        "Customer Service",
        "客户服务部",
        "service",
        "Product suggestions, faults, returns and repairs, delivery, service policies.",
    ),
    DepartmentSeed(
        "pr",
        "Public Relations",
        "公共关系部",
        "pr",
        "Press, analysts, sponsors, community news, investor relations.",
    ),
    DepartmentSeed("hr", "Human Resources", "人力资源部", "jobs", "CVs and interview requests."),
    DepartmentSeed(
        "finance",
        "Finance",
        "财务部",
        "finance",
        "Payables, receivables, invoices, financial statements.",
    ),
)

# level, code, name, name_zh, first response minutes, resolution minutes, description
DEFAULT_URGENCY_LEVELS = (
    (
        1,
        "suggestion",
        "Suggestion or praise",
        "建议或表扬",
        24 * 60,
        5 * 24 * 60,
        "Thank the customer; pass the idea on.",
    ),
    (
        2,
        "normal",
        "Normal",
        "一般",
        24 * 60,
        3 * 24 * 60,
        "First in, first out; answer within 24 hours.",
    ),
    (
        3,
        "special",
        "Special problem",
        "特殊问题",
        24 * 60,
        5 * 24 * 60,
        "Needs a specialist department.",
    ),
    (
        4,
        "important",
        "Important",
        "重要",
        4 * 60,
        2 * 24 * 60,
        "Complaints, repeated reports, money at stake.",
    ),
    (5, "emergency", "Emergency", "紧急", 60, 24 * 60, "Outages, safety, legal threats: act now."),
)


def seed_reference_data(session: Session, *, mail_domain: str = "example.com") -> None:
    """Create the default departments and urgency levels; leaves existing rows alone."""
    existing_levels = {u.level for u in session.scalars(select(UrgencyLevel))}
    for level, code, name, name_zh, first, resolution, description in DEFAULT_URGENCY_LEVELS:
        if level not in existing_levels:
            session.add(
                UrgencyLevel(
                    level=level,
                    code=code,
                    name=name,
                    name_zh=name_zh,
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                    description=description,
                )
            )
    existing_departments = set(session.scalars(select(Department.code)))
    for seed in DEFAULT_DEPARTMENTS:
        if seed.code not in existing_departments:
            session.add(
                Department(
                    code=seed.code,
                    name=seed.name,
                    name_zh=seed.name_zh,
                    email_address=f"{seed.local_part}@{mail_domain}",
                    display_name=f"{seed.name}",
                    description=seed.description,
                )
            )
    session.flush()


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None = None,
    role: str = "agent",
    department_codes: tuple[str, ...] = (),
    can_triage: bool = False,
    language: str | None = None,
) -> tuple[User, str]:
    """Create a staff account; returns it and the password (generated when not given)."""

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if deliverable_address(email) is None:  # else an account no mail reaches nor sign-in takes
        raise ValueError(f"{email!r} is not a mail address")
    if session.scalar(select(User).where(User.email == email)):
        raise ValueError(f"a user with address {email} exists already")
    password = password or secrets.token_urlsafe(12)
    departments = []
    for code in department_codes:
        department = session.scalar(select(Department).where(Department.code == code))
        if department is None:
            known = session.execute(
                select(Department.code, Department.name).order_by(Department.code)
            )
            raise ValueError(
                f"unknown department {code!r}; the departments: "
                + ", ".join(f"{known_code} ({name})" for known_code, name in known)
            )
        departments.append(department)
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        can_triage=can_triage or role in ("lead", "admin"),
        departments=departments,
        language=language,
    )
    session.add(user)
    session.flush()
    return user, password
