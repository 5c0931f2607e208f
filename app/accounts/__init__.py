"""Signing in and out on a family host, family hand-offs, sessions and the family tablet's registration."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
