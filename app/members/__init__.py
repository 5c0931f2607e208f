"""The family's people: parents and children (management pages for parents)."""
from flask import Blueprint

bp = Blueprint("members", __name__)
