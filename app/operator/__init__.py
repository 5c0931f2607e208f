"""The operator console on the `admin` host."""
from flask import Blueprint

bp = Blueprint("operator", __name__)

from app.operator import views  # noqa: E402,F401
