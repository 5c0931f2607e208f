"""Parent dashboard pages."""
from __future__ import annotations

from app.dashboard import bp  # noqa: F401
