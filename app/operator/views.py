"""The operator console's pages: sign-in, families, one family and its actions, analytics and the audit log."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import engines, get_session, platform_engine
from app.db.bases import utcnow
from app.domain import AuthenticationFailed, Conflict, LockedOut, ValidationFailed
from app.extensions import limiter
from app.inputs import parse_input
from app.live.events import close_family_streams
from app.operator import bp
from app.operator.analytics import measure_family
from app.operator.inputs import AuditQuery, DeleteInput, FamilyQuery, MoveInput, OperatorSignInInput, PlanInput, \
    SuspendInput
from app.operator.services import (SIGN_IN_ERROR, analytics_series, audit_page, change_plan,
                                   delete_family_for_operator, family_accounts, get_family, list_families, operators,
                                   reactivate_family, record_operator_export, restore_family, suspend_family)
from app.operator.signin import remember_operator, signed_in_operator
from app.platform.models import FamilyPlacement, FamilyStatus, Plan
from app.platform.deletion import purge_due
from app.platform.moves import MoveError, move_family
from app.reports.charts import Series, lines
from app.tenancy import registry
from app.tenancy.cli import placement_config
from app.tenancy.context import family_context
from app.transfer.archive import export_family
from app.uow import unit_of_work
from app.web import spooled_download

ANALYTICS_RANGES = (7, 30, 90)
EXPORT_SPOOL_BYTES = 8 * 1024 * 1024  # a larger archive spills to a temporary file, never all in memory
CHARTS = (("families", "Families", "#4b5bdc"), ("signups", "Sign-ups", "#1e7b45"),
          ("active_members", "Daily active members", "#b3541e"), ("chores_completed", "Chores completed", "#7b1e6b"))


def operator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Console pages for a signed-in operator; g.operator is that account. Anyone else goes to the sign-in page."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        operator = signed_in_operator()
        if operator is None:
            session.clear()
            return redirect(url_for("operator.login", next=request.path), 303)
        g.operator = operator
        return view(*args, **kwargs)
    return wrapped


@bp.get("/")
@operator_required
def index() -> ResponseReturnValue:
    """The console opens on the families list."""
    return redirect(url_for("operator.families"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def login() -> ResponseReturnValue:
    """Operators sign in with their platform password; five failures lock the account for a while."""
    from app.operator.services import authenticate_operator

    next_path = _local_path(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("operator/login.html", email="", error=None, next_path=next_path)
    email = request.form.get("email", "").strip()[:254]
    try:
        credentials = parse_input(OperatorSignInInput, {"email": email, "password": request.form.get("password")})
    except ValidationFailed:
        return render_template("operator/login.html", email=email, error=SIGN_IN_ERROR, next_path=next_path), 422
    db = get_session()
    try:
        operator = authenticate_operator(db, email=credentials.email, password=credentials.password, now=utcnow(),
                                         ip_address=request.remote_addr)
    except LockedOut as error:
        with unit_of_work(db):  # the failure that locked the account is kept
            record_audit(db, "operator.locked_out", target_type="user", target_id=error.extra.get("user_id"),
                         ip_address=request.remote_addr)
        response = render_template("operator/login.html", email=email, error=error.message, next_path=next_path)
        return response, 423, {"Retry-After": str(error.extra.get("retry_after", 60))}
    except AuthenticationFailed as error:
        with unit_of_work(db):  # the audited failure counts towards the lockout
            pass
        return render_template("operator/login.html", email=email, error=error.message, next_path=next_path), 422
    with unit_of_work(db):
        record_audit(db, "operator.signed_in", actor_user_id=operator.id, target_type="user", target_id=operator.id,
                     ip_address=request.remote_addr)
    remember_operator(operator)
    return redirect(next_path or url_for("operator.families"), 303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the console session on this browser."""
    operator = signed_in_operator()
    if operator is not None:
        db = get_session()
        with unit_of_work(db):
            record_audit(db, "operator.signed_out", actor_user_id=operator.id, target_type="user",
                         target_id=operator.id, ip_address=request.remote_addr)
    session.clear()
    return redirect(url_for("operator.login"), 303)


