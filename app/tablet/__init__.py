"""The family tablet (kiosk): the avatar wall and the PIN keypad."""
from flask import Blueprint

bp = Blueprint("tablet", __name__)

from app.tablet import views  # noqa: E402,F401
