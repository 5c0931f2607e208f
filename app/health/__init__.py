"""Health endpoints for load balancers, probes and operators."""
from flask import Blueprint

bp = Blueprint("health", __name__)
