"""The audit trail: one platform row per security-relevant event, never holding secrets."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.platform.models import AuditLog

SECRET_WORDS = ("password", "pin", "token", "secret", "hash")


def record_audit(session: Session, action: str, *, family_id: uuid.UUID | None = None,
                 actor_user_id: uuid.UUID | None = None, actor_member_id: uuid.UUID | None = None,
                 target_type: str | None = None, target_id: object = None, ip_address: str | None = None,
                 details: dict[str, Any] | None = None) -> AuditLog:
    """Add an audit row to the caller's transaction; keys that look secret are dropped, not stored."""
    safe = {k: v for k, v in (details or {}).items() if not any(word in k.lower() for word in SECRET_WORDS)}
    entry = AuditLog(action=action, family_id=family_id, actor_user_id=actor_user_id,
                     actor_member_id=actor_member_id, target_type=target_type,
                     target_id=str(target_id) if target_id is not None else None,
                     ip_address=ip_address, details=safe)
    session.add(entry)
    return entry
