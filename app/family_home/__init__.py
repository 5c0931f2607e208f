"""The family site's home page."""
from flask import Blueprint

bp = Blueprint("family_home", __name__)
