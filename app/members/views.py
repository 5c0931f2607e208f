"""Member management pages."""
from __future__ import annotations

from app.members import bp  # noqa: F401
