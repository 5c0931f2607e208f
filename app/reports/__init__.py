"""Reports: charts, CSV exports and each member's iCal feed."""
from flask import Blueprint

bp = Blueprint("reports", __name__)
