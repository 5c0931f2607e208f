"""Sign-up at the apex: a new family, its owner and its subdomain."""
from flask import Blueprint

bp = Blueprint("signup", __name__)
