"""The daily digest email and the schedule sentences speak the reader's language, days and dates in its words;
the JSON API's schedule sentence stays English."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from babel.dates import format_date, get_day_names
from babel.lists import format_list
from sqlalchemy import select

from app.chores.models import Chore, ChoreSchedule
from app.chores.schedules import ScheduleSpec, describe
from app.family_rules import FamilyRules
from app.family_time import FamilyClock
from app.members.models import FamilySetting, Member
from app.notifications.delivery import SendSettings, email_body
from app.notifications.scheduled import queue_daily_digests
from app.rewards.models import Redemption, Reward
from tests.factories import create_chore, create_reward
from tests.forms import HTMX, post_form
from tests.html import parse, squash
from tests.notifications.conftest import deliveries_of, make_assignment

UTC_RULES = FamilyRules(clock=FamilyClock("UTC"))
ENGLISH_DIGEST = re.compile(r"\b(Here|Waiting|approval|Chores|done|missed|none|Rewards|requested|waiting for you|"
                            r"Someone|Open it|You get this email|family's day)\b")


@pytest.fixture
def spanish_family(family, create_member, in_family):  # noqa: ANN001, ANN201
    """A family whose default language is Spanish: Mamá follows it, Dad chose English."""
    mama = create_member(role="parent", username="mama", display_name="Mamá", email="mama@example.test")
    dad = create_member(role="parent", username="dad", display_name="Dad", email="dad@example.test", language="en")
    kid = create_member(username="lucia", display_name="Lucía")
    with in_family(family) as ctx:
        ctx.session.add(FamilySetting(key="language", value="es", is_private=False))
        ctx.session.commit()
    return mama, dad, kid


def test_the_digest_is_written_in_each_parents_language(app, family, in_family, spanish_family) -> None:  # noqa: ANN001
    mama, dad, kid = spanish_family
    now = datetime.now(timezone.utc).replace(hour=19, minute=0, second=0, microsecond=0)
    with in_family(family) as ctx:
        lucia = ctx.session.get(Member, kid.id)
        make_assignment(ctx.session, lucia, name="Platos", status="pending_verification")
        done = make_assignment(ctx.session, lucia, name="Cama", status="verified")
        done.completed_at = now - timedelta(hours=2)
        reward = Reward(name="Helado", cost=50)
        ctx.session.add(reward)
        ctx.session.flush()
        ctx.session.add(Redemption(reward_id=reward.id, member_id=kid.id, points_spent=50, status="pending",
                                   requested_at=now - timedelta(hours=1)))
        ctx.session.commit()
        assert queue_daily_digests(ctx.session, UTC_RULES, now) == 2
        ctx.session.commit()
        digests = {d.recipient: d for d in deliveries_of(ctx.session, event="daily_digest")}
    settings = SendSettings.from_config(app.config)
    spanish, english = digests["mama@example.test"], digests["dad@example.test"]

    day = format_date(now.date(), "EEE d MMM", locale="es")
    assert spanish.subject == f"HousePoints: el día de tu familia, {day}"
    body = email_body(spanish, family.slug, settings)
    for line in ("Así fue el último día.", "Esperando tu aprobación (1):", "  • Lucía — Platos",
                 "Tareas hechas: Lucía 1", "Tareas sin hacer: ninguna", "Premios pedidos (1):",
                 "  • Lucía — Helado (esperándote)", "Ábrelo: ", "Recibes este correo por tus ajustes de avisos"):
        assert line in body, line
    assert ENGLISH_DIGEST.findall(body.replace("HousePoints", "")) == [], body

    assert english.subject == f"HousePoints: your family's day, {format_date(now.date(), 'EEE d MMM', locale='en')}"
    english_body = email_body(english, family.slug, settings)
    assert "Waiting for your approval (1):" in english_body and "Chores done: Lucía 1" in english_body
    assert "Lucía — Helado (waiting for you)" in english_body and "Open it: " in english_body


def _spec(kind: str, **fields: object) -> ScheduleSpec:
    values: dict[str, object] = {"kind": kind, "interval": 1, "interval_unit": "days", "weekdays": None,
                                 "month_day": None, "week_of_month": None, "start_date": date(2026, 3, 5),
                                 "end_date": None, "rolling": False, "paused_from": None, "paused_until": None}
    return ScheduleSpec(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(("spec", "spanish", "api"), [
    (_spec("once"), "Una vez, el 5 mar 2026", "Once, on 2026-03-05"),
    (_spec("daily"), "Todos los días", "Every day"),
    (_spec("weekly", weekdays=[0, 2, 4]), "Cada semana: lun, mié, vie", "Every week on Mon, Wed, Fri"),
    (_spec("interval", interval=2, interval_unit="weeks", weekdays=[0, 3]), "Cada 2 semanas: lun, jue",
     "Every 2 weeks on Mon, Thu"),
    (_spec("interval", interval=3, interval_unit="days"), "Cada 3 días", "Every 3 days"),
    (_spec("interval", interval=1, interval_unit="months"), "Cada 1 mes", "Every 1 month"),
    (_spec("monthly_day", month_day=15), "Cada mes, el día 15", "Monthly on day 15"),
    (_spec("monthly_weekday", week_of_month=2, weekdays=[6]), "Cada mes, el segundo dom", "Monthly on the 2nd Sun"),
    (_spec("monthly_weekday", week_of_month=-1, weekdays=[4]), "Cada mes, el último vie", "Monthly on the last Fri"),
    (_spec("yearly"), "Cada año, el 5 mar", "Every year on Mar 05"),
    (_spec("daily", rolling=True), "Todos los días (contando desde la última vez que se hizo)",
     "Every day (counted from the last completion)"),
])
def test_every_kind_of_schedule_reads_in_spanish_and_the_api_keeps_english(spec: ScheduleSpec, spanish: str,
                                                                           api: str) -> None:
    assert describe(spec, "es") == spanish
    assert describe(spec) == api


def test_the_chore_library_and_form_preview_say_the_schedule_in_spanish(client, auth, family, in_family,  # noqa: ANN001
                                                                        spanish_family) -> None:  # noqa: ANN001
    mama, _dad, kid = spanish_family
    with in_family(family) as ctx:
        create_chore(ctx.session, name="Platos", schedule=ChoreSchedule(kind="weekly", weekdays=[0, 2],
                                                                        start_date=date(2026, 3, 2)))
        ctx.session.commit()
    auth.sign_in(client, mama, family)

    library = squash(parse(client.get("/chores")).css_first("main").text(separator=" "))
    assert "Cada semana: lun, mié" in library and "Every week" not in library

    preview = post_form(client, "/chores/validate", {
        "name": "Cama", "base_points": "5", "difficulty": "easy", "assignment_type": "fixed", "assignees": str(kid.id),
        "kind": "monthly_weekday", "week_of_month": "-1", "month_weekday": "4", "interval": "1",
        "interval_unit": "days", "start_date": "2026-03-01", "rolling": "fixed"}, htmx=True)
    sentence = parse(preview).css_first(".schedule-sentence")
    assert preview.status_code == 200 and sentence is not None, preview.get_data(as_text=True)[:2000]
    assert squash(sentence.text()) == "Cada mes, el último vie"


def test_a_spanish_parent_gets_starter_chores_and_presets_in_spanish(client, auth, family, in_family,  # noqa: ANN001
                                                                     spanish_family) -> None:  # noqa: ANN001
    mama, _dad, kid = spanish_family
    auth.sign_in(client, mama, family)
    offered = squash(parse(client.get("/welcome/chores")).css_first("main").text(separator=" "))
    assert "Hacer la cama" in offered and "Sacar la basura" in offered and "Make your bed" not in offered

    added = post_form(client, "/welcome/chores", {"chores": ["make-bed", "trash"]}, htmx=True)
    assert added.status_code == 200
    with in_family(family) as ctx:
        assert set(ctx.session.scalars(select(Chore.name))) == {"Hacer la cama", "Sacar la basura"}
    again = parse(client.get("/welcome/chores"))
    assert "disabled" in again.css_first('input[value="make-bed"]').attributes  # already there

    form = parse(client.get(f"/calendar/members/{kid.id}/pattern-form?preset=weekend", headers=HTMX))
    weekend = "Fines de semana alternos, vie 18:00 → dom 18:00"
    presets = squash(form.css_first(".presets").text(separator=" "))
    assert weekend in presets and "Semanas alternas" in presets
    assert form.css_first('input[name="label"]').attributes["value"] == weekend


def test_a_spanish_kid_reads_why_a_reward_is_closed_in_spanish(client, auth, family, in_family,  # noqa: ANN001
                                                               spanish_family) -> None:  # noqa: ANN001
    _mama, _dad, kid = spanish_family
    today = date.today().weekday()
    other_days = sorted({0, 1, 2, 3, 4, 5, 6} - {(today - 1) % 7, today, (today + 1) % 7})  # whatever the zone
    with in_family(family) as ctx:
        closed = create_reward(ctx.session, name="Tele", availability="weekdays", available_weekdays=other_days)
        create_reward(ctx.session, name="Cromos", stock=0)
        ctx.session.commit()
    auth.sign_in(client, kid, family)

    store = squash(parse(client.get("/rewards")).css_first("main").text(separator=" "))
    spanish_days = format_list([str(get_day_names("wide", locale="es")[d]) for d in other_days], locale="es")
    assert f"Solo: {spanish_days}" in store and "Agotado" in store
    assert not re.search(r"\b(On|Sold out|Mondays|Tuesdays|Wednesdays|Thursdays|Fridays|Saturdays|Sundays)\b", store)

    refused = post_form(client, f"/rewards/{closed.id}/request", htmx=True)
    assert refused.status_code == 400
    assert f"Tele no está disponible hoy (solo: {spanish_days})" in squash(parse(refused).text(separator=" "))
