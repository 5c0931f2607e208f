"""`flask families import-legacy SLUG --from URL` and `flask families compare-legacy SLUG --from URL`."""
from __future__ import annotations

import time
from dataclasses import dataclass

import click
from flask import current_app, url_for
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import engines, platform_engine
from app.legacy.importer import ImportPlan, LegacyReport, apply_plan, imported_from, plan_import, reconcile
from app.legacy.reader import LegacyData, LegacySourceError, read_legacy, safe_url
from app.members.models import Member
from app.platform.models import Family, FamilyPlacement, MembershipRole
from app.platform.services import create_invitation
from app.tenancy import registry
from app.tenancy.cli import placement_config
from app.tenancy.context import family_context
from app.tenancy.provisioning import ProvisioningError, provision_family
from app.web import request_now


class ImportAborted(Exception):
    """The written family did not reconcile: everything is rolled back."""

    def __init__(self, report: LegacyReport) -> None:
        super().__init__("the imported family does not reconcile with the legacy data")
        self.report = report


@dataclass
class Invite:
    email: str
    role: str
    link: str


@click.command("import-legacy")
@click.argument("slug")
@click.option("--from", "source", required=True, metavar="POSTGRESQL_URL", help="The legacy database.")
@click.option("--name", default=None, help="Display name (default: the legacy family_name setting).")
@click.option("--placement", type=click.Choice([placement.value for placement in FamilyPlacement]), default=None,
              help="Default: FAMILY_PLACEMENT (unset: dedicated on SQLite, else pooled).")
@click.option("--dry-run", is_flag=True, help="Read, map and reconcile; write nothing.")
@click.option("--send-invites", is_flag=True, help="Email the parents their invitations (default: print the links).")
@with_appcontext
def import_legacy_command(slug: str, source: str, name: str | None, placement: str | None, dry_run: bool,
                          send_invites: bool) -> None:
    """Create family SLUG from a legacy HousePoints database and print the reconciliation report."""
    started = time.perf_counter()
    data = _read(source)
    plan = plan_import(data)
    if _already_imported(slug, source, data, plan):
        return
    if plan.report.unexplained():
        click.echo(plan.report.render())
        raise click.ClickException("The legacy data has the problems listed above; nothing was imported.")
    if dry_run:
        click.echo(plan.report.render())
        click.echo(f"Dry run: nothing was written ({len(plan.postings)} ledger rows would be posted).")
        return
    invites: list[Invite] = []
    try:
        with Session(platform_engine(), expire_on_commit=False) as platform_session:
            family = provision_family(
                platform_session, engines(), placement_config(), slug=slug,
                name=name or plan.family_name or slug, placement=placement, timezone=plan.timezone,
                populate=lambda session, family: _populate(session, platform_session, family, data, plan, source,
                                                           invites))
    except ImportAborted as aborted:
        click.echo(aborted.report.render())
        raise click.ClickException("The imported family did not reconcile; nothing was kept.") from None
    except IntegrityError as error:
        detail = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
        raise click.ClickException(
            "Rows with these ids already exist in the target database (was this legacy family already imported "
            f"under another address?); nothing was kept. Use --placement dedicated. The database said: {detail}"
        ) from None
    except ProvisioningError as error:
        hint = f" Free alternatives: {', '.join(error.alternatives)}." if error.alternatives else ""
        raise click.ClickException(f"{error}{hint}") from None
    registry().invalidate(family.slug)
    click.echo(plan.report.render())
    _hand_out(invites, family, send=send_invites)
    click.echo(f"Imported {family.slug} ({family.placement}) from {safe_url(source)} in "
               f"{time.perf_counter() - started:.2f}s. Kids get a PIN from a parent (Members → Set PIN).")


@click.command("compare-legacy")
@click.argument("slug")
@click.option("--from", "source", required=True, metavar="POSTGRESQL_URL", help="The legacy database.")
@with_appcontext
def compare_legacy_command(slug: str, source: str) -> None:
    """Reconcile family SLUG with the legacy database again (the parallel-run check); exit 1 on a difference."""
    data = _read(source)
    plan = plan_import(data)
    report = _reconciled(slug, data, plan)
    click.echo(report.render())
    if report.unexplained():
        raise click.exceptions.Exit(1)


def _read(source: str) -> LegacyData:
    try:
        with click.progressbar(length=1, label=f"Reading {safe_url(source)}") as bar:
            data = read_legacy(source)
            bar.update(1)
        return data
    except LegacySourceError as error:
        raise click.ClickException(str(error)) from None


def _reconciled(slug: str, data: LegacyData, plan: ImportPlan) -> LegacyReport:
    from app.tenancy.context import FamilyNotFound

    try:
        with family_context(slug) as ctx:
            return reconcile(ctx.session, data, plan)
    except FamilyNotFound as error:
        raise click.ClickException(str(error)) from None


def _already_imported(slug: str, source: str, data: LegacyData, plan: ImportPlan) -> bool:
    """A second run: the family came from this very database, so compare and change nothing."""
    with Session(platform_engine()) as session:
        family = session.scalar(select(Family).where(Family.slug == slug.strip().lower()))
    if family is None or family.deleted_at is not None:
        return False
    with family_context(family.slug) as ctx:
        marker = imported_from(ctx.session)
    if not marker or marker.get("source") != safe_url(source):
        return False  # provisioning refuses the taken slug with its own message
    report = _reconciled(family.slug, data, plan)
    click.echo(report.render())
    click.echo(f"{family.slug} was already imported from {safe_url(source)} on {marker.get('imported_at')}; "
               "nothing was changed.")
    if report.unexplained():
        raise click.exceptions.Exit(1)
    return True


def _populate(session: Session, platform_session: Session, family: Family, data: LegacyData, plan: ImportPlan,
              source: str, invites: list[Invite]) -> None:
    """Inside provisioning's all-or-nothing step: the rows, the ledger, the check, then the parents' invitations."""
    steps = sum(len(rows) for rows in plan.rows.values()) + len(plan.postings)
    with click.progressbar(length=steps, label="Importing") as bar:
        apply_plan(session, plan, source=safe_url(source), now=request_now(), progress=bar.update)
    report = reconcile(session, data, plan)
    if report.unexplained():
        raise ImportAborted(report)
    for position, (_member_id, email) in enumerate(plan.parents):
        inviter = session.get(Member, plan.parents[0][0])
        assert inviter is not None
        try:
            invitation, token = create_invitation(platform_session, current_app.config["SECRET_KEY"],
                                                  family_id=family.id, inviter=inviter, email=email,
                                                  now=request_now())
        except ValueError as error:  # an address the invitation rules refuse: reported, the import goes on
            plan.report.notes.append(f"no invitation for {email}: {error}")
            continue
        if position == 0:
            invitation.role = MembershipRole.OWNER  # the family's first parent owns it
        invites.append(Invite(email=invitation.email, role=str(invitation.role), link=token))


def _hand_out(invites: list[Invite], family: Family, *, send: bool) -> None:
    """Print each parent's invitation link (or email it): accepting links their account to their member."""
    from app.mail import deliver

    for invite in invites:
        link = url_for("onboarding.join", token=invite.link, family=family.slug, _external=True)
        if send:
            deliver(to=invite.email, subject=f"Your family {family.name} has moved to HousePoints",
                    body=f"Set your password and sign in to {family.name}:\n{link}\n\nThe link works for 7 days.")
            click.echo(f"Invitation ({invite.role}) emailed to {invite.email}")
        else:
            click.echo(f"Invitation ({invite.role}) for {invite.email}: {link}")
