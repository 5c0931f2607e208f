"""Notifications' typed inputs: webhooks and a member's preferences, shared by the settings pages and the API."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool

from app.domain import ValidationFailed
from app.languages import phrase
from app.inputs import Input, TextList, Url
from app.notifications.catalog import EVENTS, MEMBER_CHANNELS, channel_applies


class WebhookInput(Input):
    """A webhook as a parent sets it; on a change, None leaves a field as it is (the URL's rules: services)."""

    url: Url | None = None
    events: TextList = None
    active: StrictBool | None = None


def _choices(value: Any) -> Any:
    # Refused with the API's own messages and field names ("chore_waiting.email"), so raised as ValidationFailed.
    if not isinstance(value, Mapping):
        raise ValidationFailed("preferences must be an object of events", fields={"preferences": "invalid"})
    for event, channels in value.items():
        if event not in EVENTS:
            raise ValidationFailed(phrase("Unknown notification event: %(event)s", event=event),
                                   fields={event: "unknown"})
        if not isinstance(channels, Mapping):
            raise ValidationFailed(phrase("%(event)s must be an object of channels", event=event),
                                   fields={event: "invalid"})
        for channel, enabled in channels.items():
            name = f"{event}.{channel}"
            if channel not in MEMBER_CHANNELS or not channel_applies(event, channel):
                raise ValidationFailed(phrase("Unknown channel for %(event)s: %(channel)s", event=event,
                                              channel=channel), fields={name: "unknown"})
            if not isinstance(enabled, bool):
                raise ValidationFailed(phrase("%(name)s must be true or false", name=name), fields={name: "invalid"})
    return value


class PreferencesInput(Input):
    """A member's choices, {event: {channel: on}}, of known events and channels (who may choose what: services)."""

    choices: Annotated[dict[str, dict[str, StrictBool]], BeforeValidator(_choices)]
