"""The presence calendar: who is home on which day (custody schedules, split weeks, camps)."""
from flask import Blueprint

bp = Blueprint("presence", __name__)
