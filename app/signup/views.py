"""Sign-up pages."""
from __future__ import annotations

from app.signup import bp  # noqa: F401
