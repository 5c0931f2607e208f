"""Chores: the family's library of jobs worth points, their schedules and who does them."""
from flask import Blueprint

bp = Blueprint("chores", __name__)
