"""The platform area: families, global accounts, memberships, billing and audit (apex pages live here too)."""
from flask import Blueprint

bp = Blueprint("platform", __name__)
