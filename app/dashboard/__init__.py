"""The parent dashboard: today per kid, approvals, quick bonuses and deductions, the week at a glance."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)
