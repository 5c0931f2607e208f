"""Chore library pages."""
from __future__ import annotations

from app.chores import bp  # noqa: F401
