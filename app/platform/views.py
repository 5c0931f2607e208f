"""Apex pages: the landing page, sign-in and the family picker, password resets and email verification."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask.typing import ResponseReturnValue

from app.i18n import refusal_text
from app.db import get_session
from app.db.bases import utcnow
from app.domain import AuthenticationFailed, Conflict, LockedOut, ValidationFailed
from app.extensions import limiter
from app.mail import send_mail_after_commit
from app.platform import bp
from app.uow import unit_of_work
from app.platform.signin import (
    PLATFORM_USER_KEY, remember_platform_user, sign_out_of_every_family, signed_in_platform_user)

# app/platform/__init__.py imports this module, and almost every module imports app.platform.models, so this module
# runs while others (app.audit, app.auth, …) are half-imported: it imports them inside the views that use them.


# --- the apex's own session (a host-only cookie: family hosts never see it) -------------------------------------

def platform_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Apex pages for a signed-in platform account; g.platform_user is that account."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = signed_in_platform_user()
        if user is None:
            session.pop(PLATFORM_USER_KEY, None)
            return redirect(url_for("platform.login", next=request.full_path.rstrip("?")))
        g.platform_user = user
        return view(*args, **kwargs)
    return wrapped


# --- pages ------------------------------------------------------------------------------------------------------

@bp.get("/")
def landing() -> ResponseReturnValue:
    """What HousePoints is, and where to go next."""
    return render_template("platform/landing.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def login() -> ResponseReturnValue:
    """Sign in with the platform account, then on to the family (or the picker when there are several)."""
    from app.accounts.handoff import local_path, navigate_to
    from app.audit import record_audit
    from app.platform.services import authenticate_user

    next_path = request.values.get("next", "")
    if request.method == "GET":
        return render_template("platform/login.html", email="", error=None, next_path=next_path)
    email = request.form.get("email", "").strip()
    db = get_session()
    try:
        user = authenticate_user(db, email=email, password=request.form.get("password", ""), now=utcnow())
    except LockedOut as error:
        with unit_of_work(db):
            record_audit(db, "user.locked_out", ip_address=request.remote_addr,
                         actor_user_id=uuid.UUID(str(error.extra["user_id"])), details={"email": email.lower()[:254]})
        page = render_template("platform/login.html", email=email, error=refusal_text(error), next_path=next_path)
        return page, 423, {"Retry-After": str(error.extra["retry_after"])}
    except AuthenticationFailed as error:
        with unit_of_work(db):
            record_audit(db, "user.login_failed", ip_address=request.remote_addr,
                         details={"email": email.lower()[:254]})
        return render_template("platform/login.html", email=email, error=refusal_text(error),
                               next_path=next_path), 422
    with unit_of_work(db):
        record_audit(db, "user.login_succeeded", actor_user_id=user.id, target_type="user", target_id=user.id,
                     ip_address=request.remote_addr)
    remember_platform_user(user)
    # The picker may send the browser straight to a family host, so this must be a full navigation.
    target = local_path(next_path) if next_path else url_for("platform.families")
    return navigate_to(target)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Forget the platform account on this browser (family hosts keep their own sessions)."""
    session.clear()
    return redirect(url_for("platform.landing"), 303)


@bp.get("/families")
@platform_login_required
def families() -> ResponseReturnValue:
    """The family picker: one family opens at once, several are listed, none gets a way to start one."""
    from app.accounts.handoff import can_open, send_into_family
    from app.platform.services import families_of

    from app.platform.deletion import scheduled_deletions_of

    user = g.platform_user
    choices = families_of(get_session(), user.id)
    scheduled = scheduled_deletions_of(get_session(), user.id, current_app.config["DELETION_GRACE_DAYS"])
    if len(choices) == 1 and not scheduled and can_open(*choices[0]):
        family = choices[0][0]
        return send_into_family(slug=family.slug, user_id=user.id, family_id=family.id)
    return render_template("platform/families.html", user=user, choices=choices, can_open=can_open,
                           scheduled=scheduled)


@bp.post("/families/<slug>/cancel-deletion")
@platform_login_required
def cancel_deletion(slug: str) -> ResponseReturnValue:
    """The owner takes back a family's deletion during its grace period; its site opens again at once."""
    from app.platform.deletion import cancel_deletion as cancel_deletion_service
    from app.tenancy import registry

    db = get_session()
    with unit_of_work(db):
        family = cancel_deletion_service(db, g.platform_user, slug=slug, now=utcnow(),
                                         grace_days=current_app.config["DELETION_GRACE_DAYS"],
                                         ip_address=request.remote_addr)
    registry().invalidate(family.slug)
    flash(gettext("%(name)s is no longer scheduled for deletion. Everyone signs in again.", name=family.name))
    return redirect(url_for("platform.families"), 303)


