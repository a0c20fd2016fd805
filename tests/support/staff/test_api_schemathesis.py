"""The API against its own OpenAPI document with schemathesis: no input makes it answer 500,
and every error it answers has the one shape (support.core.json_errors).

Valid (positive) and invalid (negative) requests are generated from the document for every
operation, with a real ticket id and with generated ones. Skipped when schemathesis is not
installed (it is not a dependency of the project); it runs offline, in process (WSGI).
"""

from __future__ import annotations

from typing import Any

import pytest

from support.auth import issue_api_token
from tests.factories import make_ticket, make_user

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

EXAMPLES = 15


@pytest.fixture(scope="module")
def generated_cases() -> dict[tuple[str, str, bool], list[Any]]:
    """The requests generated for each operation, mode and id kind, kept for the module's other
    backend: derandomized, they are the same requests each time, and generating them (about
    580, almost all of it in schemathesis's strategies) cost 25 s of CPU a backend."""
    return {}


def test_no_generated_request_is_a_server_error(app, session, generated_cases) -> None:
    from schemathesis.generation.modes import GenerationMode

    agent = make_user(session, email="agent@example.com")
    token = issue_api_token(session, agent)
    ticket = make_ticket(session)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    errors: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        with_id = "{ticket_id}" in operation.path
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for fixed_id in (True, False) if with_id else (False,):
                key = (operation.label, mode.value, fixed_id)
                if key not in generated_cases:
                    fixed = ticket.id if fixed_id else None
                    generated_cases[key] = _generate(operation, mode, fixed)
                for case in generated_cases[key]:
                    if fixed_id:  # this backend's ticket (the same id after the clean-up)
                        case.path_parameters["ticket_id"] = ticket.id
                    calls += 1
                    response = case.call(headers=headers, app=app)
                    request = (
                        f"{case.method} {case.formatted_path} "
                        f"query={case.query!r} body={getattr(case, 'body', None)!r}"
                    )
                    if response.status_code >= 500:
                        errors.append(f"{response.status_code} {request}")
                    elif response.status_code >= 400 and not _one_error_shape(response.json()):
                        errors.append(f"{response.status_code} not the one shape: {request}")
                session.rollback()
    assert calls > 100
    assert errors == []


def _generate(operation: Any, mode: Any, ticket_id: int | None) -> list[Any]:
    """EXAMPLES derandomized requests of the operation in the mode, with the ticket id given."""
    kwargs = {"path_parameters": {"ticket_id": ticket_id}} if ticket_id is not None else {}
    strategy = operation.as_strategy(generation_mode=mode, **kwargs)
    cases: list[Any] = []

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def collect(case) -> None:
        cases.append(case)

    collect()
    return cases


def _one_error_shape(body: Any) -> bool:
    """`error` and `message` strings, `error` a fixed phrase or code (no spaces but a reason
    phrase's, no quotes: nothing of the request's)."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("message"), str)
        and bool(body["message"])
        and all(c.isalnum() or c in " _" for c in body["error"])
    )
