"""Achievements pages: each kid's badge wall, the parents' overview, the celebration fragment for the kid's screen."""
from __future__ import annotations

import uuid

from flask import make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.achievements import bp
from app.achievements.services import (
    badge_counts,
    badge_wall,
    check_wall_access,
    mark_badges_seen,
    unseen_badges,
)
from app.auth import signed_in_member
from app.auth.decorators import login_required
from app.db import get_session
from app.domain import NotFound
from app.htmx import is_htmx, vary_on_htmx
from app.members.models import Member
from app.members.services import get_member_or_404, list_children
from app.uow import unit_of_work
from app.web import current_rules, request_now


def get_kid_or_404(member_id: uuid.UUID) -> Member:
    """An active kid of this family whose wall the viewer may see (parents have no wall)."""
    kid = get_member_or_404(get_session(), member_id)
    if kid.is_parent:
        raise NotFound("User not found")
    check_wall_access(signed_in_member(), kid)
    return kid


def _wall(kid: Member) -> str:
    tiles = badge_wall(get_session(), kid, current_rules(), request_now())
    return render_template("achievements/wall.html", kid=kid, tiles=tiles, clock=current_rules().clock,
                           earned=sum(1 for tile in tiles if tile.earned is not None))


@bp.get("/badges")
@login_required
def index() -> str:
    """A kid's own badge wall; parents get every kid's count with a link to each wall."""
    viewer = signed_in_member()
    if not viewer.is_parent:
        return _wall(viewer)
    session = get_session()
    return render_template("achievements/overview.html", kids=list_children(session), counts=badge_counts(session))


@bp.get("/badges/<uuid:member_id>")
@login_required
def wall(member_id: uuid.UUID) -> str:
    """One kid's badge wall (parents, or the kid themself)."""
    return _wall(get_kid_or_404(member_id))


@bp.get("/badges/celebrate")
@login_required
def celebrate() -> BaseResponse:
    """The kid's new badges with confetti (an htmx fragment; 204 when there is nothing to celebrate)."""
    if not is_htmx():
        return redirect(url_for("achievements.index"))
    badges = unseen_badges(get_session(), signed_in_member())
    if not badges:
        return vary_on_htmx(make_response("", 204))
    return vary_on_htmx(make_response(render_template("achievements/_celebrate.html", badges=badges)))


@bp.post("/badges/celebrate")
@login_required
def mark_celebrated() -> BaseResponse:
    """The kid closed the celebration: the badges it showed are seen (a newer one still gets its own)."""
    ids = []
    for raw in request.form.getlist("badge_id"):
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            continue  # a mangled id marks nothing
    with unit_of_work() as work:
        mark_badges_seen(work.session, signed_in_member(), ids, request_now())
    if is_htmx():
        return make_response("", 200)  # the overlay swaps itself away
    return redirect(url_for("achievements.index"), code=303)
