"""Sign-in events for the audit trail, stamped with this request's family and address (pages and the tablet)."""
from __future__ import annotations

import uuid

from flask import g, request

from app.audit import record_audit
from app.db import get_session


def audit(action: str, *, member_id: uuid.UUID | str | None = None, target_type: str | None = None,
          target_id: object = None, **details: object) -> None:
    """Add a sign-in event for this family to the request's transaction (never a secret)."""
    actor = uuid.UUID(str(member_id)) if member_id is not None else None
    record_audit(get_session(), action, family_id=g.family.id, actor_member_id=actor, target_type=target_type,
                 target_id=target_id, ip_address=request.remote_addr, details=details or None)
