"""Notifications: the in-app bell, email and signed webhooks, delivered after commit."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)
