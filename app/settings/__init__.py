"""Family settings: a page and typed values shared with the API."""
from flask import Blueprint

bp = Blueprint("settings", __name__)
