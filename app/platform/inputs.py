"""Typed inputs of the platform's own actions: confirming a deletion with the account password."""
from __future__ import annotations

from app.auth.inputs import MAX_CREDENTIAL_LENGTH
from app.inputs import Input, Secret


class ConfirmWithPasswordInput(Input):
    """Deleting a family or an account: the account password, typed again."""

    password: Secret(MAX_CREDENTIAL_LENGTH, min_length=1)  # type: ignore[valid-type]
