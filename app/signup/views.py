"""Sign-up pages: the form, its live address check, and creating the family with its first parent."""
from __future__ import annotations

import secrets

from flask import current_app, render_template, request, session, url_for
from flask_babel import gettext
from flask.typing import ResponseReturnValue

from app.accounts.handoff import send_into_family
from app.db import engines, get_session
from app.db.bases import utcnow
from app.domain import DomainError
from app.extensions import limiter
from app.platform.services import VERIFY_LIFETIME, SignUp, email_verification_token, sign_up_family
from app.tenancy.slugs import MAX_LENGTH, slugify
from app.mail import send_mail_after_commit
from app.platform.signin import remember_platform_user
from app.signup import bp
from app.signup.forms import FAMILY_NAME_MAX, SignUpForm, SlugStatus, slug_status, timezone_choices
from app.tenancy import registry
from app.tenancy.cli import placement_config
from app.uow import unit_of_work

SIGNUP_LIMIT = "10/hour;3/minute"
SIGNED_UP_KEY = "signed_up"  # the apex session remembers the last form it created a family from
WELCOME_PATH = "/welcome"


@bp.get("/signup")
def start() -> ResponseReturnValue:
    """The sign-up form."""
    return _page(SignUpForm(nonce=secrets.token_urlsafe(16)))


@bp.post("/signup")
@limiter.limit(SIGNUP_LIMIT)
def submit() -> ResponseReturnValue:
    """Create the family, its owner and its first parent; land them signed in on the family's own address."""
    form = SignUpForm.from_request(request.form)
    done = session.get(SIGNED_UP_KEY)
    if form.nonce and isinstance(done, dict) and done.get("nonce") == form.nonce:
        form.errors["form"] = gettext("This form was sent twice: “%(name)s” is already set up at %(address)s.",
                                      name=done.get("name"),
                                      address=f"{done.get('slug')}.{current_app.config['BASE_DOMAIN']}")
        return _page(form, already_created=True), 422
    db = get_session()
    if not form.validate(db):
        return _page(form), 422
    try:
        # Provisioning spans two databases, so the service commits (or cleans up) by itself; the unit of work
        # rolls back a refusal (it may come from a failed flush, and the page below still reads the database).
        with unit_of_work(db):
            result = sign_up_family(db, engines(), placement_config(), email=form.email, password=form.password,
                                    display_name=form.display_name, family_name=form.family_name, slug=form.slug,
                                    timezone=form.timezone, now=utcnow(), ip_address=request.remote_addr)
    except DomainError as error:
        form.add_service_error(error)
        return _page(form), 422
    registry().invalidate(result.family.slug)  # no process may answer the new family from a remembered miss
    _send_verification_mail(result)
    remember_platform_user(result.user)
    session[SIGNED_UP_KEY] = {"nonce": form.nonce, "slug": result.family.slug, "name": result.family.name}
    return send_into_family(slug=result.family.slug, user_id=result.user.id, family_id=result.family.id,
                            next_path=WELCOME_PATH)


@bp.get("/signup/check-slug")
def check_slug() -> ResponseReturnValue:
    """Fragment: is this address free, and if not, why and which free ones are near it."""
    status = slug_status(get_session(), request.args.get("slug", "")[: MAX_LENGTH + 10],
                         city=request.args.get("city", "")[:80])
    return render_template("signup/_slug_status.html", status=status)


@bp.get("/signup/slug-field")
def slug_field() -> ResponseReturnValue:
    """Fragment: the address field, proposed from the family name until the parent picks or types one."""
    slug = request.args.get("slug", "").strip().lower()[: MAX_LENGTH + 10]
    touched = request.args.get("slug_touched") == "1" and bool(slug)
    if not touched:
        family_name = request.args.get("family_name", "").strip()[:FAMILY_NAME_MAX]
        slug = slugify(family_name) if family_name else ""
    status = slug_status(get_session(), slug, city=request.args.get("city", "")[:80])
    return render_template("signup/_slug_field.html", slug=slug, touched=touched, status=status)


def _page(form: SignUpForm, *, already_created: bool = False) -> str:
    if "slug" in form.errors:
        status = SlugStatus(form.slug, message=form.errors["slug"], alternatives=form.alternatives)
    elif already_created:
        status = SlugStatus(form.slug)  # "taken" would be true but beside the point: it is their own family
    else:
        status = slug_status(get_session(), form.slug, city=form.city)
    return render_template("signup/signup.html", form=form, status=status, timezones=timezone_choices(),
                           already_created=already_created)


def _send_verification_mail(result: SignUp) -> None:
    token = email_verification_token(current_app.config["SECRET_KEY"], result.user)
    link = url_for("platform.verify_email", token=token, _external=True)
    home = url_for("family_home.index", family=result.family.slug, _external=True)
    send_mail_after_commit(to=result.user.email, subject=gettext("Confirm your email for HousePoints"), body=gettext(
        "Hi %(name)s,\n\nWelcome to HousePoints! %(family)s now lives at %(home)s\n\n"
        "Please confirm this is your email address (the link works for %(days)s days):\n\n%(link)s\n\n"
        "If you didn't sign up, ignore this email.\n",
        name=result.user.display_name, family=result.family.name, home=home, days=VERIFY_LIFETIME.days, link=link))
