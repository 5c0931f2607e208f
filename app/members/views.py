"""Member management pages: list, add, edit, deactivate/reactivate, reset PINs and passwords, roles, ownership."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, refresh
from werkzeug.wrappers import Response as BaseResponse

from app.auth import current_member, signed_in_member
from app.auth.decorators import login_required, parent_required
from app.db import get_session
from app.domain import DomainError
from app.htmx import HxEvent, is_htmx, trigger, vary_on_htmx
from app.i18n import refusal_text
from app.inputs import parse_input
from app.languages import translatable
from app.members import bp
from app.members.adding import audit_member_change as _audit, create_from_form
from app.members.forms import (
    AVATAR_CHOICES,
    FormState,
    edit_values,
    family_today,
    login_means,
    now,
    read_edit_form,
    read_kid_form,
    read_parent_form,
    read_password_form,
    read_pin_form,
)
from app.members.inputs import LanguageChoice, MemberChanges
from app.members.models import Member
from app.members.services import (
    suggested_colors,
    deactivate_member,
    get_member_or_404,
    list_members,
    membership_roles,
    promote_to_parent,
    reactivate_member,
    reset_password,
    reset_pin,
    set_language,
    transfer_ownership,
    update_member,
)
from app.uow import unit_of_work

MEMBERS_CHANGED = HxEvent.MEMBERS_CHANGED  # the lists reload themselves on this event


# --- helpers ---------------------------------------------------------------------------------------------------

def _load(member_id: str) -> Member:
    # Another family's id is simply not found: the session only sees this family's rows.
    return get_member_or_404(get_session(), member_id, include_inactive=True)


def _row_context() -> dict[str, Any]:
    return {"me": current_member(), "roles": membership_roles(get_session(), g.family.id), "today": family_today(),
            "login_means": login_means}


def _list_context() -> dict[str, Any]:
    members = list_members(get_session(), include_inactive=True)
    return {"active": [m for m in members if m.is_active], "inactive": [m for m in members if not m.is_active],
            **_row_context()}


def _form_context(state: FormState, **extra: Any) -> dict[str, Any]:
    return {"state": state, "avatars": AVATAR_CHOICES, "colors": suggested_colors(get_session()),
            "cancel_url": url_for("members.index"), **extra}


def _page_or_fragment(fragment: str, context: dict[str, Any], *, title: str, status: int = 200,
                      in_list: bool = False) -> Response:
    """The fragment for an htmx swap, the same fragment inside a full page otherwise."""
    if is_htmx():
        body = render_template(fragment, **context)
    else:
        body = render_template("members/form_page.html", fragment=fragment, page_title=title, in_list=in_list,
                               **context)
    return vary_on_htmx(make_response(body, status))


def _kid_form(state: FormState, status: int = 200) -> Response:
    action = url_for("members.add_kid")
    return _page_or_fragment("members/_kid_form.html", _form_context(state, form_action=action),
                             title=gettext("Add a kid"), status=status)


def _parent_form(state: FormState, status: int = 200) -> Response:
    action = url_for("members.add_parent")
    return _page_or_fragment("members/_parent_form.html", _form_context(state, form_action=action),
                             title=gettext("Add a parent"), status=status)


ROW_FORMS = {
    # kind: (title, fields template, submit label, POST endpoint)
    "edit": (translatable("Edit %(name)s"), "members/_edit_fields.html", translatable("Save"), "members.update"),
    "pin": (translatable("New PIN for %(name)s"), "members/_pin_fields.html", translatable("Set PIN"),
            "members.reset_pin"),
    "password": (translatable("New password for %(name)s"), "members/_password_fields.html",
                 translatable("Set password"), "members.reset_password"),
}


def _row_form(kind: str, member: Member, state: FormState, status: int = 200) -> Response:
    title, body, submit, endpoint = ROW_FORMS[kind]
    title, submit = gettext(title, name=member.display_name), gettext(submit)
    context = _form_context(state, m=member, form_title=title, form_body=body, submit_label=submit,
                            form_action=url_for(endpoint, member_id=member.id))
    return _page_or_fragment("members/_row_form.html", context, title=title, status=status, in_list=True)


def _row_result(member: Member, *, status: int = 200, error: str | None = None, notice: str | None = None,
                lists_changed: bool = False) -> Response | BaseResponse:
    """After a row action: the row (htmx), else back to the list; a refusal re-renders with its message (422)."""
    if is_htmx():
        response = make_response(render_template("members/_row.html", m=member, row_error=error,
                                                 row_notice=notice, **_row_context()), status)
        return trigger(response, MEMBERS_CHANGED) if lists_changed else response
    if error is not None:
        return make_response(render_template("members/index.html", page_error=error, **_list_context()), status)
    return redirect(url_for("members.index"), 303)


def _refused(member: Member, error: DomainError) -> Response | BaseResponse:
    return _row_result(member, status=422, error=refusal_text(error))


# --- the list --------------------------------------------------------------------------------------------------

@bp.get("/members")
@parent_required
def index() -> Response:
    """Everyone in the family, active and deactivated, with what a parent can do to each."""
    context = _list_context()
    template = "members/_lists.html" if is_htmx() else "members/index.html"
    return vary_on_htmx(make_response(render_template(template, **context)))


@bp.get("/members/<member_id>")
@parent_required
def show(member_id: str) -> Response:
    """One member's row (a cancelled form swaps back to it)."""
    member = _load(member_id)
    return _page_or_fragment("members/_row.html", {"m": member, **_row_context()}, title=member.display_name,
                             in_list=True)


