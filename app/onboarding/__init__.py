"""The welcome wizard after sign-up: kids, a co-parent invite, starter chores."""
from flask import Blueprint

bp = Blueprint("onboarding", __name__)
