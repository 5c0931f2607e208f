"""Achievements pages."""
from __future__ import annotations

from app.achievements import bp  # noqa: F401
