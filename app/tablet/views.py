"""Tablet pages."""
from __future__ import annotations

from app.tablet import bp  # noqa: F401
