"""Presence calendar pages."""
from __future__ import annotations

from app.presence import bp  # noqa: F401
