"""The operator console on the `admin` host."""
from pathlib import Path

from flask import Blueprint

# The console serves the shared static files from its own host, so its pages load nothing from another origin.
bp = Blueprint("operator", __name__, static_folder=str(Path(__file__).resolve().parents[2] / "static"),
               static_url_path="/static")
