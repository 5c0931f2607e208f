"""Notifications pages."""
from __future__ import annotations

from app.notifications import bp  # noqa: F401
