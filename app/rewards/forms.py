"""The reward form: posted fields → the reward service's data, and a reward or a post → values to re-render."""
from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from app.languages import translatable
from app.allowance.services import parse_amount_cents
from app.forms import FormState
from app.inputs import parse_input
from app.rewards.inputs import RewardInput
from app.rewards.models import Reward

ICON_CHOICES = ("🎁", "🍦", "🍕", "🍿", "🍫", "🧁", "🎮", "📺", "🎬", "🎟️", "🧸", "📚", "🎨", "⚽", "🛹", "🎧",
                "🛝", "🌙", "💵", "⭐")
CATEGORY_SUGGESTIONS = ("treat", "screen time", "outing", "toy", "privilege", "money", "experience")
AVAILABILITY_CHOICES = {"always": translatable("Any day"), "date_range": translatable("Between dates"),
                        "weekdays": translatable("On some days of the week")}
WEEKDAY_SHORT = tuple(translatable(day) for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
TEXT_FIELDS = ("name", "description", "category", "cost", "stock", "max_per_week", "max_per_month",
               "available_from", "available_until", "value")


# The area's forms use the shared form state.
RewardFormState = FormState


def new_reward_values() -> dict[str, Any]:
    """The form's starting point: approval needed, unlimited, any day."""
    return {"name": "", "description": "", "icon": ICON_CHOICES[0], "icon_custom": "", "category": "treat",
            "cost": "50", "requires_approval": True, "stock": "", "max_per_week": "", "max_per_month": "",
            "availability": "always", "available_from": "", "available_until": "", "available_weekdays": [],
            "value": "", "active": True}


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
            "available_weekdays": [str(d) for d in reward.available_weekdays or []],
            "value": money_text(reward.value_in_cents), "active": reward.active}


def money_text(cents: int | None) -> str:
    """Cents as the form's money box shows them ("5.00"), blank for none."""
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


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


def reward_data(values: dict[str, Any], reward: Reward | None = None) -> RewardInput:
    """Form values → the reward service's typed input (the service then checks the rules).

    A reward an old client called "limited" or "seasonal" keeps that word while the form leaves its kind alone.
    """
    availability = values["availability"]
    if reward is not None and reward.legacy_availability and availability == reward.availability:
        availability = reward.legacy_availability
    cents = parse_amount_cents(values["value"], field_name="value") if values["value"] else None
    return parse_input(RewardInput, {
        "name": values["name"], "description": values["description"],
        "icon": values["icon_custom"] or values["icon"], "category": values["category"], "cost": values["cost"],
        "requires_approval": values["requires_approval"], "stock": values["stock"],
        "max_per_week": values["max_per_week"], "max_per_month": values["max_per_month"],
        "availability": availability, "available_from": values["available_from"], "value_in_cents": cents,
        "available_until": values["available_until"], "available_weekdays": values["available_weekdays"],
        "active": values["active"],
    })
