"""Receiving a family hand-off: a signed one-minute pass from the apex or another family signs a parent in here."""
from __future__ import annotations

from app.accounts import bp  # noqa: F401
