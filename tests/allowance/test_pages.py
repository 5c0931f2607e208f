"""Allowance pages: per-kid cards with convert, pay and weekly forms (htmx, 422), statements, who may open them."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.allowance.models import AllowanceSchedule, Payout
from app.members.models import Member
from tests.rewards.conftest import Household


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_parent_sees_each_kids_points_and_worth(browser, household: Household) -> None:  # noqa: ANN001
    text = _text(browser("parent").get("/allowance"))

    assert "100 points = $1.00" in text
    assert 'id="money-' + str(household.kid_id) + '"' in text and 'id="money-' + str(household.sibling_id) + '"' in text
    assert "Maya" in text and "Leo" in text and "Mum</h2>" not in text
    assert "<dd>$1.00</dd>" in text  # Maya's 100 points
    assert "Convert points" in text and "Pay allowance" in text and "Weekly allowance" in text


def test_converting_points_swaps_the_card(browser, post, household: Household, in_family) -> None:  # noqa: ANN001
    response = post(browser("parent"), f"/allowance/kids/{household.kid_id}/convert",
                    {"points": "40", "method": "cash", "note": "Ice cream money"}, htmx=True)

    assert response.status_code == 200
    text = _text(response)
    assert text.lstrip().startswith(f'<section id="money-{household.kid_id}"')
    assert "Converted 40 points to $0.40." in text and "<dd data-balance>60</dd>" in text
    assert "pointsChanged" in response.headers["HX-Trigger"]
    with in_family(household.family) as ctx:
        assert ctx.session.scalar(select(Payout.amount_cents)) == 40


@pytest.mark.parametrize("path, data, message", [
    ("convert", {"points": "500"}, "Insufficient points"),
    ("convert", {"points": "abc"}, "points must be a whole number"),
    ("pay", {"amount": "lots"}, "Enter an amount like 2.50"),
    ("pay", {"amount": "0"}, "The amount must be between 0.01 and 10,000.00"),
    ("schedule", {"mode": "fixed_amount", "payday": "4", "amount": ""}, "Enter an amount like 2.50"),
    ("schedule", {"mode": "weekly", "payday": "4", "amount": "5"}, "mode must be one of"),
    ("schedule", {"mode": "fixed_amount", "payday": "9", "amount": "5"}, "payday must be a weekday"),
])
def test_invalid_forms_come_back_with_422_and_nothing_is_kept(browser, post, household: Household, in_family,
                                                              path: str, data: dict[str, str],
                                                              message: str) -> None:  # noqa: ANN001
    response = post(browser("parent"), f"/allowance/kids/{household.kid_id}/{path}", data, htmx=True)

    assert response.status_code == 422
    assert message in _text(response) and 'aria-invalid="true"' in _text(response) or message in _text(response)
    assert response.headers["HX-Retarget"] == f"#money-{household.kid_id}"
    with in_family(household.family) as ctx:
        s = ctx.session
        assert s.scalar(select(func.count()).select_from(Payout)) == 0
        assert s.scalar(select(func.count()).select_from(AllowanceSchedule)) == 0
        assert s.get(Member, household.kid_id).available_points == 100


def test_paying_allowance_and_setting_the_weekly_schedule(browser, post, household: Household,
                                                          in_family) -> None:  # noqa: ANN001
    parent = browser("parent")
    paid = post(parent, f"/allowance/kids/{household.kid_id}/pay", {"amount": "2.50", "method": "cash"}, htmx=True)
    assert paid.status_code == 200 and "Paid $2.50." in _text(paid)
    saved = post(parent, f"/allowance/kids/{household.kid_id}/schedule",
                 {"mode": "fixed_amount", "payday": "5", "amount": "3", "active": "on"}, htmx=True)
    assert saved.status_code == 200 and "Saturdays: $3.00" in _text(saved)
    with in_family(household.family) as ctx:
        schedule = ctx.session.scalar(select(AllowanceSchedule))
        assert (schedule.mode, schedule.payday, schedule.amount_cents, schedule.active) == ("fixed_amount", 5, 300,
                                                                                            True)
    plain = post(parent, f"/allowance/kids/{household.kid_id}/pay", {"amount": "1"})
    assert plain.status_code == 303


def test_statements_for_the_parent_and_the_kid(browser, post, household: Household) -> None:  # noqa: ANN001
    parent = browser("parent")
    post(parent, f"/allowance/kids/{household.kid_id}/convert", {"points": "30"})
    post(parent, f"/allowance/kids/{household.kid_id}/pay", {"amount": "1.00"})

    full = _text(parent.get(f"/allowance/kids/{household.kid_id}"))
    mine = _text(browser("kid").get("/allowance/me"))

    for text in (full, mine):
        assert "Points converted" in text and "Allowance" in text and "−30" in text
        assert 'data-label="Total">$1.30</td>' in text and 'data-label="Total">$0.30</td>' in text
    assert "My money" in mine
    assert browser("parent").get("/allowance/me").status_code == 302


VISITORS = ("anonymous", "kid", "parent", "other_parent")
# (method, path, htmx?, expected for anonymous, kid, parent, another family's parent); 302/401 mean "sign in".
PAGES: list[tuple[str, str, bool, tuple[int, int, int, int]]] = [
    ("GET", "/allowance", False, (302, 403, 200, 302)),
    ("GET", "/allowance/kids/{kid}", False, (302, 403, 200, 302)),
    ("GET", "/allowance/kids/{kid}/card", True, (401, 403, 200, 401)),
    ("GET", "/allowance/me", False, (302, 200, 302, 302)),
    ("GET", "/allowance/kids/{parent}", False, (302, 403, 404, 302)),
    ("POST", "/allowance/kids/{kid}/convert", False, (302, 403, 303, 302)),
    ("POST", "/allowance/kids/{kid}/pay", False, (302, 403, 303, 302)),
    ("POST", "/allowance/kids/{kid}/schedule", False, (302, 403, 303, 302)),
]
CASES = [pytest.param(method, path, htmx, who, expected[i], id=f"{method} {path} as {who}")
         for method, path, htmx, expected in PAGES for i, who in enumerate(VISITORS)]
FORMS = {"convert": {"points": "10"}, "pay": {"amount": "1"}, "schedule": {"mode": "fixed_amount", "payday": "4",
                                                                           "amount": "2", "active": "on"}}


@pytest.mark.parametrize("method, path, htmx, who, expected", CASES)
def test_page_access(browser, post, household: Household, in_family, method: str, path: str, htmx: bool,  # noqa: ANN001
                     who: str, expected: int) -> None:
    client = browser(who)
    url = path.format(kid=household.kid_id, parent=household.parent_id)
    data = FORMS.get(url.rsplit("/", 1)[-1])

    response = (client.get(url, headers={"HX-Request": "true"} if htmx else {}) if method == "GET"
                else post(client, url, data))

    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if who in ("anonymous", "other_parent"):
        assert "/login" in (response.headers.get("Location") or response.headers.get("HX-Redirect") or "")
    if expected != 303:
        with in_family(household.family) as ctx:
            assert ctx.session.scalar(select(func.count()).select_from(Payout)) == 0
            assert ctx.session.scalar(select(func.count()).select_from(AllowanceSchedule)) == 0


def test_the_matrix_covers_every_allowance_page(app) -> None:  # noqa: ANN001
    adapter = app.url_map.bind(app.config["SERVER_NAME"], subdomain="some-family")
    some_id = "00000000-0000-0000-0000-000000000000"
    covered = {adapter.match(path.format(kid=some_id, parent=some_id), method=method)[0]
               for method, path, _, _ in PAGES}
    assert covered == {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("allowance.")}
