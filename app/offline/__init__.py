"""The installable family tablet: the web app manifest and the service worker, served from the family host's root."""
from flask import Blueprint

bp = Blueprint("offline", __name__)
