"""The family site's navigation, offered to templates; links appear once their area exists."""
from __future__ import annotations

from flask import Flask, current_app, g

from app.auth import current_member

# (endpoint, label, parents only), most used first: a phone shows them all behind "Menu", a desktop the first
# PRIMARY_LINKS in its bar and the rest under "More".
NAV_ITEMS: tuple[tuple[str, str, bool], ...] = (
    ("dashboard.index", "Today", True),
    ("tablet.kid_home", "My day", False),
    ("chores.index", "Chores", True),
    ("rewards.store", "Rewards", False),
    ("achievements.index", "Badges", False),
    ("presence.calendar", "Calendar", True),
    ("members.index", "Members", True),
    ("allowance.index", "Allowance", True),
    ("reports.index", "Reports", True),
    ("settings.index", "Settings", True),
    ("accounts.devices", "Devices", True),
    ("tablet.wall", "Tablet", True),
    ("family_home.index", "Home", False),
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
        items.append((endpoint, label))
    return items
