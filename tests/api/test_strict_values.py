"""Odd values the outside attacker tried (issue 12): digits of other scripts, values longer than their format and
invisible direction or line characters in names are refused with a clear 4xx, never read or cut to fit."""
from __future__ import annotations

from datetime import date

import pytest

from app.inputs import ascii_date, ascii_int, ascii_month, text_problem
from tests.api.conftest import People

OTHER_DIGITS = ["٣", "۵", "５", "²", "১", "1_000"]  # Arabic-Indic, Persian, fullwidth, superscript, Bengali, grouped


@pytest.mark.parametrize("text", OTHER_DIGITS)
def test_numbers_are_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError):
        ascii_int(text)
    with pytest.raises(ValueError):
        ascii_month(f"2026-{text}")
    with pytest.raises(ValueError):
        ascii_date(f"2026-01-0{text}")


@pytest.mark.parametrize("text", ["2026-03-14" + "x" * 90, "2026-03-14T10:00:00Z",
                                  "2026-03-14T00:00:00Z" + "0" * 80])
def test_dates_are_never_cut_to_fit(text: str) -> None:
    with pytest.raises(ValueError):
        ascii_date(text, midnight_instant=True)


def test_the_old_services_midnight_instant_is_still_a_date() -> None:
    assert ascii_date("2010-05-01T00:00:00Z", midnight_instant=True) == date(2010, 5, 1)
    with pytest.raises(ValueError):
        ascii_date("2010-05-01T00:00:00Z")


@pytest.mark.parametrize("name", ["Bob\u202eelgoog", "Bob\u2066x", "Bob\u2028Smith", "Bob\u2029", "Bob\x07"])
def test_names_refuse_direction_overrides_and_line_breaks(name: str) -> None:
    assert text_problem(name) is not None


def test_emoji_joiners_and_right_to_left_names_are_welcome() -> None:
    for name in ("👨‍👩‍👧 Family", "مريم", "Zoë", "line one\nline two"):
        assert text_problem(name, multiline=True) is None


@pytest.mark.parametrize("value", ["١٨", "１８", "18 hours", "18" + "0" * 100])
def test_a_setting_number_in_other_digits_is_refused(api, people: People, value: str) -> None:  # noqa: ANN001
    parent = people.headers(people.parent)
    before = api.get("/api/settings", headers=parent).get_json()
    response = api.put("/api/settings/digest_hour", json={"value": value}, headers=parent)
    assert response.status_code == 400 and "digest hour" in response.get_json()["error"]
    assert api.get("/api/settings", headers=parent).get_json() == before


@pytest.mark.parametrize("value", ["١٠", "１０", "10 ", "1e1"])
def test_query_numbers_in_other_digits_are_refused(api, people: People, value: str) -> None:  # noqa: ANN001
    response = api.get("/api/assignments", query_string={"limit": value}, headers=people.headers(people.parent))
    if value == "10 ":
        assert response.status_code == 200  # surrounding spaces are not a different number
    else:
        assert response.status_code == 400 and "limit" in response.get_json()["error"]


@pytest.mark.parametrize("name", ["Bob\u202eelgoog", "Bob\u2028Smith", "Bob\x1b[31m"])
def test_a_member_name_with_hidden_characters_is_refused(api, people: People, load_member,  # noqa: ANN001
                                                         name: str) -> None:
    parent = people.headers(people.parent)
    created = api.post("/api/users", json={"username": "hidden", "display_name": name}, headers=parent)
    renamed = api.put(f"/api/users/{people.kid.id}", json={"display_name": name}, headers=parent)
    assert created.status_code == 400 and renamed.status_code == 400
    assert load_member(people.kid.id).display_name == people.kid.display_name


@pytest.mark.parametrize("month", ["٢٠٢٦-١٢", "２０２６-１２", "2026-12" + "1" * 50])
def test_a_calendar_month_in_other_digits_is_refused(client_for, people: People, month: str) -> None:  # noqa: ANN001
    browser = client_for(people.family)
    people.auth.sign_in(browser, people.parent, people.family)
    response = browser.get("/calendar", query_string={"month": month})
    assert response.status_code == 400 and "Months look like 2026-12" in response.get_data(as_text=True)
