"""Explicit JSON shapes of the API's objects, key for key as the previous service sent them."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from app.members.models import Member


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with `Z`, fractional seconds trimmed of trailing zeros (Go's default time encoding)."""
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def format_date_as_timestamp(day: date) -> str:
    """A date column as the previous service sent it: that date at UTC midnight."""
    return format_timestamp(datetime.combine(day, time(0), tzinfo=timezone.utc))


def _without_nulls(body: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    # "key?" in the contract: left out when null.
    return {key: value for key, value in body.items() if not (key in optional and value is None)}


def _weekly_points(member: Member, today: date) -> int:
    # The cache belongs to one family week; a member with no points yet this week has 0, not last week's sum.
    from app.web import current_rules

    week = current_rules().clock.week_start_date(today)
    return member.weekly_points if member.weekly_points_week == week else 0


def user_list_item(member: Member, *, today: date) -> dict[str, Any]:
    """UserListItem: one row of GET /api/users."""
    return _without_nulls({
        "id": str(member.id),
        "username": member.username,
        "display_name": member.display_name,
        "age": member.age_on(today),
        "color_theme": member.color,
        "avatar_url": member.avatar,
        "total_points": member.total_points,
        "weekly_points": _weekly_points(member, today),
        "level": member.level,
        "is_parent": member.is_parent,
        "is_active": member.is_active,
    }, ("age", "avatar_url"))


def user_detail(member: Member, *, today: date) -> dict[str, Any]:
    """UserDetail: /api/auth/me, /api/users/me and /api/users/:id."""
    return _without_nulls({
        "id": str(member.id),
        "username": member.username,
        "display_name": member.display_name,
        "age": member.age_on(today),
        "color_theme": member.color,
        "avatar_url": member.avatar,
        "total_points": member.total_points,
        "weekly_points": _weekly_points(member, today),
        "level": member.level,
        "xp": member.xp,
        "streak_days": member.streak_days,
        # The previous service failed on a NULL here; a member who never signed in was active when created.
        "last_active": format_timestamp(member.last_active_at or member.created_at),
        "is_parent": member.is_parent,
        "birthdate": format_date_as_timestamp(member.birthdate) if member.birthdate else None,
        "availability_notifications": member.availability_notifications,
        "auto_approve_work": member.auto_approve_work,
        "email": member.email,
        "phone_number": member.phone_number,
        "school": member.school,
        "daily_goal": member.daily_goal,
        "usually_eats_dinner": member.usually_eats_dinner,
        "available_points": member.available_points,
        "lifetime_points_earned": member.lifetime_points_earned,
        "is_active": member.is_active,
        "created_at": format_timestamp(member.created_at),
    }, ("age", "avatar_url", "birthdate", "email", "phone_number", "school"))


def created_user(member: Member) -> dict[str, Any]:
    """The 201 body of POST /api/users."""
    return {
        "id": str(member.id),
        "username": member.username,
        "display_name": member.display_name,
        "color_theme": member.color,
        "email": member.email,
        "is_parent": member.is_parent,
        "login_enabled": member.login_enabled,
        "message": "User created successfully",
    }


def updated_user(member: Member) -> dict[str, Any]:
    """The `user` object in the 200 body of PUT /api/users/:id."""
    return {
        "id": str(member.id),
        "username": member.username,
        "display_name": member.display_name,
        "color_theme": member.color,
        "email": member.email,
        "is_active": member.is_active,
        "is_parent": member.is_parent,
        "login_enabled": member.login_enabled,
    }
