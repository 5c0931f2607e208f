"""Reports pages."""
from __future__ import annotations

from app.reports import bp  # noqa: F401
