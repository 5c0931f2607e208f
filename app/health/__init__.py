"""Health endpoints for load balancers, probes and operators."""
from flask import Blueprint

bp = Blueprint("health", __name__)

from app.health import views  # noqa: E402,F401
