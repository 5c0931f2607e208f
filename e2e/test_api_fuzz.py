"""Schemathesis against the live server: generated requests to every /api operation never get a 5xx, and every answer
has the shape /api/openapi.json documents for its status."""
from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from e2e.conftest import LiveServer

# Not fuzzed: sign-in is rate-limited per address and counts failures toward a lockout (tests/api covers it), and
# the document and its page describe the API rather than act in it.
SKIPPED = {("POST", "/api/auth/login"), ("GET", "/api/openapi.json"), ("GET", "/api/docs")}
# Examples per operation and caller; operations with few distinct inputs stop earlier (hypothesis dedupes).
RUNS = (("parent", GenerationMode.POSITIVE, 8), ("parent", GenerationMode.NEGATIVE, 4),
        ("kid", GenerationMode.POSITIVE, 4))
KID_PASSWORD = "fuzzing kid password"


def _token(session: requests.Session, base: str, username: str, password: str) -> str:
    response = session.post(f"{base}/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _path_names(path: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", path))


def _real_ids(session: requests.Session, base: str, parent: dict[str, str], kid_id: str) -> dict[str, str]:
    """Ids of real demo rows, by the path parameter names the API uses."""
    def made(path: str, body: dict[str, Any]) -> str:
        response = session.post(f"{base}{path}", headers=parent, json=body)
        assert response.status_code == 201, (path, response.text)
        return str(response.json()["id"])
    chores = session.get(f"{base}/api/chores", headers=parent).json()["chores"]
    chore_id = str(chores[0]["id"])
    return {"user_id": kid_id, "child_id": kid_id, "chore_id": chore_id,
            "reward_id": made("/api/rewards", {"name": "Film night", "cost_points": 50, "category": "treats"}),
            "assignment_id": made("/api/assignments", {"chore_id": chore_id, "assigned_to": kid_id})}


def test_generated_requests_get_no_server_error_and_match_the_document(live_server: LiveServer) -> None:
    base = f"http://127.0.0.1:{live_server.port}"
    host = {"Host": f"demo.localhost:{live_server.port}"}
    session = requests.Session()
    session.headers.update(host)
    parent_token = _token(session, base, "alex", "demo-parent-1")
    parent = {"Authorization": f"Bearer {parent_token}"}
    # The demo's kids sign in with a PIN on the tablet; give Maya a password so she can have a token too.
    maya = next(u for u in session.get(f"{base}/api/users", headers=parent).json()["users"] if u["username"] == "maya")
    assert session.put(f"{base}/api/users/{maya['id']}", headers=parent,
                       json={"password": KID_PASSWORD}).status_code == 200
    tokens = {"parent": parent, "kid": {"Authorization": f"Bearer {_token(session, base, 'maya', KID_PASSWORD)}"}}

    document = session.get(f"{base}/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in SKIPPED]
    assert len(operations) > 80

    cases = 0
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    started = time.monotonic()

    def run(operation: Any, headers: dict[str, str], mode: GenerationMode, examples: int,
            known: dict[str, str] | None = None) -> None:
        nonlocal cases

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known))
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def one(case: Any) -> None:
            nonlocal cases
            cases += 1
            response = case.call(base_url=base, session=session, headers={**host, **headers})
            statuses[response.status_code] += 1
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance],
                                   headers={**host, **headers})

        try:
            one()
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameters, no body): the positive runs cover the operation
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - every failure is collected, then reported
            failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {error}"[:1500])

    # Random ids mostly meet "not found"; a second pass fills the path with the demo's real rows (deletions left
    # out, so the rows stay for the rest of the run).
    known = _real_ids(session, base, parent, maya["id"])
    plan: list[tuple[Any, dict[str, str], GenerationMode, int, dict[str, str] | None]] = [
        (operation, tokens[who], mode, examples, None) for who, mode, examples in RUNS for operation in operations]
    plan += [(operation, tokens[who], GenerationMode.POSITIVE, 6, known) for who in ("kid", "parent")
             for operation in operations
             if operation.method.upper() != "DELETE" and _path_names(operation.path) and
             _path_names(operation.path) <= set(known)]
    for operation, headers, mode, examples, ids in plan:
        run(operation, headers, mode, examples, ids and {name: ids[name] for name in _path_names(operation.path)})

    print(f"schemathesis: {cases} cases over {len(operations)} operations in {time.monotonic() - started:.1f}s; "
          f"statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert cases >= 1000