# --- adding ----------------------------------------------------------------------------------------------------

@bp.get("/members/new-kid")
@parent_required
def new_kid() -> Response:
    """The add-a-kid form."""
    return _kid_form(FormState())


@bp.post("/members/kids")
@parent_required
def add_kid() -> Response | BaseResponse:
    """Add a kid: a PIN for the tablet, optionally a username and password."""
    state, fields = read_kid_form(request.form, get_session(), family_today())
    member = create_from_form(state, fields)
    if member is None:
        return _kid_form(state, 422)
    if is_htmx():
        added = gettext("%(name)s was added.", name=member.display_name)
        return trigger(_kid_form(FormState(notice=added)), MEMBERS_CHANGED)
    return redirect(url_for("members.index"), 303)


@bp.get("/members/new-parent")
@parent_required
def new_parent() -> Response:
    """The add-a-parent form (a parent without a platform account)."""
    return _parent_form(FormState())


@bp.post("/members/parents")
@parent_required
def add_parent() -> Response | BaseResponse:
    """Add a parent who signs in with a username and password."""
    state, fields = read_parent_form(request.form)
    member = create_from_form(state, fields)
    if member is None:
        return _parent_form(state, 422)
    if is_htmx():
        added = gettext("%(name)s was added.", name=member.display_name)
        return trigger(_parent_form(FormState(notice=added)), MEMBERS_CHANGED)
    return redirect(url_for("members.index"), 303)


# --- editing ---------------------------------------------------------------------------------------------------

@bp.get("/members/<member_id>/edit")
@parent_required
def edit(member_id: str) -> Response:
    """The edit form, in place of the member's row."""
    member = _load(member_id)
    return _row_form("edit", member, FormState(values=edit_values(member)))


@bp.post("/members/<member_id>")
@parent_required
def update(member_id: str) -> Response | BaseResponse:
    """Save names, username, colour, avatar, birth date and the sign-in and auto-approve switches."""
    member = _load(member_id)
    session = get_session()
    state, changes = read_edit_form(request.form, member, family_today())
    if member.id == signed_in_member().id and not changes["login_enabled"]:
        state.errors["login_enabled"] = gettext("You can't turn off your own sign-in.")
    if state.ok:
        try:
            with unit_of_work(session):
                update_member(session, member, actor=signed_in_member(), today=family_today(),
                              changes=parse_input(MemberChanges, changes))
                _audit("member.updated", member, fields=sorted(changes))
        except DomainError as error:
            state.refuse(error)
    if not state.ok:
        return _row_form("edit", member, state, 422)
    return _row_result(member, notice=gettext("Saved."))


# --- activation ------------------------------------------------------------------------------------------------

@bp.post("/members/<member_id>/deactivate")
@parent_required
def deactivate(member_id: str) -> Response | BaseResponse:
    """Deactivate a member: hidden from lists and signed out everywhere (never yourself or the owner)."""
    member = _load(member_id)
    try:
        with unit_of_work() as work:
            deactivate_member(work.session, member, actor=signed_in_member(), now=now())
            _audit("member.deactivated", member, role=member.role)
    except DomainError as error:
        return _refused(member, error)
    return _row_result(member, notice=gettext("%(name)s was deactivated.", name=member.display_name),
                       lists_changed=True)


@bp.post("/members/<member_id>/reactivate")
@parent_required
def reactivate(member_id: str) -> Response | BaseResponse:
    """Bring a member back, if the plan has room."""
    member = _load(member_id)
    try:
        with unit_of_work() as work:
            reactivate_member(work.session, member, actor=signed_in_member(), plan=g.family.plan)
            _audit("member.reactivated", member, role=member.role)
    except DomainError as error:
        return _refused(member, error)
    return _row_result(member, notice=gettext("%(name)s is back.", name=member.display_name), lists_changed=True)


