"""The family tablet (kiosk): the avatar wall and the PIN keypad."""
from flask import Blueprint

bp = Blueprint("tablet", __name__)
