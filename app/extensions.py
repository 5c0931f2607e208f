"""Flask extensions, created unbound here and bound to the app in the factory."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from app.htmx import HousePointsHtmx

csrf = CSRFProtect()
htmx = HousePointsHtmx()
migrate = Migrate()
# Per-client-address limits on sign-in and sign-up; storage is set from REDIS_URL in the factory (memory without it).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
