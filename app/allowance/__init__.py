"""Allowance: converting points to money, payouts and weekly schedules."""
from flask import Blueprint

bp = Blueprint("allowance", __name__)
