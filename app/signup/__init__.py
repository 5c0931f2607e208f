"""Sign-up at the apex: a new family, its owner and its subdomain."""
from flask import Blueprint

bp = Blueprint("signup", __name__)

from app.signup import views  # noqa: E402,F401
