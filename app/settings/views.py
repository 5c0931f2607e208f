"""Settings pages: the family's settings (a form per group, saved with htmx), each member's calendar link and the
owner's download of the family's data."""
from __future__ import annotations

import dataclasses
import tempfile
from typing import Any

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from app.accounts.handoff import navigate_to
from app.i18n import refusal_text, say
from app.achievements.rules import BADGE_RULES
from app.auth import signed_in_member
from app.auth.decorators import login_required, parent_required
from app.db import get_session
from app.domain import ValidationFailed
from app.family_time import WEEKDAY_NAMES
from app.htmx import is_htmx, refresh
from app.reports.ical import active_feed, create_feed, revoke_feeds
from app.settings import bp
from app.settings.forms import CHANNELS, GroupForm, notification_grid, parse_group
from app.settings.inputs import parse_settings
from app.settings.services import (
    GROUP_KEYS,
    GROUPS,
    KNOWN_SETTINGS,
    SettingChange,
    get_settings,
    save_settings,
    timezone_names,
)
from app.tenancy import registry
from app.transfer.archive import export_family, is_family_owner, record_export, require_family_owner
from app.uow import transactional, unit_of_work
from app.web import request_now, spooled_download, uploads_root

FORM_STATUS = 422


def _context(values: dict[str, Any], forms: dict[str, GroupForm] | None = None) -> dict[str, Any]:
    forms = forms or {}
    shown = dict(values)
    for form in forms.values():
        shown.update(form.values)  # what the parent typed stays in a refused form
    return {
        "groups": GROUPS, "group_keys": GROUP_KEYS, "specs": KNOWN_SETTINGS, "values": shown,
        "forms": {group: forms.get(group, GroupForm(group)) for group, _label in GROUPS},
        "custom": {key: value for key, value in values.items() if key not in KNOWN_SETTINGS},
        "timezones": timezone_names(), "weekdays": WEEKDAY_NAMES, "badges": BADGE_RULES, "channels": CHANNELS,
        "notification_rows": notification_grid(shown.get("notification_defaults") or {}),
    }


@bp.get("/settings")
@parent_required
def index() -> str:
    """Every family setting, a form per group."""
    session = get_session()
    return render_template("settings/index.html", **_context(get_settings(session, include_private=True)),
                           is_owner=is_family_owner(session, signed_in_member(), g.family.id))


def _after_platform_change(changes: list[SettingChange]) -> bool:
    """The family's name or timezone changed: every process must re-read the family, this request too."""
    platform = {change.key: change.value for change in changes if change.platform}
    if not platform:
        return False
    registry().invalidate(g.family.slug)
    g.family = dataclasses.replace(g.family, name=platform.get("family_name", g.family.name),
                                   timezone=platform.get("timezone", g.family.timezone))
    return True


@bp.post("/settings/groups/<group>")
@parent_required
def save(group: str) -> BaseResponse:
    """Save one group; htmx gets the group's form back (422 with the reasons when a value is refused)."""
    if group not in GROUP_KEYS:
        abort(404)
    values = parse_group(group, request.form)
    session = get_session()
    try:
        with unit_of_work(session):
            changes = save_settings(session, signed_in_member(), parse_settings(values))
    except ValidationFailed as refusal:
        # Each field's own reason in the page's language beside it; the first one above the form.
        said_fields = refusal.extra.get("said_fields")
        errors = {name: say(said_fields[name]) if isinstance(said_fields, dict) and name in said_fields
                  else refusal_text(refusal) for name in refusal.fields}
        form = GroupForm(group, values=values, errors=errors, message=refusal_text(refusal))
        context = _context(get_settings(session, include_private=True), {group: form})
        template = "settings/_group.html" if is_htmx() else "settings/index.html"
        return make_response(render_template(template, group=group, **context), FORM_STATUS)
    platform_changed = _after_platform_change(changes)
    if not is_htmx():
        flash(gettext("Settings saved."))
        return redirect(url_for("settings.index") + f"#settings-{group}", code=303)
    if platform_changed:
        # The family's name and clock show on every page: reload this one whole.
        flash(gettext("Settings saved."))
        return refresh(make_response("", 200))
    context = _context(get_settings(session, include_private=True), {group: GroupForm(group, saved=True)})
    return make_response(render_template("settings/_group.html", group=group, **context))


