"""Receiving a family hand-off: a signed one-minute pass from the apex or another family signs a parent in here."""
from __future__ import annotations

import uuid

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.accounts import bp
from app.audit import record_audit
from app.auth import sign_in, signed_in_member
from app.auth.decorators import login_required
from app.db import get_session
from app.domain import AuthenticationFailed
from app.htmx import is_htmx_request, redirect_to
from app.i18n import refusal_text
from app.members.models import Member
from app.platform.models import Family, FamilyMembership
from app.platform.services import consume_handoff, families_of, issue_handoff
from app.uow import unit_of_work

CLOSED_STATUSES = ("suspended", "cancelled")


# --- helpers shared with the apex pages -------------------------------------------------------------------------

def local_path(target: str | None) -> str:
    """A path on this host to continue to; anything that could lead to another site becomes "/"."""
    target = (target or "").strip()
    # "//x" and "/\x" are read by browsers as another host; control characters have no place in a path.
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def can_open(family: Family, membership: FamilyMembership) -> bool:
    """True when a hand-off into this family could work (a member record, a family that is open)."""
    return membership.member_id is not None and family.status not in CLOSED_STATUSES and family.deleted_at is None


def find_openable_family(session: Session, user_id: uuid.UUID, slug: str) -> Family | None:
    """The user's family at `slug`, if they may enter it now."""
    for family, membership in families_of(session, user_id):
        if family.slug == slug and can_open(family, membership):
            return family
    return None


def navigate_to(url: str) -> Response:
    """A full-page navigation: 303 for a browser's form, HX-Redirect for htmx (XHR cannot follow to another host)."""
    if is_htmx_request():
        return redirect_to(current_app.response_class(status=204), url)
    return redirect(url, 303)


def send_into_family(*, slug: str, user_id: uuid.UUID, family_id: uuid.UUID, next_path: str = "/") -> Response:
    """Leave for one of the user's family hosts carrying a fresh hand-off pass (their cookie cannot go there)."""
    token = issue_handoff(current_app.config["SECRET_KEY"], user_id=user_id, family_id=family_id)
    return navigate_to(url_for("accounts.handoff", family=slug, token=token, next=next_path, _external=True))


# --- the receiving end, on the family host -------------------------------------------------------------------------

@bp.get("/auth/handoff")
def handoff() -> ResponseReturnValue:
    """Sign in the parent a hand-off pass names, once, then continue to a local `next`."""
    session = get_session()
    try:
        membership = consume_handoff(session, current_app.config["SECRET_KEY"], request.args.get("token", ""),
                                     family_id=g.family.id)
        member = session.get(Member, membership.member_id)
        if member is None or not member.can_log_in:
            raise AuthenticationFailed("This account can't sign in to this family any more. Ask the family's owner.")
    except AuthenticationFailed as error:
        return render_template("platform/link_problem.html", message=refusal_text(error),
                               title=gettext("That sign-in link didn't work")), 400
    with unit_of_work(session):
        sign_in(member)
        record_audit(session, "auth.handoff", family_id=g.family.id, actor_user_id=membership.user_id,
                     actor_member_id=member.id, target_type="member", target_id=member.id,
                     ip_address=request.remote_addr)
    return redirect(local_path(request.args.get("next")))


@bp.get("/auth/switch")
@login_required
def switch_family_picker() -> ResponseReturnValue:
    """The signed-in parent's other families, each one tap away."""
    member = signed_in_member()
    choices = [] if member.user_id is None else [
        (family, membership) for family, membership in families_of(get_session(), member.user_id)
        if family.id != g.family.id]
    return render_template("platform/switch.html", choices=choices, can_open=can_open)


@bp.post("/auth/switch/<slug>")
@login_required
def switch_family(slug: str) -> ResponseReturnValue:
    """Move to another of the parent's families without typing a password."""
    member = signed_in_member()
    family = None if member.user_id is None else find_openable_family(get_session(), member.user_id, slug)
    if family is None:
        abort(404)
    assert member.user_id is not None  # no family is found for a member without an account
    return send_into_family(slug=family.slug, user_id=member.user_id, family_id=family.id)
