"""Family-host sign-in pages."""
from __future__ import annotations

from app.accounts import bp  # noqa: F401
