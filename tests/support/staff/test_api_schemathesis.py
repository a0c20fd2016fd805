"""The API against its own OpenAPI document with schemathesis: no input makes it answer 500.

Valid (positive) and invalid (negative) requests are generated from the document for every
operation, with a real ticket id and with generated ones. Skipped when schemathesis is not
installed (it is not a dependency of the project); it runs offline, in process (WSGI).
"""

from __future__ import annotations

import pytest

from support.auth import issue_api_token
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import fast_passwords

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
EXAMPLES = 25


def test_no_generated_request_is_a_server_error(app, session) -> None:
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
                kwargs = {"path_parameters": {"ticket_id": ticket.id}} if fixed_id else {}
                strategy = operation.as_strategy(generation_mode=mode, **kwargs)

                @hypothesis.settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(hypothesis.HealthCheck),
                )
                @hypothesis.given(case=strategy)
                def check(case) -> None:
                    nonlocal calls
                    calls += 1
                    response = case.call(headers=headers)
                    if response.status_code >= 500:
                        errors.append(
                            f"{response.status_code} {case.method} {case.formatted_path} "
                            f"query={case.query!r} body={getattr(case, 'body', None)!r}"
                        )

                check()
                session.rollback()
    assert calls > 100
    assert errors == []