# --- the calendar link ------------------------------------------------------------------------------------------

def _calendar_page(token: str | None = None) -> str:
    member = signed_in_member()
    feed_url = url_for("reports.calendar_feed", token=token, _external=True) if token else None
    return render_template("settings/calendar.html", feed=active_feed(get_session(), member.id), feed_url=feed_url,
                           webcal_url=feed_url.replace("https://", "webcal://").replace("http://", "webcal://")
                           if feed_url else None)


@bp.get("/settings/calendar")
@login_required
def calendar() -> str:
    """Whether this member has a calendar link, and buttons to make a new one or turn it off."""
    return _calendar_page()


@bp.post("/settings/calendar")
@login_required
@transactional
def create_calendar() -> BaseResponse:
    """A new secret calendar URL, shown this once (any older URL stops working)."""
    session = get_session()
    token = create_feed(session, signed_in_member(), request_now())
    response = make_response(_calendar_page(token))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/settings/calendar/revoke")
@login_required
@transactional
def revoke_calendar() -> BaseResponse:
    """Turn this member's calendar URL off at once."""
    session = get_session()
    revoke_feeds(session, signed_in_member(), request_now())
    flash(gettext("Your calendar link is turned off."))
    return redirect(url_for("settings.calendar"), code=303)


# --- the family's data, for its owner ---------------------------------------------------------------------------

EXPORT_SPOOL_BYTES = 8 * 1024 * 1024  # larger archives (photos) spill to a temporary file, never all in memory


@bp.get("/settings/export")
@parent_required
def export_archive() -> BaseResponse:
    """The owner's download of everything the family holds: a zip of JSON documents, photos and a manifest."""
    session = get_session()
    member = signed_in_member()
    require_family_owner(session, member, g.family.id)
    archive = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)
    try:
        summary = export_family(session, g.family.id, uploads_root(), archive, now=request_now())
        with unit_of_work(session):
            record_export(session, member, g.family.id, summary, ip_address=request.remote_addr)
    except BaseException:
        archive.close()
        raise
    return spooled_download(archive, filename=f"{g.family.slug}-housepoints-{request_now():%Y-%m-%d}.zip")


# --- deleting the family --------------------------------------------------------------------------------------

def _delete_page(error: str | None = None, status: int = 200) -> BaseResponse:
    from app.platform.deletion import GRACE_DAYS

    apex = url_for("platform.families", _external=True)
    return make_response(render_template("settings/delete_family.html", error=error, grace_days=GRACE_DAYS,
                                         apex=apex), status)


@bp.get("/settings/delete")
@parent_required
def delete_family_page() -> BaseResponse:
    """What deleting the family means, and the form that does it (the owner's password)."""
    return _delete_page()


@bp.post("/settings/delete")
@parent_required
def delete_family() -> BaseResponse:
    """The owner deletes the family: 410 here from now on; the owner can cancel from the apex during the grace."""
    from app.domain import AuthenticationFailed
    from app.inputs import parse_action
    from app.platform.deletion import delete_family as delete_family_service
    from app.platform.inputs import ConfirmWithPasswordInput

    session = get_session()
    try:
        confirm = parse_action(ConfirmWithPasswordInput, request.form)
        with unit_of_work(session):
            delete_family_service(session, signed_in_member(), family_id=g.family.id, password=confirm.password,
                                  now=request_now(), ip_address=request.remote_addr)
    except (ValidationFailed, AuthenticationFailed) as refusal:
        return _delete_page(refusal_text(refusal), FORM_STATUS)
    registry().invalidate(g.family.slug)
    return navigate_to(url_for("platform.families", _external=True, deleted=g.family.slug))
