"""The family site's home page."""
from flask import Blueprint

bp = Blueprint("family_home", __name__)

from app.family_home import nav, views  # noqa: E402,F401
