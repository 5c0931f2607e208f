"""The family site's navigation, offered to templates; links appear once their area exists."""
from __future__ import annotations

from flask import Flask, current_app, g
from flask_babel import gettext

from app.auth import current_member
from app.languages import translatable

# (endpoint, label, parents only), most used first: a phone shows them all behind "Menu", a desktop the first
# PRIMARY_LINKS in its bar and the rest under "More".
NAV_ITEMS: tuple[tuple[str, str, bool], ...] = (
    ("dashboard.index", translatable("Today"), True),
    ("tablet.kid_home", translatable("My day"), False),
    ("chores.index", translatable("Chores"), True),
    ("rewards.store", translatable("Rewards"), False),
    ("achievements.index", translatable("Badges"), False),
    ("presence.calendar", translatable("Calendar"), True),
    ("members.index", translatable("Members"), True),
    ("allowance.index", translatable("Allowance"), True),
    ("reports.index", translatable("Reports"), True),
    ("settings.index", translatable("Settings"), True),
    ("accounts.devices", translatable("Devices"), True),
    ("tablet.wall", translatable("Tablet"), True),
    ("members.language", translatable("Language"), False),
    ("family_home.index", translatable("Home"), False),
)
PRIMARY_LINKS = 5


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"family_nav": family_nav, "primary_links": PRIMARY_LINKS})


def family_nav() -> list[tuple[str, str]]:
    """(endpoint, label) pairs the current member may use, in order."""
    if g.get("family") is None:
        return []
    member = current_member()
    if member is None:
        return []
    items = []
    for endpoint, label, parents_only in NAV_ITEMS:
        if endpoint not in current_app.view_functions or (parents_only and not member.is_parent):
            continue
        if endpoint == "tablet.kid_home" and member.is_parent:
            continue
        items.append((endpoint, str(gettext(label))))
    return items
