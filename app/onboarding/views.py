"""Onboarding pages."""
from __future__ import annotations

from app.onboarding import bp  # noqa: F401
