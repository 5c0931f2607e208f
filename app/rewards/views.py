"""Rewards pages."""
from __future__ import annotations

from app.rewards import bp  # noqa: F401
