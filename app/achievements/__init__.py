"""Achievements: rule-based badges awarded once, with optional bonus points."""
from flask import Blueprint

bp = Blueprint("achievements", __name__)
