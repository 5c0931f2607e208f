"""The assignments resource: lists and the lifecycle (claim, complete, verify, undo, skip, re-open) over the API."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from flask import Response, g, jsonify, request
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.api import bp
from app.api.serializers_daily import (
    assignment_detail,
    assignment_list_item,
    format_seconds,
    parse_day,
    parse_uuid,
    query_int,
    read_json_object,
    typed_values,
)
from app.assignments.inputs import AssignmentInput, CompletionInput, VerificationInput
from app.assignments.models import ACTIVE_STATUSES, Assignment, AssignmentStatus
from app.assignments.services import (
    claim_assignment,
    complete_assignment,
    create_assignment,
    ensure_day,
    get_assignment_or_404,
    reopen_assignment,
    skip_assignment,
    undo_completion,
    verify_assignment,
)
from app.auth.decorators import api_auth_required, api_parent_required
from app.chores.models import Chore
from app.db import get_session
from app.domain import Forbidden, ValidationFailed
from app.inputs import parse_action
from app.live.events import publish_event
from app.members.models import Member
from app.policy import acts_for
from app.uow import after_commit, commit_now, transactional
from app.web import current_rules, family_today, request_now
from app.view_cache import cached_view

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
# The previous service's statuses that we never set; filtering on them is valid and finds nothing.
LEGACY_STATUSES = ("in_progress", "completed")
INVALID_ID = "Invalid assignment ID format"


# --- helpers -------------------------------------------------------------------------------------------------------

def _assignment_id(raw: str) -> uuid.UUID:
    return parse_uuid(raw, INVALID_ID)


def _may_see(member: Member, assignment: Assignment) -> bool:
    """Kids see their own assignments and the unassigned ones anyone may claim; parents see all."""
    return member.is_parent or assignment.assigned_to in (None, member.id)


def _day_filter(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if len(text) > 10:
        # An RFC 3339 instant (older clients sent those) counts as its family-local day.
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValidationFailed(f"Invalid {name} format. Use YYYY-MM-DD")
        return current_rules().clock.today(moment)
    return parse_day(text, name)


def _filtered(query: Select[Assignment]) -> Select[Assignment]:
    """Apply the list's query parameters (each bad value is a 400 naming it)."""
    status = request.args.get("status")
    if status is None:
        query = query.where(Assignment.status.in_(ACTIVE_STATUSES))
    elif status in tuple(AssignmentStatus):
        query = query.where(Assignment.status == status)
    elif status in LEGACY_STATUSES:
        query = query.where(Assignment.status.in_(()))  # the previous service's names: no row can hold one
    else:
        raise ValidationFailed(f"Invalid status. Use one of: {', '.join(AssignmentStatus)}")
    start, end = _day_filter("start_date"), _day_filter("end_date")
    if start is not None and end is not None and end < start:
        raise ValidationFailed("end_date is before start_date")
    if start is not None:
        query = query.where(Assignment.due_date >= start)
    if end is not None:
        query = query.where(Assignment.due_date <= end)  # a date: the whole end day is included
    limit = query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = query_int("offset", 0, 0, MAX_OFFSET)
    return query.limit(limit).offset(offset)


def _list(scope: ColumnElement[bool] | None = None) -> Response:
    """Assignments of active chores, soonest due first, after today's have been materialised."""
    session = get_session()
    ensure_day(session, current_rules(), family_today(), request_now())
    query = (select(Assignment).join(Assignment.chore)
             .options(contains_eager(Assignment.chore), joinedload(Assignment.assignee)).where(Chore.active.is_(True)))
    if scope is not None:
        query = query.where(scope)
    query = _filtered(query).order_by(Assignment.due_date, Assignment.due_at, Assignment.created_at.desc(),
                                      Assignment.id)
    assignments = list(session.scalars(query).unique())
    body = [assignment_list_item(a) for a in assignments]
    commit_now(session)  # keep the day just materialised
    return jsonify(assignments=body, count=len(body))


def _mine_or_open(member: Member) -> ColumnElement[bool]:
    return or_(Assignment.assigned_to == member.id, Assignment.assigned_to.is_(None))


def _published(assignment: Assignment, *, points: bool = False) -> None:
    """Tell open pages (after the commit) that an assignment, and maybe a balance, changed."""
    data = {"assignment_id": str(assignment.id), "status": assignment.status,
            "member_id": str(assignment.assigned_to) if assignment.assigned_to else None}
    publish_event(g.family.id, "assignmentChanged", data)
    if points and assignment.assigned_to is not None:
        publish_event(g.family.id, "pointsChanged", {"member_id": str(assignment.assigned_to)})


# --- reading -------------------------------------------------------------------------------------------------------

@bp.get("/assignments")
@api_auth_required
@cached_view
def list_assignments() -> Response:
    """Assignments by user, status and family-local due dates; kids get their own and the open ones."""
    scope: ColumnElement[bool] | None = None
    raw_user = request.args.get("user_id")
    if raw_user is not None:
        user_id = parse_uuid(raw_user, "Invalid user_id format")
        if not acts_for(g.member, user_id):
            raise Forbidden("Children can only view their own assignments")
        scope = Assignment.assigned_to == user_id
    elif not g.member.is_parent:
        scope = _mine_or_open(g.member)
    return _list(scope)


@bp.get("/assignments/my-assignments")
@api_auth_required
@cached_view
def my_assignments() -> Response:
    """The caller's assignments plus the open ones anyone may claim."""
    return _list(_mine_or_open(g.member))


