"""The input layer: text no field can store is refused with a clear 4xx at the door, and typed fields parse strictly."""
from __future__ import annotations

import json
from urllib.parse import quote
from datetime import date, time

import pytest
from pydantic import BaseModel

from app.domain import ValidationFailed
from app.inputs import Input, LocalDate, LocalTime, MoneyCents, Points, Text, parse_input, text_problem
from tests.api.conftest import PARENT_PASSWORD, People

HOSTILE = ["\x00", "\ud800", "a\udfffb", "\x1b[31m", "\x7f", "name\x00with nul"]


def _raw_json(body: dict[str, object]) -> bytes:
    # json.dumps escapes lone surrogates as \ud800, exactly what a fuzzer sends on the wire.
    return json.dumps(body).encode()


@pytest.mark.parametrize("value", HOSTILE)
def test_api_login_refuses_unstorable_text_without_a_session(api, value: str) -> None:  # noqa: ANN001
    response = api.post("/api/auth/login", data=_raw_json({"username": value, "password": "x"}),
                        content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "Invalid request body" and "not allowed" in body["details"]


@pytest.mark.parametrize("value", HOSTILE)
def test_family_login_form_refuses_unstorable_text(api, value: str) -> None:  # noqa: ANN001
    # Sent as a fuzzer would: the raw bytes percent-encoded (a lone surrogate is invalid UTF-8 on the wire).
    raw = "username=" + quote(value.encode("utf-8", "surrogatepass")) + "&password=x"
    response = api.post("/login", data=raw, content_type="application/x-www-form-urlencoded")
    assert 400 <= response.status_code < 500
    if "\x00" in value or "\x1b" in value or "\x7f" in value:
        assert response.status_code == 400 and b"not allowed" in response.data


def test_a_hostile_key_in_a_json_body_or_query_is_refused(api, people: People) -> None:  # noqa: ANN001
    token = api.post("/api/auth/login", json={"username": "mom", "password": PARENT_PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = api.put("/api/settings/auto_approve", data=_raw_json({"value": True, "\ud800": 1}),
                   content_type="application/json", headers=headers)
    assert body.status_code == 400
    query = api.get("/api/chores?category=%00", headers=headers)
    assert query.status_code == 400
    url = api.put("/api/settings/auto%00approve", json={"value": True}, headers=headers)
    assert url.status_code in (400, 404)
    assert api.get("/api/settings/auto_approve", headers=headers).get_json()["value"] is False


def test_newlines_and_tabs_pass_the_door_in_long_text() -> None:
    assert text_problem("line one\n\tline two", multiline=True) is None
    assert text_problem("line one\nline two") == "contains a control character"


class _Sample(Input):
    name: Text(20, min_length=1)  # type: ignore[valid-type]
    points: Points = 0
    price: MoneyCents = 0
    when: LocalTime | None = None
    day: LocalDate | None = None


def test_typed_fields_normalise_and_refuse() -> None:
    sample = parse_input(_Sample, {"name": "  Cafe\u0301 ", "points": "15", "when": "18:30", "day": "2026-03-14",
                                   "extra": "ignored"})
    assert sample.name == "Café" and sample.points == 15
    assert sample.when == time(18, 30) and sample.day == date(2026, 3, 14)
    for bad, field in [({"name": ""}, "name"), ({"name": "x" * 21}, "name"), ({"name": 5}, "name"),
                       ({"name": "a\x00"}, "name"), ({"name": "ok", "points": "1.5"}, "points"),
                       ({"name": "ok", "points": True}, "points"), ({"name": "ok", "points": "١٢"}, "points"),
                       ({"name": "ok", "points": 10**9}, "points"), ({"name": "ok", "price": -1}, "price"),
                       ({"name": "ok", "when": "11:11:11" + "x" * 90}, "when"),
                       ({"name": "ok", "when": "٠٩:٣٠"}, "when"),
                       ({"name": "ok", "day": "2026-02-30"}, "day"), ({"name": "ok", "day": "14/03/2026"}, "day")]:
        with pytest.raises(ValidationFailed) as refused:
            parse_input(_Sample, bad)
        assert field in refused.value.fields, (bad, refused.value.fields)
    with pytest.raises(ValidationFailed):
        parse_input(_Sample, None)
    assert isinstance(_Sample, type) and issubclass(_Sample, BaseModel)
