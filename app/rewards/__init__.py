"""The rewards store: rewards, redemption requests and savings goals."""
from flask import Blueprint

bp = Blueprint("rewards", __name__)
