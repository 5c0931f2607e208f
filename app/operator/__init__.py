"""The operator console on the `admin` host."""
from flask import Blueprint

bp = Blueprint("operator", __name__)
