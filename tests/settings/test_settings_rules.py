"""Typed settings: each known key's good and bad values, the family's own keys, privacy, the platform's two."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.domain import Forbidden, NotFound, ValidationFailed
from app.inputs import parse_input
from app.members.models import FamilySetting, Member
from app.platform.models import Family
from app.settings.inputs import SettingValue, parse_settings
from app.settings.services import get_setting, get_settings, save_settings, set_setting
from app.tenancy import registry

GOOD = [
    ("family_name", "  The Riveras ", "The Riveras"),
    ("timezone", "America/New_York", "America/New_York"),
    ("week_start", "Sunday", "sunday"),
    ("currency", "eur", "EUR"),
    ("points_per_currency_unit", 1, 1),
    ("points_per_currency_unit", 100000, 100000),
    ("auto_approve", True, True),
    ("digest_hour", 0, 0),
    ("digest_hour", 23, 23),
    ("reminder_lead_minutes", 0, 0),
    ("reminder_lead_minutes", 1440, 1440),
    ("notification_defaults", {"email": {"chore_waiting": True}, "in_app": {"badge_earned": False}},
     {"email": {"chore_waiting": True}, "in_app": {"badge_earned": False}}),
    ("achievement_bonus", {"first_chore": 10, "streak_30": 1000, "chores_10": 0},
     {"first_chore": 10, "streak_30": 1000, "chores_10": 0}),
]
BAD = [
    ("family_name", ""), ("family_name", "x" * 121), ("family_name", 7), ("family_name", "bad\nname"),
    ("timezone", "Mars/Olympus"), ("timezone", "../etc/passwd"), ("timezone", 5),
    ("week_start", "someday"), ("week_start", 1),
    ("currency", "EURO"), ("currency", "E1R"), ("currency", 978),
    ("points_per_currency_unit", 0), ("points_per_currency_unit", 100001), ("points_per_currency_unit", "100"),
    ("points_per_currency_unit", 1.5), ("points_per_currency_unit", True),
    ("auto_approve", "true"), ("auto_approve", 1),
    ("digest_hour", 24), ("digest_hour", -1), ("digest_hour", "18"), ("digest_hour", False),
    ("reminder_lead_minutes", 1441), ("reminder_lead_minutes", -5),
    ("notification_defaults", []), ("notification_defaults", {"sms": {"chore_waiting": True}}),
    ("notification_defaults", {"email": {"made_up": True}}), ("notification_defaults", {"email": {"chore_waiting": 1}}),
    ("notification_defaults", {"in_app": {"daily_digest": True}}),  # the digest has no in-app form
    ("achievement_bonus", {"made_up": 5}), ("achievement_bonus", {"first_chore": 1001}),
    ("achievement_bonus", {"first_chore": -1}), ("achievement_bonus", {"first_chore": "5"}),
    ("achievement_bonus", [10]),
    ("anything", None),
]


@pytest.fixture
def parent(create_member) -> Member:  # noqa: ANN001
    return create_member(role="parent", username="mum", display_name="Mum")


@pytest.fixture
def kid(create_member) -> Member:  # noqa: ANN001
    return create_member(username="maya", display_name="Maya")


@pytest.mark.parametrize(("key", "value", "stored"), GOOD, ids=[f"{k}={v!r}" for k, v, _ in GOOD])
def test_good_values_are_stored_as_their_type(in_family, family, parent: Member, key: str, value: Any,  # noqa: ANN001
                                              stored: Any) -> None:
    with in_family(family) as ctx:
        change = set_setting(ctx.session, ctx.session.get(Member, parent.id), SettingValue(key=key, value=value))
        ctx.session.commit()
    with in_family(family) as ctx:
        assert change.value == stored
        assert get_setting(ctx.session, key, include_private=False) == stored
        assert type(get_settings(ctx.session, include_private=False)[key]) is type(stored)


@pytest.mark.parametrize(("key", "value"), BAD, ids=[f"{k}={v!r}" for k, v in BAD])
def test_bad_values_are_refused_and_nothing_changes(in_family, family, parent: Member, key: str,  # noqa: ANN001
                                                    value: Any) -> None:
    with in_family(family) as ctx:
        before = get_settings(ctx.session, include_private=True)
        with pytest.raises(ValidationFailed) as refusal:
            set_setting(ctx.session, ctx.session.get(Member, parent.id),
                        parse_input(SettingValue, {"key": key, "value": value}))
        ctx.session.rollback()
        assert refusal.value.status == 400
        assert get_settings(ctx.session, include_private=True) == before


def test_the_digest_hour_message(in_family, family, parent: Member) -> None:  # noqa: ANN001
    with in_family(family) as ctx, pytest.raises(ValidationFailed) as refusal:
        set_setting(ctx.session, ctx.session.get(Member, parent.id), SettingValue(key="digest_hour", value=24))
    assert refusal.value.message == "The digest hour must be a whole hour from 0 to 23"


def test_unknown_keys_take_any_json_and_private_ones_hide_from_kids(in_family, family, parent: Member,  # noqa: ANN001
                                                                   kid: Member) -> None:
    with in_family(family) as ctx:
        actor = ctx.session.get(Member, parent.id)
        created = set_setting(ctx.session, actor,
                              SettingValue(key="fridge.layout", value={"shelves": [1, 2, 3], "cold": True}))
        updated = set_setting(ctx.session, actor, SettingValue(key="fridge.layout", value=[1.5, "two", None]))
        set_setting(ctx.session, actor, SettingValue(key="home_assistant_token", value="abc123"))
        set_setting(ctx.session, actor, SettingValue(key="door_code", value=1234, is_private=True))
        ctx.session.commit()
    with in_family(family) as ctx:
        assert (created.created, updated.created) == (True, False)
        as_kid = get_settings(ctx.session, include_private=False)
        as_parent = get_settings(ctx.session, include_private=True)
        assert as_kid["fridge.layout"] == [1.5, "two", None]
        assert "home_assistant_token" not in as_kid and "door_code" not in as_kid
        assert as_parent["home_assistant_token"] == "abc123" and as_parent["door_code"] == 1234
        with pytest.raises(Forbidden):
            get_setting(ctx.session, "door_code", include_private=False)
        with pytest.raises(NotFound):
            get_setting(ctx.session, "never_set", include_private=True)
        assert ctx.session.scalar(select(FamilySetting.is_private)
                                  .where(FamilySetting.key == "home_assistant_token")) is True


def test_the_familys_name_and_timezone_live_on_the_platform(app, in_family, family,  # noqa: ANN001
                                                            parent: Member) -> None:
    with in_family(family) as ctx:
        actor = ctx.session.get(Member, parent.id)
        changes = save_settings(ctx.session, actor, parse_settings({
            "family_name": "The Riveras", "timezone": "Asia/Tokyo", "week_start": "saturday"}))
        ctx.session.commit()
    with app.app_context():
        registry().invalidate(family.slug)
        with Session(platform_engine()) as platform:
            row = platform.get(Family, family.id)
            assert (row.name, row.timezone) == ("The Riveras", "Asia/Tokyo")
        assert registry().load(family.slug).timezone == "Asia/Tokyo"
    with in_family(family) as ctx:
        assert [c.platform for c in changes] == [True, True, False]
        assert ctx.session.scalar(select(FamilySetting).where(FamilySetting.key == "family_name")) is None
        values = get_settings(ctx.session, include_private=False)
        assert (values["family_name"], values["timezone"], values["week_start"]) == ("The Riveras", "Asia/Tokyo",
                                                                                      "saturday")


def test_a_group_with_one_bad_value_saves_nothing(in_family, family, parent: Member) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        with pytest.raises(ValidationFailed) as refusal:
            save_settings(ctx.session, ctx.session.get(Member, parent.id),
                          parse_settings({"currency": "GBP", "points_per_currency_unit": 0}))
        ctx.session.rollback()
        assert refusal.value.fields == {
            "points_per_currency_unit": "Points per currency unit must be a whole number from 1 to 100000"}
        assert get_setting(ctx.session, "currency", include_private=False) == "USD"


def test_only_parents_write_and_keys_are_checked(in_family, family, parent: Member,  # noqa: ANN001
                                                 kid: Member) -> None:
    with in_family(family) as ctx:
        with pytest.raises(Forbidden):
            set_setting(ctx.session, ctx.session.get(Member, kid.id), SettingValue(key="auto_approve", value=True))
        for bad_key in ("", "has space", "x" * 101, "../up", "ünicode"):
            with pytest.raises(ValidationFailed):
                set_setting(ctx.session, ctx.session.get(Member, parent.id),
                            parse_input(SettingValue, {"key": bad_key, "value": 1}))
        with pytest.raises(ValidationFailed):
            set_setting(ctx.session, ctx.session.get(Member, parent.id),
                        parse_input(SettingValue, {"key": "huge", "value": "x" * 20_000}))
