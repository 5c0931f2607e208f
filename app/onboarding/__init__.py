"""The welcome wizard after sign-up: kids, a co-parent invite, starter chores."""
from flask import Blueprint

bp = Blueprint("onboarding", __name__)

from app.onboarding import views  # noqa: E402,F401
