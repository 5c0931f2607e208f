"""Signing in's typed inputs: a login name and password, a tablet PIN, a tablet's name (pages and the API)."""
from __future__ import annotations

from typing import Annotated

from app.inputs import BlankIsNone, Input, Secret, Text

# Anything longer is not a credential; refusing it early keeps hashing bounded.
MAX_CREDENTIAL_LENGTH = 1024


class LoginInput(Input):
    """A username or email and a password, as the login form and POST /api/auth/login send them."""

    username: Text(MAX_CREDENTIAL_LENGTH, min_length=1)  # type: ignore[valid-type]  # or an email
    password: Secret(MAX_CREDENTIAL_LENGTH, min_length=1)  # type: ignore[valid-type]


class PinInput(Input):
    """The digits a kid types on the tablet's keypad (the PIN's own rule is checked against the stored hash)."""

    pin: Text(32) = ""  # type: ignore[valid-type]


class DeviceInput(Input):
    """The name a parent gives this browser when making it the family tablet (blank: "Family tablet")."""

    name: Annotated[Text(80) | None, BlankIsNone] = None  # type: ignore[valid-type]
