"""`flask families …`: provision, list and migrate family databases."""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.db import engines, platform_engine
from app.db.clusters import clusters_from_config
from app.platform.models import Family, FamilyPlacement, Plan
from app.tenancy.databases import database_owner, ensure_family_database, family_database_revision, \
    upgrade_family_database
from app.tenancy.provisioning import Placement, ProvisioningError, provision_family
from app.tenancy import registry
from app.tenancy.registry import family_database_url


def default_placement(config: Mapping[str, Any]) -> str:
    """FAMILY_PLACEMENT, or by backend when unset: SQLite has no row-level security, so a family gets its own file."""
    chosen = config.get("FAMILY_PLACEMENT")
    if chosen:
        return str(chosen)
    return "dedicated" if make_url(config["FAMILY_DATABASE_URL"]).get_backend_name() == "sqlite" else "pooled"


def placement_config() -> Placement:
    """Where family data goes, which placement new families get and which role creates databases, from config."""
    config = current_app.config
    return Placement(pooled_url=config["FAMILY_DATABASE_URL"],
                     dedicated_template=config["DEDICATED_DATABASE_URL_TEMPLATE"],
                     default_kind=default_placement(config), owner=database_owner(config),
                     clusters=clusters_from_config(config))


@click.group("families")
def families_cli() -> None:
    """Provision, list and migrate families."""


@families_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The family's display name.")
@click.option("--placement", type=click.Choice([placement.value for placement in FamilyPlacement]), default=None,
              help="Default: FAMILY_PLACEMENT (unset: dedicated on SQLite, else pooled).")
@click.option("--timezone", default="UTC", show_default=True)
@click.option("--plan", type=click.Choice([plan.value for plan in Plan]), default="free", show_default=True)
@click.option("--cluster", default=None, help="A DATABASE_CLUSTERS name. Default: the least-loaded cluster.")
@with_appcontext
def create_command(slug: str, name: str, placement: str | None, timezone: str, plan: str, cluster: str | None
                   ) -> None:
    """Provision family SLUG (database, migrations, settings) and register it."""
    started = time.perf_counter()
    with Session(platform_engine(), expire_on_commit=False) as session:
        try:
            family = provision_family(session, engines(), placement_config(), slug=slug, name=name,
                                      placement=placement, timezone=timezone, plan=plan, cluster=cluster)
        except ProvisioningError as error:
            hint = f" Free alternatives: {', '.join(error.alternatives)}." if error.alternatives else ""
            raise click.ClickException(f"{error}{hint}") from None
    registry().invalidate(family.slug)  # type: ignore[operator, unused-ignore]  # the package's registry(), not its module
    click.echo(f"Created family {family.slug} ({family.placement}) on cluster {family.cluster} "
               f"in {time.perf_counter() - started:.2f}s")


@families_cli.command("list")
@with_appcontext
def list_command() -> None:
    """Show every family: slug, status, cluster, placement and database."""
    config = placement_config()
    with Session(platform_engine()) as session:
        families = session.scalars(select(Family).order_by(Family.slug)).all()
    click.echo(f"{'slug':<30} {'status':<10} {'cluster':<12} {'placement':<10} database")
    for family in families:
        try:
            where = _safe(family_database_url(family, pooled_url=config.pooled_url,
                                              dedicated_template=config.dedicated_template,
                                              clusters=config.all_clusters()))
        except RuntimeError as problem:  # a cluster this process is not configured for: list the family anyway
            where = f"({problem})"
        status = "purged" if family.purged_at else "deleted" if family.deleted_at else family.status
        click.echo(f"{family.slug:<30} {status:<10} {family.cluster:<12} {family.placement:<10} {where}")


