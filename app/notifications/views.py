"""Notifications pages: the bell, the member's list (mark read, mark all read), and their preferences."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from app.i18n import refusal_text
from app.auth import current_member
from app.auth.decorators import login_required, parent_required
from app.db import get_session
from app.domain import DomainError
from app.htmx import HxEvent, is_htmx, is_htmx_request, redirect_to, trigger, vary_on_htmx
from app.members.models import Member
from app.notifications import bp
from app.notifications.catalog import CHANNEL_LABELS, MEMBER_CHANNELS
from app.inputs import ascii_int
from app.notifications.inputs import PreferencesInput
from app.notifications.services import (
    PAGE_SIZE,
    get_notification_or_404,
    list_notifications,
    mark_all_read,
    mark_read,
    notification_settings,
    preference_grid,
    safe_link,
    unread_count,
    update_notification_settings,
    update_preferences,
)
from app.uow import transactional, unit_of_work
from app.web import current_rules, request_now

FORM_STATUS = 422
CHANGED = HxEvent.NOTIFICATIONS_CHANGED  # the bell listens for this (family_base.html)


@dataclass
class Form:
    """What was typed and what was wrong with it."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None

    def refuse(self, error: DomainError) -> None:
        """Put a service's refusal on the fields it names, or on the form."""
        for name in error.fields:
            self.errors.setdefault(name, refusal_text(error))
        if not error.fields:
            self.message = refusal_text(error)


def me() -> Member:
    """The signed-in member (the views below are all behind login_required)."""
    member = current_member()
    assert member is not None  # login_required
    return member


def local_time(moment: datetime) -> str:
    """A timestamp in the family's time, as people read it."""
    local = current_rules().clock.local(moment)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


# --- the bell and the list -------------------------------------------------------------------------------------

@bp.get("/notifications/bell")
@login_required
def bell() -> BaseResponse:
    """The bell with the unread count (a fragment the layout loads, and reloads on sse:notification)."""
    if not is_htmx():
        return redirect(url_for("notifications.index"))
    response = make_response(render_template("notifications/_bell.html", count=unread_count(get_session(), me())))
    response.headers["Cache-Control"] = "no-store"
    return vary_on_htmx(response)


def _page() -> int:
    try:
        return max(1, min(ascii_int(request.args.get("page", "1")), 1000))
    except ValueError:
        return 1


def _list_context() -> dict[str, Any]:
    page = _page()
    member = me()
    items = list_notifications(get_session(), member, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return {"notifications": items[:PAGE_SIZE], "page": page, "has_more": len(items) > PAGE_SIZE,
            "unread": unread_count(get_session(), member), "when": local_time}


@bp.get("/notifications")
@login_required
def index() -> Response:
    """The member's notifications, newest first, each with its link (htmx refreshes just the list)."""
    template = "notifications/_list.html" if is_htmx() else "notifications/index.html"
    return vary_on_htmx(make_response(render_template(template, **_list_context())))


def _changed() -> BaseResponse:
    """After marking: htmx gets 204 and an event (the bell and the list refresh themselves), a form the list."""
    if not is_htmx():
        return redirect(url_for("notifications.index"), 303)
    return trigger(make_response("", 204), CHANGED)


@bp.post("/notifications/<notification_id>/read", endpoint="mark_read")
@login_required
@transactional
def mark_one_read(notification_id: str) -> BaseResponse:
    """Mark one notification read."""
    session = get_session()
    notification = get_notification_or_404(session, me(), notification_id)
    mark_read(session, member=me(), notification=notification, now=request_now())
    return _changed()


@bp.post("/notifications/read-all", endpoint="mark_all_read")
@login_required
@transactional
def mark_everything_read() -> BaseResponse:
    """Mark every notification of mine read."""
    session = get_session()
    mark_all_read(session, member=me(), now=request_now())
    return _changed()


@bp.post("/notifications/<notification_id>/open", endpoint="open")
@login_required
@transactional
def open_notification(notification_id: str) -> BaseResponse:
    """Follow a notification's link, marking it read on the way (a whole-page load, the link may have an anchor)."""
    session = get_session()
    notification = get_notification_or_404(session, me(), notification_id)
    mark_read(session, member=me(), notification=notification, now=request_now())
    target = safe_link(notification.link) or url_for("notifications.index")
    if is_htmx_request():
        return redirect_to(make_response("", 200), target)
    return redirect(target, 303)


# --- preferences ---------------------------------------------------------------------------------------------

def _preferences_page(*, form: Form | None = None, settings_form: Form | None = None, status: int = 200) -> Response:
    session = get_session()
    member = me()
    settings = notification_settings(session) if member.is_parent else None
    if settings_form is None and settings is not None:
        settings_form = Form(values=dict(settings))
    body = render_template("notifications/preferences.html", rows=preference_grid(session, member),
                           channels=MEMBER_CHANNELS, channel_labels=CHANNEL_LABELS, form=form or Form(),
                           settings_form=settings_form, has_email=bool(member.email))
    return make_response(body, status)


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> BaseResponse:
    """Which events reach me, and how: a checkbox per event and channel (email only with an address)."""
    if request.method == "GET":
        return _preferences_page()
    session = get_session()
    member = me()
    # Every box the page offered is either ticked (present) or not: unticked means off.
    choices = PreferencesInput(choices={
        row.event: {channel: f"{row.event}:{channel}" in request.form
                    for channel in MEMBER_CHANNELS if row.channel(channel) is not None}
        for row in preference_grid(session, member)})
    try:
        with unit_of_work(session):
            update_preferences(session, actor=member, member=member, choices=choices)
    except DomainError as error:
        form = Form()
        form.refuse(error)
        return _preferences_page(form=form, status=FORM_STATUS)
    flash(gettext("Your notification choices are saved."))
    return redirect(url_for("notifications.preferences"), 303)


@bp.post("/notifications/preferences/family")
@parent_required
def family_settings() -> BaseResponse:
    """A parent sets the family's digest hour and reminder lead time (0–23; 0–1440 minutes)."""
    session = get_session()
    values = {key: request.form.get(key, "") for key in ("digest_hour", "reminder_lead_minutes")}
    try:
        with unit_of_work(session):
            update_notification_settings(session, actor=me(), values=values)
    except DomainError as error:
        form = Form(values=values)
        form.refuse(error)
        return _preferences_page(settings_form=form, status=FORM_STATUS)
    flash(gettext("The family's delivery times are saved."))
    return redirect(url_for("notifications.preferences", _anchor="family-settings"), 303)


from app.notifications import webhook_views  # noqa: E402,F401 - the webhook pages share this blueprint