@bp.route("/account/delete", methods=["GET", "POST"])
@platform_login_required
def delete_account() -> ResponseReturnValue:
    """A person deletes their platform account (password again): memberships and personal details go."""
    from app.inputs import parse_action
    from app.platform.deletion import delete_account as delete_account_service
    from app.platform.inputs import ConfirmWithPasswordInput

    if request.method == "GET":
        return render_template("platform/delete_account.html", error=None)
    db = get_session()
    try:
        confirm = parse_action(ConfirmWithPasswordInput, request.form)
        with unit_of_work(db):
            delete_account_service(db, g.platform_user, password=confirm.password, now=utcnow())
    except (ValidationFailed, AuthenticationFailed, Conflict) as refusal:
        return render_template("platform/delete_account.html", error=refusal_text(refusal)), 422
    session.clear()
    return render_template("platform/account_deleted.html")


@bp.post("/families/<slug>/open")
@platform_login_required
def open_family(slug: str) -> ResponseReturnValue:
    """Enter one of the user's families, signed in, without typing a password again."""
    from app.accounts.handoff import find_openable_family, send_into_family

    user = g.platform_user
    family = find_openable_family(get_session(), user.id, slug)
    if family is None:
        abort(404)
    return send_into_family(slug=family.slug, user_id=user.id, family_id=family.id)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the email has an account."""
    from app.audit import record_audit
    from app.platform.services import RESET_LIFETIME, password_reset_token

    if request.method == "GET":
        return render_template("platform/forgot_password.html", email="", error=None)
    email = request.form.get("email", "").strip()
    if not email:
        return render_template("platform/forgot_password.html", email="",
                               error=gettext("Please enter the email you signed up with")), 422
    db = get_session()
    found = password_reset_token(db, current_app.config["SECRET_KEY"], email)
    if found is not None:
        user, token = found
        with unit_of_work(db):
            record_audit(db, "user.password_reset_requested", actor_user_id=user.id, target_type="user",
                         target_id=user.id, ip_address=request.remote_addr)
        link = url_for("platform.reset_password", token=token, _external=True)
        minutes = int(RESET_LIFETIME.total_seconds() // 60)
        # The email speaks the language the person reads this page in (their browser's, on the apex).
        send_mail_after_commit(to=user.email, subject=gettext("Reset your HousePoints password"), body=gettext(
            "Hi %(name)s,\n\nSomeone (hopefully you) asked to reset your HousePoints password.\n"
            "Choose a new one here within %(minutes)s minutes:\n\n%(link)s\n\n"
            "The link works once. If you didn't ask, ignore this email: your password stays as it is.\n",
            name=user.display_name, minutes=minutes, link=link))
    return render_template("platform/forgot_password_sent.html", email=email)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password from an emailed link; expired, used or forged links get a clear 400 page."""
    from app.platform.services import reset_password_with_token

    db = get_session()
    secret = current_app.config["SECRET_KEY"]
    error = None
    if request.method == "POST" and request.form.get("password", "") == request.form.get("password_confirm", ""):
        try:
            with unit_of_work(db):
                user = reset_password_with_token(db, secret, token, password=request.form.get("password", ""),
                                                 now=utcnow())
            sign_out_of_every_family(user.id, utcnow())  # the old password's sessions and API tokens end
        except AuthenticationFailed as problem:
            return _link_problem(refusal_text(problem))
        except ValidationFailed as problem:
            error = refusal_text(problem)
        else:
            return render_template("platform/reset_password_done.html")
    else:
        link_problem = _reset_link_problem(token)
        if link_problem is not None:
            return _link_problem(link_problem)
        if request.method == "POST":
            error = gettext("The two passwords don't match")
    return render_template("platform/reset_password.html", token=token, error=error), 422 if error else 200


def _reset_link_problem(token: str) -> str | None:
    """Why a reset link cannot be used, or None when it can."""
    from app.platform.services import check_password_reset_token

    try:
        check_password_reset_token(get_session(), current_app.config["SECRET_KEY"], token)
    except AuthenticationFailed as problem:
        return refusal_text(problem)
    return None


@bp.get("/verify-email/<token>", endpoint="verify_email")
def verify_email_page(token: str) -> ResponseReturnValue:
    """Confirm the account's email address from the link sent at sign-up."""
    from app.audit import record_audit
    from app.platform.services import verify_email

    db = get_session()
    now = utcnow()
    try:
        with unit_of_work(db):
            user = verify_email(db, current_app.config["SECRET_KEY"], token, now=now)
            newly_verified = user.email_verified_at == now
            if newly_verified:
                record_audit(db, "user.email_verified", actor_user_id=user.id, target_type="user",
                             target_id=user.id, ip_address=request.remote_addr)
    except AuthenticationFailed as problem:
        return _link_problem(refusal_text(problem))
    return render_template("platform/verify_email.html", user=user, newly_verified=newly_verified)


def _link_problem(message: str) -> tuple[str, int]:
    return render_template("platform/link_problem.html", message=message,
                           title=gettext("That link didn't work")), 400
