"""Settings pages."""
from __future__ import annotations

from app.settings import bp  # noqa: F401
