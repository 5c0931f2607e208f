"""The JSON API under /api: wire-compatible with the previous service (see shared/api/CONTRACT.md)."""
from flask import Blueprint

from app.extensions import csrf

# Family-host API (everything a family's clients call) and the few routes that also answer at the apex.
bp = Blueprint("api", __name__)
platform_bp = Blueprint("platform_api", __name__)
# Bearer-token requests carry no cookies, so CSRF does not apply (STYLE 19).
csrf.exempt(bp)
csrf.exempt(platform_bp)

from app.api import assignments, auth, chores, leaderboards, meta, openapi, points, schedule, users  # noqa: E402,F401
from app.api import allowance, rewards  # noqa: E402,F401
from app.api import notifications  # noqa: E402,F401
from app.api import achievements, reports, settings  # noqa: E402,F401
