"""Live updates: services' results become Redis pub/sub events that family pages receive over SSE."""
from flask import Blueprint

bp = Blueprint("live", __name__)