@families_cli.command("upgrade")
@click.argument("slug", required=False)
@click.option("--all", "all_families", is_flag=True, help="Every distinct family database.")
@with_appcontext
def upgrade_command(slug: str | None, all_families: bool) -> None:
    """Run the family migration chain on SLUG's database, or with --all on every family database once."""
    if bool(slug) == all_families:
        raise click.UsageError("give either a SLUG or --all")
    config = placement_config()
    with Session(platform_engine()) as session:
        query = select(Family).where(Family.deleted_at.is_(None))
        if slug:
            query = query.where(Family.slug == slug)
        families = session.scalars(query).all()
    if slug and not families:
        raise click.ClickException(f"no family with slug {slug!r}")
    urls = [family_database_url(f, pooled_url=config.pooled_url, dedicated_template=config.dedicated_template,
                                clusters=config.all_clusters()) for f in families]
    pooled_urls = [cluster.pooled_url for cluster in config.all_clusters().values()]
    if all_families and config.default_kind == "pooled":
        urls[:0] = pooled_urls  # every cluster's pooled database exists (and is migrated) even with no families yet
    distinct = list(dict.fromkeys(urls))
    with click.progressbar(distinct, label=f"Upgrading {len(distinct)} family database(s)",
                           item_show_func=lambda u: _safe(u) if u else "") as bar:
        for url in bar:
            if url in pooled_urls:
                ensure_family_database(url, config.owner)
            else:
                upgrade_family_database(url, owner=config.owner)
    click.echo(f"{len(distinct)} family database(s) at {family_database_revision(distinct[0]) if distinct else '-'}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@families_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@with_appcontext
def revision_command(message: str) -> None:
    """Autogenerate a family-chain revision by comparing the models with a scratch database at head."""
    import tempfile

    from alembic import command

    from app.db.engines import new_engine
    from app.tenancy.databases import family_alembic_config

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/family.db"
        upgrade_family_database(url)
        engine = new_engine(url)
        with engine.begin() as connection:
            config = family_alembic_config()
            config.set_main_option("file_template",
                                   "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s")
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True)
        engine.dispose()
    click.echo("Review the new revision; add enable_row_level_security(op, '<table>') for each new family table.")


@families_cli.command("move")
@click.argument("slug")
@click.option("--to", "to_cluster", required=True, help="The DATABASE_CLUSTERS name to move the family to.")
@click.option("--placement", type=click.Choice([placement.value for placement in FamilyPlacement]), default=None,
              help="Default: the placement the family has now.")
@click.option("--offline", is_flag=True, help="No Redis: the web processes are stopped, so none can be stale.")
@with_appcontext
def move_command(slug: str, to_cluster: str, placement: str | None, offline: bool) -> None:
    """Move family SLUG to another cluster or placement; reads go on, writes pause while its rows are copied."""
    from app.platform.moves import MoveError, move_family

    started = time.perf_counter()
    with Session(platform_engine(), expire_on_commit=False) as session:
        try:
            report = move_family(session, engines(), placement_config(), registry(),  # type: ignore[operator, unused-ignore]
                                 slug=slug, to_cluster=to_cluster, placement=placement,
                                 drain_seconds=current_app.config["MOVE_DRAIN_SECONDS"], offline=offline,
                                 progress=click.echo)
        except MoveError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{'table':<28} {'rows':>8}  checksum")
    for table in report.tables:
        if table.rows:
            click.echo(f"{table.table:<28} {table.rows:>8}  {table.checksum[:16]}")
    steps = ", ".join(f"{step} {seconds:.2f}s" for step, seconds in report.seconds.items())
    click.echo(f"Moved {slug} from {report.source} to {report.target}: {report.rows} rows verified "
               f"in {time.perf_counter() - started:.2f}s ({steps})")


@families_cli.command("purge")
@click.argument("slug", required=False)
@with_appcontext
def purge_command(slug: str | None) -> None:
    """Erase deleted families past their grace period (rows, photos, dedicated database); SLUG: only that one."""
    from pathlib import Path

    from app.db.bases import utcnow
    from app.platform.deletion import PurgeRefused, purge_families

    with Session(platform_engine(), expire_on_commit=False) as session:
        try:
            purged = purge_families(session, engines(), placement_config(), now=utcnow(), slug=slug,
                                    uploads_root=Path(current_app.config["UPLOADS_DIR"]),
                                    grace_days=current_app.config["DELETION_GRACE_DAYS"],
                                    forget=registry().invalidate)  # type: ignore[operator, unused-ignore]
        except PurgeRefused as refusal:
            raise click.ClickException(str(refusal)) from None
    for result in purged:
        what = "dropped its database" if result.dropped_database else f"{result.rows} rows"
        click.echo(f"purged {result.slug}: {what}{', removed its photos' if result.removed_files else ''}")
    click.echo(f"{len(purged)} family(ies) purged")
