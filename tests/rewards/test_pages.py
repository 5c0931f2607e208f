"""The store pages: a kid's store and requests, a parent's decisions and catalogue, htmx fragments and 422 forms."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.members.models import Member
from app.rewards.models import Redemption, Reward, SavingsGoal
from app.rewards.services import request_reward
from tests.html import first_element, one, text
from tests.html import select as elements
from tests.rewards.conftest import Household, make_reward


def _reward(in_family, household: Household, **fields: Any) -> uuid.UUID:  # noqa: ANN001
    with in_family(household.family) as ctx:
        reward = make_reward(ctx.session, **fields)
        ctx.session.commit()
        return reward.id


def _requested(in_family, household: Household, reward_id: uuid.UUID, rules_for) -> uuid.UUID:  # noqa: ANN001
    rules = rules_for(household.family)
    from app.db.bases import utcnow

    with in_family(household.family) as ctx:
        s = ctx.session
        redemption = request_reward(s, s.get(Member, household.kid_id), reward_id, rules, utcnow())
        s.commit()
        return redemption.id


def _text(response: Any) -> str:
    """What the page says: its visible text, whitespace squashed."""
    return text(response)


# --- the kid's store ---------------------------------------------------------------------------------------------

def test_the_kid_sees_what_they_can_afford_and_how_far_they_are(browser, household: Household,
                                                                in_family) -> None:  # noqa: ANN001
    _reward(in_family, household, name="Ice cream", cost=50)
    _reward(in_family, household, name="Bike", cost=400, icon="🚲")
    _reward(in_family, household, name="Hidden", cost=5, active=False)

    page = browser("kid").get("/rewards")

    assert page.status_code == 200
    text = _text(page)
    assert "100 points to spend" in text
    assert "You can afford it!" in text and "300 more points" in text
    assert elements(page, '[aria-label="Request Ice cream"]') and not elements(page, '[aria-label="Request Bike"]')
    assert "Save for Bike" in text and "Hidden" not in page.get_data(as_text=True)
    assert elements(page, '[hx-confirm="Spend 50 points on Ice cream?"]')
    assert elements(page, 'input[name="csrf_token"]') and elements(page, 'link[href*="/rewards.css?v="]')


def test_requesting_with_htmx_swaps_the_store_and_holds_the_points(browser, post, household: Household,
                                                                  in_family) -> None:  # noqa: ANN001
    reward_id = _reward(in_family, household, name="Ice cream", cost=30)
    kid = browser("kid")

    response = post(kid, f"/rewards/{reward_id}/request", htmx=True)

    assert response.status_code == 200
    text = _text(response)
    assert first_element(response).css_matches("section#reward-store")
    assert "70 points to spend" in text and "You asked for Ice cream" in text
    assert "Waiting for a parent" in text
    assert set(json.loads(response.headers["HX-Trigger"])) == {"pointsChanged"}
    with in_family(household.family) as ctx:
        assert ctx.session.get(Member, household.kid_id).available_points == 70


def test_a_refused_request_names_its_target_and_changes_nothing(browser, post, household: Household,
                                                                in_family) -> None:  # noqa: ANN001
    reward_id = _reward(in_family, household, name="Bike", cost=400)
    kid = browser("kid")

    response = post(kid, f"/rewards/{reward_id}/request", htmx=True)

    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#reward-store" and response.headers["HX-Reswap"] == "outerHTML"
    assert "Insufficient points" in _text(response)
    with in_family(household.family) as ctx:
        assert ctx.session.scalars(select(Redemption)).all() == []
    plain = post(kid, f"/rewards/{reward_id}/request")
    assert plain.status_code == 400 and "<html" in plain.get_data(as_text=True)


def test_without_javascript_a_request_redirects_back_to_the_store(browser, post, household: Household,
                                                                  in_family) -> None:  # noqa: ANN001
    reward_id = _reward(in_family, household, cost=10)
    response = post(browser("kid"), f"/rewards/{reward_id}/request")
    assert response.status_code == 303 and response.headers["Location"].endswith("/rewards")


def test_a_post_without_the_csrf_token_is_refused(browser, post, household: Household,  # noqa: ANN001
                                                  in_family) -> None:
    reward_id = _reward(in_family, household, cost=10)
    response = post(browser("kid"), f"/rewards/{reward_id}/request", csrf=False)
    assert response.status_code == 400
    with in_family(household.family) as ctx:
        assert ctx.session.scalars(select(Redemption)).all() == []


def test_saving_for_a_reward_shows_a_progress_bar(browser, post, household: Household,  # noqa: ANN001
                                                  in_family) -> None:
    bike = _reward(in_family, household, name="Bike", cost=400)
    kid = browser("kid")

    saving = post(kid, f"/rewards/{bike}/goal", htmx=True)
    text = _text(saving)

    assert "Saving for Bike" in text and one(saving, 'progress.goal-bar[max="100"][value="25"]')
    assert "300 to go" in text
    cleared = post(kid, "/rewards/goal/clear", htmx=True).get_data(as_text=True)
    assert "Saving for Bike" not in cleared
    with in_family(household.family) as ctx:
        assert ctx.session.scalars(select(SavingsGoal)).all() == []


@pytest.mark.parametrize("reward_id", ["not-an-id", str(uuid.uuid4())])
def test_saving_for_no_such_reward_says_so_and_pins_nothing(browser, post, household: Household,  # noqa: ANN001
                                                            in_family, reward_id: str) -> None:
    answer = post(browser("kid"), f"/rewards/{reward_id}/goal", htmx=True)

    assert "Reward not found" in _text(answer)
    with in_family(household.family) as ctx:
        assert ctx.session.scalars(select(SavingsGoal)).all() == []


# --- the parent's side -------------------------------------------------------------------------------------------

def test_the_parent_sees_requests_to_decide_and_the_catalogue(browser, household: Household, in_family,
                                                              rules_for) -> None:  # noqa: ANN001
    reward_id = _reward(in_family, household, name="Ice cream", cost=30, stock=3, max_per_week=2)
    _requested(in_family, household, reward_id, rules_for)

    page = browser("parent").get("/rewards")
    text = _text(page)

    assert "Waiting for you (1)" in text and "Maya: Ice cream" in text
    assert elements(page, '[aria-label="Approve: Ice cream for Maya"]') and "Reject…" in text
    assert "2 left" in text and "2× a week" in text and "Add a reward" in text


def test_approve_then_fulfil_with_htmx(browser, post, household: Household, in_family,  # noqa: ANN001
                                       rules_for) -> None:
    redemption_id = _requested(in_family, household, _reward(in_family, household, cost=30), rules_for)
    parent = browser("parent")

    approved = post(parent, f"/rewards/requests/{redemption_id}/approve", htmx=True)
    assert approved.status_code == 200 and "To hand over (1)" in _text(approved)
    assert first_element(approved).css_matches("section#reward-requests")
    # What happened is said in the page's status region (static/js/a11y.js): the list changes silently.
    assert json.loads(approved.headers["HX-Trigger"])["announce"]["message"] == "Approved: Ice cream for Maya"
    again = post(parent, f"/rewards/requests/{redemption_id}/approve", htmx=True)
    assert again.status_code == 400 and "Redemption is already approved" in _text(again)
    assert again.headers["HX-Retarget"] == "#reward-requests"
    fulfilled = post(parent, f"/rewards/requests/{redemption_id}/fulfil", htmx=True)
    assert fulfilled.status_code == 200 and "Handed over" in _text(fulfilled)  # the parent's words, not the kid's
    assert json.loads(fulfilled.headers["HX-Trigger"])["announce"]["message"] == "Handed over: Ice cream to Maya"
    with in_family(household.family) as ctx:
        assert ctx.session.get(Redemption, redemption_id).status == "fulfilled"


def test_one_step_approve_and_hand_over(browser, post, household: Household, in_family,  # noqa: ANN001
                                        rules_for) -> None:
    redemption_id = _requested(in_family, household, _reward(in_family, household, cost=30), rules_for)
    parent = browser("parent")
    waiting = _text(parent.get("/rewards"))
    assert "Waiting for your answer" in waiting and "Waiting for a parent" not in waiting

    done = post(parent, f"/rewards/requests/{redemption_id}/approve-and-fulfil", htmx=True)

    assert done.status_code == 200 and "Handed over" in _text(done) and "To hand over" not in _text(done)
    with in_family(household.family) as ctx:
        stored = ctx.session.get(Redemption, redemption_id)
        assert stored.status == "fulfilled" and stored.decided_at is not None
    again = post(parent, f"/rewards/requests/{redemption_id}/approve-and-fulfil", htmx=True)
    assert again.status_code == 400 and "already" in _text(again)


def test_reject_needs_a_reason_then_refunds(browser, post, household: Household, in_family,  # noqa: ANN001
                                            rules_for) -> None:
    redemption_id = _requested(in_family, household, _reward(in_family, household, cost=30), rules_for)
    parent = browser("parent")

    missing = post(parent, f"/rewards/requests/{redemption_id}/reject", {"reason": "  "}, htmx=True)

    assert missing.status_code == 422
    assert "Please give a reason" in _text(missing) and elements(missing, '[aria-invalid="true"]')
    with in_family(household.family) as ctx:
        assert ctx.session.get(Redemption, redemption_id).status == "pending"
    rejected = post(parent, f"/rewards/requests/{redemption_id}/reject", {"reason": "Bedtime"}, htmx=True)
    assert rejected.status_code == 200
    said = json.loads(rejected.headers["HX-Trigger"])["announce"]["message"]
    assert said == "Rejected: Ice cream for Maya. The points went back."
    with in_family(household.family) as ctx:
        assert ctx.session.get(Member, household.kid_id).available_points == 100
    kid_view = _text(browser("kid").get("/rewards"))
    assert "Not this time" in kid_view and "“Bedtime” · points given back" in kid_view


def test_another_familys_request_is_not_found(browser, post, household: Household, make_family,
                                              in_family) -> None:  # noqa: ANN001
    response = post(browser("parent"), f"/rewards/requests/{uuid.uuid4()}/approve", htmx=True)
    assert response.status_code == 404 and "Redemption not found" in _text(response)
    assert post(browser("parent"), "/rewards/requests/nope/approve").status_code == 404


def test_the_reward_form_adds_and_refuses_with_422(browser, post, household: Household,  # noqa: ANN001
                                                   in_family) -> None:
    parent = browser("parent")
    assert parent.get("/rewards/new").status_code == 200

    bad = post(parent, "/rewards/new", {"name": "Pizza night", "cost": "0", "icon": "🍕", "category": "treat",
                                        "availability": "always"})
    assert bad.status_code == 422
    assert "Cost must be between 1 and 10,000 points" in _text(bad) and elements(bad, 'input[value="Pizza night"]')

    good = post(parent, "/rewards/new", {"name": "Pizza night", "cost": "200", "icon": "🍕", "category": "treat",
                                         "stock": "", "max_per_week": "1", "availability": "weekdays",
                                         "available_weekdays": ["4", "5"], "requires_approval": "on"})
    assert good.status_code == 303
    with in_family(household.family) as ctx:
        reward = ctx.session.scalar(select(Reward))
        assert (reward.name, reward.cost, reward.available_weekdays, reward.requires_approval, reward.stock) == (
            "Pizza night", 200, [4, 5], True, None)
        reward_id = reward.id

    edit = parent.get(f"/rewards/{reward_id}/edit")
    assert edit.status_code == 200 and elements(edit, 'input[value="Pizza night"]')
    changed = post(parent, f"/rewards/{reward_id}/edit", {"name": "Pizza", "cost": "150", "icon": "🍕",
                                                          "category": "treat", "availability": "always",
                                                          "active_shown": "1", "active": "on"})
    assert changed.status_code == 303
    assert post(parent, f"/rewards/{reward_id}/archive").status_code == 303
    with in_family(household.family) as ctx:
        stored = ctx.session.get(Reward, reward_id)
        assert (stored.name, stored.cost, stored.requires_approval, stored.active) == ("Pizza", 150, False, False)
    assert "Pizza" in _text(parent.get("/rewards?archived=1"))
    assert post(parent, f"/rewards/{reward_id}/restore").status_code == 303


# --- who may open what -------------------------------------------------------------------------------------------

VISITORS = ("anonymous", "kid", "parent", "other_parent")
# (method, path, htmx?, expected status for anonymous, kid, parent, another family's parent). 302 and 401 (htmx)
# send a stranger to sign in; a parent opening the kid's fragment is sent to the page (302 too).
PAGES: list[tuple[str, str, bool, tuple[int, int, int, int]]] = [
    ("GET", "/rewards", False, (302, 200, 200, 302)),
    ("GET", "/rewards/panel", True, (401, 200, 302, 401)),
    ("GET", "/rewards/requests", True, (401, 403, 200, 401)),
    ("GET", "/rewards/new", False, (302, 403, 200, 302)),
    ("GET", "/rewards/{reward}/edit", False, (302, 403, 200, 302)),
    ("POST", "/rewards/new", False, (302, 403, 422, 302)),
    ("POST", "/rewards/{reward}/edit", False, (302, 403, 422, 302)),
    ("POST", "/rewards/{reward}/archive", False, (302, 403, 303, 302)),
    ("POST", "/rewards/{reward}/restore", False, (302, 403, 303, 302)),
    ("POST", "/rewards/{reward}/request", False, (302, 303, 403, 302)),
    ("POST", "/rewards/{reward}/goal", False, (302, 303, 403, 302)),
    ("POST", "/rewards/goal/clear", False, (302, 303, 403, 302)),
    ("POST", "/rewards/requests/{redemption}/approve", False, (302, 403, 303, 302)),
    ("POST", "/rewards/requests/{redemption}/reject", False, (302, 403, 422, 302)),
    ("POST", "/rewards/requests/{redemption}/fulfil", False, (302, 403, 400, 302)),
    ("POST", "/rewards/requests/{redemption}/approve-and-fulfil", False, (302, 403, 303, 302)),
    ("GET", "/rewards/{reward}/photo", False, (302, 404, 404, 302)),  # this reward has no photo
]
CASES = [pytest.param(method, path, htmx, who, expected[i], id=f"{method} {path} as {who}")
         for method, path, htmx, expected in PAGES for i, who in enumerate(VISITORS)]


@pytest.mark.parametrize("method, path, htmx, who, expected", CASES)
def test_page_access(browser, post, household: Household, in_family, rules_for, method: str, path: str,  # noqa: ANN001
                     htmx: bool, who: str, expected: int) -> None:
    reward_id = _reward(in_family, household, cost=10)
    redemption_id = _requested(in_family, household, reward_id, rules_for)
    client = browser(who)
    url = path.format(reward=reward_id, redemption=redemption_id)

    response = (client.get(url, headers={"HX-Request": "true"} if htmx else {}) if method == "GET"
                else post(client, url, htmx=htmx))

    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if who in ("anonymous", "other_parent"):
        assert "/login" in (response.headers.get("Location") or response.headers.get("HX-Redirect") or "")
    if expected >= 400 or who in ("anonymous", "other_parent"):
        with in_family(household.family) as ctx:
            s = ctx.session
            assert s.get(Reward, reward_id).active and s.get(Redemption, redemption_id).status == "pending"
            assert s.scalar(select(Redemption).where(Redemption.id != redemption_id)) is None
            assert s.scalars(select(SavingsGoal)).all() == []


def test_the_matrix_covers_every_rewards_page(app) -> None:  # noqa: ANN001
    adapter = app.url_map.bind(app.config["SERVER_NAME"], subdomain="some-family")
    some_id = "00000000-0000-0000-0000-000000000000"
    covered = {adapter.match(path.format(reward=some_id, redemption=some_id), method=method)[0]
               for method, path, _, _ in PAGES}
    assert covered == {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("rewards.")}


# --- the previous service's words and money values on the reward form (issue 10) ---------------------------------

def test_the_form_keeps_an_old_availability_word_and_edits_the_money_value(browser, post, household: Household,
                                                                           in_family, app) -> None:  # noqa: ANN001
    from tests.neighbour import fingerprint

    with in_family(household.family) as ctx:
        reward_id = make_reward(ctx.session, name="Sticker pack", cost=30, stock=10,
                                legacy_availability="limited").id
        ctx.session.commit()
    parent = browser("parent")
    form = {"name": "Stickers", "cost": "30", "icon": "🎁", "category": "item", "stock": "10",
            "availability": "always", "value": "7.50", "active_shown": "1", "active": "on"}
    page = parent.get(f"/rewards/{reward_id}/edit")
    assert "“limited”" in _text(page)
    assert post(parent, f"/rewards/{reward_id}/edit", form).status_code == 303
    with in_family(household.family) as ctx:
        stored = ctx.session.get(Reward, reward_id)
        assert (stored.name, stored.legacy_availability, stored.availability, stored.value_in_cents) == (
            "Stickers", "limited", "always", 750)
    assert "worth $7.50" in _text(parent.get("/rewards"))

    before = fingerprint(app, household.family)
    refused = post(parent, f"/rewards/{reward_id}/edit", {**form, "value": "lots"})
    assert refused.status_code == 422 and "Enter an amount like 2.50" in _text(refused)
    too_much = post(parent, f"/rewards/{reward_id}/edit", {**form, "value": "100000.01"})
    assert too_much.status_code == 422 and "value_in_cents must be between 0 and 10,000,000" in _text(too_much)
    assert fingerprint(app, household.family) == before

    weekdays = {**form, "availability": "weekdays", "available_weekdays": ["5"], "value": ""}
    assert post(parent, f"/rewards/{reward_id}/edit", weekdays).status_code == 303
    with in_family(household.family) as ctx:
        stored = ctx.session.get(Reward, reward_id)
        assert (stored.legacy_availability, stored.availability, stored.value_in_cents) == (None, "weekdays", None)
