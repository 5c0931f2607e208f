"""The family's people: parents and children (management pages for parents)."""
from flask import Blueprint

bp = Blueprint("members", __name__)

from app.members import views  # noqa: E402,F401
