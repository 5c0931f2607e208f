"""Adding a member from a submitted form, audited: shared by the members page and the onboarding wizard."""
from __future__ import annotations

from typing import Any

from flask import g, request

from app.audit import record_audit
from app.auth import signed_in_member
from app.db import get_session
from app.domain import DomainError
from app.inputs import parse_input
from app.members.forms import FormState, family_today
from app.members.models import Member
from app.members.inputs import MemberInput
from app.members.services import create_member
from app.uow import unit_of_work


def audit_member_change(action: str, member: Member, **details: Any) -> None:
    """Record who changed which member, from where (in the request's transaction)."""
    record_audit(get_session(), action, family_id=g.family.id, actor_member_id=signed_in_member().id,
                 target_type="member", target_id=member.id, ip_address=request.remote_addr, details=details)


def create_from_form(state: FormState, fields: dict[str, Any]) -> Member | None:
    """Create the member a valid add form describes, audit and commit; None (messages in `state`) if refused."""
    if not state.ok:
        return None
    session = get_session()
    try:
        with unit_of_work(session):
            member = create_member(session, actor=signed_in_member(), plan=g.family.plan, today=family_today(),
                                   data=parse_input(MemberInput, fields))
            audit_member_change("member.added", member, role=member.role, username=member.username)
    except DomainError as error:
        state.refuse(error)
        return None
    return member
