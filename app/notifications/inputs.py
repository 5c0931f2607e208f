"""Notifications' typed inputs: webhooks and a member's preferences, shared by the settings pages and the API."""
from __future__ import annotations

from pydantic import StrictBool

from app.inputs import Input, TextList, Url


class WebhookInput(Input):
    """A webhook as a parent sets it; on a change, None leaves a field as it is (the URL's rules: services)."""

    url: Url | None = None
    events: TextList = None
    active: StrictBool | None = None
