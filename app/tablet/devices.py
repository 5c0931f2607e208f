"""Which tablet this browser is, and whether the signed-in member came in through it (the kiosk and family home)."""
from __future__ import annotations

from flask import request
from flask_login import current_user

from app.auth import DEVICE_COOKIE
from app.auth.models import TabletDevice
from app.auth.services import load_device
from app.db import get_session
from app.db.bases import utcnow


def this_browsers_device() -> TabletDevice | None:
    """The registered, unrevoked tablet this browser's device cookie names (the view commits its last-seen)."""
    return load_device(get_session(), request.cookies.get(DEVICE_COOKIE), utcnow())


def is_tablet_turn() -> bool:
    """True when the signed-in member got here with a PIN on the family tablet (not a password)."""
    record = getattr(current_user, "record", None)
    return record is not None and record.device_id is not None