@bp.get("/families")
@operator_required
def families() -> ResponseReturnValue:
    """Every family: find by slug or name, filter by status and plan; sizes are the latest daily measurement."""
    try:
        query = parse_input(FamilyQuery, request.args.to_dict())
    except ValidationFailed as error:
        return _filter_problem("operator/families.html", error, query=None)
    found = list_families(get_session(), query)
    return render_template("operator/families.html", query=query, found=found, statuses=list(FamilyStatus),
                           plans=list(Plan), error=None)


@bp.get("/families/<slug>")
@operator_required
def family(slug: str) -> ResponseReturnValue:
    """One family: its registry row, accounts, live numbers and recent audit entries; the actions."""
    db = get_session()
    record = get_family(db, slug)
    measure, problem = None, None
    if record.deleted_at is None:
        try:
            measure = measure_family(record.slug, utcnow().date())
        except Exception:  # noqa: BLE001 - the page still shows the registry row when the family's database is down
            current_app.logger.exception("could not measure family %s", record.slug)
            problem = "This family's database could not be measured just now."
    recent = audit_page(db, AuditQuery(family=record.slug))
    return render_template("operator/family.html", family=record, accounts=family_accounts(db, record.id),
                           measure=measure, problem=problem, recent=recent, plans=list(Plan),
                           clusters=sorted(placement_config().all_clusters()), placements=list(FamilyPlacement),
                           purge_on=purge_due(record.deleted_at) if record.deleted_at else None)


@bp.post("/families/<slug>/suspend")
@operator_required
def suspend(slug: str) -> ResponseReturnValue:
    """Suspend the family: its site answers 403 until reactivated, and its open live streams end."""
    data = parse_input(SuspendInput, request.form.to_dict())
    return _family_action(slug, lambda db: suspend_family(db, g.operator, slug, data, now=utcnow(),
                                                          ip_address=request.remote_addr), end_streams=True)


@bp.post("/families/<slug>/reactivate")
@operator_required
def reactivate(slug: str) -> ResponseReturnValue:
    """Lift the suspension."""
    return _family_action(slug, lambda db: reactivate_family(db, g.operator, slug, now=utcnow(),
                                                             ip_address=request.remote_addr))


@bp.post("/families/<slug>/plan")
@operator_required
def plan(slug: str) -> ResponseReturnValue:
    """Move the family to another plan."""
    data = parse_input(PlanInput, request.form.to_dict())
    return _family_action(slug, lambda db: change_plan(db, g.operator, slug, data, now=utcnow(),
                                                       ip_address=request.remote_addr))


@bp.post("/families/<slug>/delete")
@operator_required
def delete(slug: str) -> ResponseReturnValue:
    """Delete the family (the address typed again): 410 at once, purged after the grace period."""
    data = parse_input(DeleteInput, request.form.to_dict())
    family = get_family(get_session(), slug)
    if family.deleted_at is not None:
        raise Conflict("This family is already deleted.")
    operator = g.operator  # family_context pushes an app context of its own (a fresh g)
    # The family's sessions and tablets are signed out in the same unit: a session over both databases.
    with family_context(family.slug) as ctx, unit_of_work(ctx.session) as work:
        delete_family_for_operator(ctx.session, operator, family.slug, data, now=utcnow(),
                                   ip_address=request.remote_addr)
        work.after_commit(registry().invalidate, family.slug)
    return redirect(url_for("operator.family", slug=family.slug), 303)


@bp.post("/families/<slug>/restore")
@operator_required
def restore(slug: str) -> ResponseReturnValue:
    """Take a deletion back during the grace period."""
    return _family_action(slug, lambda db: restore_family(db, g.operator, slug, now=utcnow(),
                                                          ip_address=request.remote_addr))