# --- secrets ---------------------------------------------------------------------------------------------------

@bp.get("/members/<member_id>/pin")
@parent_required
def pin_form(member_id: str) -> Response:
    """The new-PIN form, in place of the row."""
    return _row_form("pin", _load(member_id), FormState())


@bp.post("/members/<member_id>/pin", endpoint="reset_pin")
@parent_required
def reset_pin_view(member_id: str) -> Response | BaseResponse:
    """Set a kid's tablet PIN."""
    member = _load(member_id)
    state, pin = read_pin_form(request.form)
    if state.ok and pin is not None:
        try:
            with unit_of_work() as work:
                reset_pin(work.session, member, actor=signed_in_member(), pin=pin)
                _audit("member.pin_reset", member)
        except DomainError as error:
            state.refuse(error)
    if not state.ok:
        return _row_form("pin", member, state, 422)
    return _row_result(member, notice=gettext("PIN changed."))


@bp.get("/members/<member_id>/password")
@parent_required
def password_form(member_id: str) -> Response:
    """The new-password form, in place of the row."""
    return _row_form("password", _load(member_id), FormState())


@bp.post("/members/<member_id>/password", endpoint="reset_password")
@parent_required
def reset_password_view(member_id: str) -> Response | BaseResponse:
    """Set the password of a kid or of a parent without an account (they are signed out everywhere)."""
    member = _load(member_id)
    state, password = read_password_form(request.form)
    if state.ok and password is not None:
        try:
            with unit_of_work() as work:
                reset_password(work.session, member, actor=signed_in_member(), password=password, now=now())
                _audit("member.password_reset", member)
        except DomainError as error:
            state.refuse(error)
    if not state.ok:
        return _row_form("password", member, state, 422)
    return _row_result(member, notice=gettext("Password changed."))


# --- roles and ownership ---------------------------------------------------------------------------------------

@bp.post("/members/<member_id>/make-parent")
@parent_required
def make_parent(member_id: str) -> Response | BaseResponse:
    """Promote a kid (with a password) to parent."""
    member = _load(member_id)
    previous = member.role
    try:
        with unit_of_work() as work:
            promote_to_parent(work.session, member, actor=signed_in_member(), plan=g.family.plan, today=family_today())
            _audit("member.role_changed", member, **{"from": previous, "to": member.role})
    except DomainError as error:
        return _refused(member, error)
    return _row_result(member, notice=gettext("%(name)s is now a parent.", name=member.display_name),
                       lists_changed=True)


@bp.post("/members/<member_id>/make-owner")
@parent_required
def make_owner(member_id: str) -> Response | BaseResponse:
    """The owner hands the family to a co-parent with an account (the old owner stays a parent)."""
    member = _load(member_id)
    try:
        with unit_of_work() as work:
            transfer_ownership(work.session, family_id=g.family.id, actor=signed_in_member(), new_owner=member)
            _audit("family.ownership_transferred", member, previous_owner=str(signed_in_member().id))
    except DomainError as error:
        return _refused(member, error)
    return _row_result(member, notice=gettext("%(name)s now owns the family.", name=member.display_name),
                       lists_changed=True)


# --- language --------------------------------------------------------------------------------------------------

def _language_target() -> Member:
    """Whose language: the signed-in member's own, or (for a parent) the member named by `?member=`."""
    chosen = request.values.get("member")
    return _load(chosen) if chosen else signed_in_member()


@bp.get("/language")
@login_required
def language() -> Response:
    """Choose the language of your pages (kids too); a parent may choose for another member."""
    member = _language_target()
    if member.id != signed_in_member().id and not signed_in_member().is_parent:
        abort(403, description=translatable("Only parents can choose another member's language."))
    return make_response(render_template("members/language.html", member=member, error=None))


@bp.post("/language")
@login_required
def save_language() -> Response | BaseResponse:
    """Save a member's language; the answer (and every page after it) speaks the new one."""
    member = _language_target()
    try:
        with unit_of_work():
            set_language(member, actor=signed_in_member(), choice=parse_input(LanguageChoice, request.form))
    except DomainError as error:
        return make_response(render_template("members/language.html", member=member,
                                             error=gettext("Please choose one of the languages listed.")),
                             error.status if error.status != 400 else 422)
    refresh()  # the locale was chosen before the save: choose again so the notice speaks the new language
    flash(gettext("Language saved."))
    target = url_for("members.language", member=request.form.get("member") or None)
    return redirect(target, 303)