@bp.get("/assignments/<assignment_id>")
@api_auth_required
def get_one_assignment(assignment_id: str) -> Response:
    """One assignment in full, with who assigned it."""
    key = _assignment_id(assignment_id)
    session = get_session()
    assignment = get_assignment_or_404(session, key)
    if not _may_see(g.member, assignment):
        raise Forbidden("Not authorized to view this assignment")
    assigned_by = session.get(Member, assignment.assigned_by) if assignment.assigned_by else None
    return jsonify(assignment_detail(assignment, assigned_by))


# --- the lifecycle -------------------------------------------------------------------------------------------------

@bp.post("/assignments")
@api_parent_required("Only parents can create assignments")
@transactional
def create_one_assignment() -> tuple[Response, int]:
    """A parent hands out a one-off assignment (open to claim when nobody is named)."""
    values = typed_values(read_json_object(), {"chore_id": str, "assigned_to": str, "points_offered": int,
                                               "due_date": str})
    if not values.get("chore_id"):
        raise ValidationFailed("Invalid request body", details="chore_id required", fields={"chore_id": "required"})
    data = parse_action(AssignmentInput, values)
    session = get_session()
    assignment = create_assignment(session, actor=g.member, data=data, rules=current_rules(), now=request_now())
    after_commit(_published, assignment)
    return jsonify(id=str(assignment.id), chore_id=str(assignment.chore_id),
                   assigned_to=str(assignment.assigned_to) if assignment.assigned_to else None,
                   assigned_by=str(assignment.assigned_by), status=assignment.status,
                   points_offered=assignment.points_offered, due_date=format_seconds(assignment.due_at),
                   message="Assignment created successfully"), 201


@bp.post("/assignments/<assignment_id>/claim")
@api_auth_required
@transactional
def claim(assignment_id: str) -> Response:
    """First claim wins: an open chore becomes the caller's."""
    key = _assignment_id(assignment_id)
    assignment = claim_assignment(get_session(), actor=g.member, assignment_id=key, now=request_now())
    after_commit(_published, assignment)
    return jsonify(assignment_id=str(assignment.id), message="Assignment claimed successfully",
                   status=assignment.status)


@bp.post("/assignments/<assignment_id>/complete")
@api_auth_required
@transactional
def complete(assignment_id: str) -> Response:
    """Mark a chore done (a kid only their own); auto-approved when no check is needed."""
    key = _assignment_id(assignment_id)
    data = parse_action(CompletionInput, typed_values(read_json_object(required=False), {"notes": str}))
    assignment = complete_assignment(get_session(), actor=g.member, assignment_id=key, rules=current_rules(),
                                     now=request_now(), notes=data.notes)
    after_commit(_published, assignment, points=assignment.status == "verified")
    return jsonify(assignment_id=str(assignment.id), message="Assignment completed successfully",
                   points_earned=assignment.points_earned,
                   requires_verification=assignment.status == "pending_verification", status=assignment.status)


@bp.post("/assignments/<assignment_id>/verify")
@api_parent_required("Only parents can verify assignments")
@transactional
def verify(assignment_id: str) -> Response:
    """A parent approves (points land once) or rejects (back to the kid with the reason)."""
    key = _assignment_id(assignment_id)
    values = typed_values(read_json_object(), {"approved": bool, "points_awarded": int, "verification_notes": str})
    if "approved" not in values:
        # The previous service took a missing `approved` as a rejection; say what is missing instead.
        raise ValidationFailed("Invalid request body", details="approved is required (true or false)",
                               fields={"approved": "required"})
    decision = parse_action(VerificationInput, values)
    assignment = verify_assignment(get_session(), actor=g.member, assignment_id=key, approved=decision.approved,
                                   rules=current_rules(), now=request_now(), points_awarded=decision.points_awarded,
                                   notes=decision.verification_notes)
    after_commit(_published, assignment, points=decision.approved)
    if decision.approved:
        return jsonify(assignment_id=str(assignment.id), message="Assignment verified successfully",
                       points_awarded=assignment.points_earned, status=assignment.status)
    return jsonify(assignment_id=str(assignment.id), message="Assignment rejected - reset to pending",
                   status=assignment.status)


@bp.post("/assignments/<assignment_id>/undo")
@api_parent_required("Only parents can undo a completion")
@transactional
def undo(assignment_id: str) -> Response:
    """A parent takes a completion back; points already credited are reversed by a new ledger row."""
    key = _assignment_id(assignment_id)
    session = get_session()
    reversed_points = get_assignment_or_404(session, key).points_earned or 0
    assignment = undo_completion(session, actor=g.member, assignment_id=key, rules=current_rules(),
                                 now=request_now())
    after_commit(_published, assignment, points=bool(reversed_points))
    return jsonify(assignment_id=str(assignment.id), message="Assignment completion undone",
                   points_reversed=reversed_points, status=assignment.status)


@bp.post("/assignments/<assignment_id>/skip")
@api_parent_required("Only parents can skip a chore")
@transactional
def skip(assignment_id: str) -> Response:
    """A parent excuses a chore for the day (no points, no penalty)."""
    key = _assignment_id(assignment_id)
    assignment = skip_assignment(get_session(), actor=g.member, assignment_id=key, now=request_now())
    after_commit(_published, assignment)
    return jsonify(assignment_id=str(assignment.id), message="Assignment skipped", status=assignment.status)


@bp.post("/assignments/<assignment_id>/reopen")
@api_parent_required("Only parents can re-open a chore")
@transactional
def reopen(assignment_id: str) -> Response:
    """A parent gives a missed chore another chance (a penalty it cost is given back)."""
    key = _assignment_id(assignment_id)
    assignment = reopen_assignment(get_session(), actor=g.member, assignment_id=key, rules=current_rules(),
                                   now=request_now())
    after_commit(_published, assignment, points=True)
    return jsonify(assignment_id=str(assignment.id), message="Assignment re-opened", status=assignment.status)
