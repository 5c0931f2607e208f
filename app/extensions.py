"""Flask extensions, created unbound here and bound to the app in the factory."""
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

csrf = CSRFProtect()
htmx = Htmx()
migrate = Migrate()
