"""The reward form: posted fields → the reward service's data, and a reward or a post → values to re-render."""
from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from app.forms import FormState
from app.inputs import parse_input
from app.rewards.inputs import RewardInput
from app.rewards.models import Reward

ICON_CHOICES = ("🎁", "🍦", "🍕", "🍿", "🍫", "🧁", "🎮", "📺", "🎬", "🎟️", "🧸", "📚", "🎨", "⚽", "🛹", "🎧",
                "🛝", "🌙", "💵", "⭐")
CATEGORY_SUGGESTIONS = ("treat", "screen time", "outing", "toy", "privilege", "money", "experience")
AVAILABILITY_CHOICES = {"always": "Any day", "date_range": "Between dates", "weekdays": "On some days of the week"}
WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TEXT_FIELDS = ("name", "description", "category", "cost", "stock", "max_per_week", "max_per_month",
               "available_from", "available_until")


# The area's forms use the shared form state.
RewardFormState = FormState


def new_reward_values() -> dict[str, Any]:
    """The form's starting point: approval needed, unlimited, any day."""
    return {"name": "", "description": "", "icon": ICON_CHOICES[0], "icon_custom": "", "category": "treat",
            "cost": "50", "requires_approval": True, "stock": "", "max_per_week": "", "max_per_month": "",
            "availability": "always", "available_from": "", "available_until": "", "available_weekdays": [],
            "active": True}


def reward_values(reward: Reward) -> dict[str, Any]:
    """A stored reward as form values."""
    return {"name": reward.name, "description": reward.description or "", "icon": reward.icon,
            "icon_custom": "" if reward.icon in ICON_CHOICES else reward.icon, "category": reward.category,
            "cost": str(reward.cost), "requires_approval": reward.requires_approval,
            "stock": "" if reward.stock is None else str(reward.stock),
            "max_per_week": "" if reward.max_per_week is None else str(reward.max_per_week),
            "max_per_month": "" if reward.max_per_month is None else str(reward.max_per_month),
            "availability": reward.availability,
            "available_from": reward.available_from.isoformat() if reward.available_from else "",
            "available_until": reward.available_until.isoformat() if reward.available_until else "",
            "available_weekdays": [str(d) for d in reward.available_weekdays or []], "active": reward.active}


def posted_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The posted form as values (unchecked boxes are simply absent)."""
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    values["icon"] = form.get("icon", "")
    values["icon_custom"] = form.get("icon_custom", "").strip()
    values["availability"] = form.get("availability", "always")
    values["available_weekdays"] = form.getlist("available_weekdays")
    values["requires_approval"] = form.get("requires_approval") == "on"
    values["active"] = form.get("active") == "on" if "active_shown" in form else True
    return values


def reward_data(values: dict[str, Any]) -> RewardInput:
    """Form values → the reward service's typed input (the service then checks the rules)."""
    return parse_input(RewardInput, {
        "name": values["name"], "description": values["description"],
        "icon": values["icon_custom"] or values["icon"], "category": values["category"], "cost": values["cost"],
        "requires_approval": values["requires_approval"], "stock": values["stock"],
        "max_per_week": values["max_per_week"], "max_per_month": values["max_per_month"],
        "availability": values["availability"], "available_from": values["available_from"],
        "available_until": values["available_until"], "available_weekdays": values["available_weekdays"],
        "active": values["active"],
    })