@bp.post("/families/<slug>/move")
@operator_required
def move(slug: str) -> ResponseReturnValue:
    """Move the family to another cluster or placement, online (its writes pause during the copy); the move
    commits itself and records `family.moved` with the operator as actor."""
    data = parse_input(MoveInput, request.form.to_dict())
    family = get_family(get_session(), slug)
    with Session(platform_engine(), expire_on_commit=False) as platform:
        try:
            move_family(platform, engines(), placement_config(), registry(), slug=family.slug,
                        to_cluster=data.cluster, placement=data.placement, actor_user_id=g.operator.id)
        except MoveError as error:
            raise Conflict(str(error)) from None
    return redirect(url_for("operator.family", slug=family.slug), 303)


@bp.post("/families/<slug>/export")
@operator_required
def export(slug: str) -> ResponseReturnValue:
    """Download the family's archive without its photos (operators never see them); the download is audited."""
    db = get_session()
    family = get_family(db, slug)
    if family.deleted_at is not None:
        raise Conflict("This family is deleted; its data can no longer be exported here.")
    archive = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)
    try:
        with tempfile.TemporaryDirectory() as no_photos, family_context(family.slug) as ctx:
            summary = export_family(ctx.session, family.id, Path(no_photos), archive, now=utcnow())
        with unit_of_work(db):
            record_operator_export(db, g.operator, family, sum(summary.rows.values()),
                                   ip_address=request.remote_addr)
    except BaseException:
        archive.close()
        raise
    return spooled_download(archive, filename=f"housepoints-{family.slug}-{utcnow():%Y%m%d-%H%M%S}-no-photos.zip")


def _family_action(slug: str, action: Callable[[Any], Any], *, end_streams: bool = False) -> ResponseReturnValue:
    """Run one action in one unit of work; every process forgets the family's cached record once it is kept (and,
    when the family's site closes, its open live streams end)."""
    db = get_session()
    with unit_of_work(db) as work:
        changed = action(db)
        work.after_commit(registry().invalidate, changed.slug)
        if end_streams:
            work.after_commit(close_family_streams, changed.id)
    return redirect(url_for("operator.family", slug=changed.slug), 303)


@bp.get("/analytics")
@operator_required
def analytics() -> ResponseReturnValue:
    """The platform's daily numbers, charted (computed by the tick once a day)."""
    days = request.args.get("days", "30")
    if days not in {str(choice) for choice in ANALYTICS_RANGES}:
        return render_template("operator/analytics.html", charts=[], days=30, ranges=ANALYTICS_RANGES,
                               error="Choose 7, 30 or 90 days."), 400
    until = utcnow().date() - timedelta(days=1)
    dates, series = analytics_series(get_session(), until=until, days=int(days))
    groups = [f"{day.day} {day.strftime('%b')}" for day in dates]
    charts = [lines(f"metric-{metric}", title, groups, [Series(title, color, tuple(series[metric]))],
                    what=title.lower()) for metric, title, color in CHARTS]
    return render_template("operator/analytics.html", charts=charts, days=int(days), ranges=ANALYTICS_RANGES,
                           error=None)


@bp.get("/audit")
@operator_required
def audit() -> ResponseReturnValue:
    """The audit log, newest first, filtered by family, operator, action and dates."""
    db = get_session()
    try:
        query = parse_input(AuditQuery, request.args.to_dict())
        found = audit_page(db, query)
    except ValidationFailed as error:
        return _filter_problem("operator/audit.html", error, query=None, operators=operators(db))
    return render_template("operator/audit.html", query=query, found=found, operators=operators(db), error=None)


def _filter_problem(template: str, error: ValidationFailed, **context: Any) -> ResponseReturnValue:
    """A filter no list can answer: the page again with the problem, and 400."""
    return render_template(template, found=None, statuses=list(FamilyStatus), plans=list(Plan),
                           error=error.message, **context), 400


def _local_path(path: str) -> str:
    """`path` when it is a path on this host (never another origin), else nothing."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 512:
        return path
    return ""
