"""`flask families export SLUG FILE` and `flask families import-archive SLUG FILE`."""
from __future__ import annotations

import os
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from app.db import engines, platform_engine
from app.platform.models import FamilyPlacement
from app.tenancy import registry
from app.tenancy.cli import placement_config
from app.tenancy.context import FamilyNotFound, family_context
from app.tenancy.provisioning import ProvisioningError
from app.transfer.archive import ArchiveError, export_family, import_archive, read_archive
from app.web import uploads_root


@click.command("export")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_command(slug: str, file: Path) -> None:
    """Write family SLUG's archive (zip: a JSON document per table, photos, manifest) to FILE."""
    started = time.perf_counter()
    partial = file.with_name(f".{file.name}.partial")
    try:
        with family_context(slug) as ctx, partial.open("wb") as out:
            summary = export_family(ctx.session, ctx.family.id, uploads_root(), out)
        os.replace(partial, file)
    except FamilyNotFound as error:
        raise click.ClickException(str(error)) from None
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"Exported {slug}: {sum(summary.rows.values())} rows in {len(summary.rows)} tables, "
               f"{summary.photos} photo files, {file.stat().st_size} bytes, in {time.perf_counter() - started:.2f}s")


@click.command("import-archive")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Display name (default: the archive's).")
@click.option("--placement", type=click.Choice([placement.value for placement in FamilyPlacement]), default=None,
              help="Default: FAMILY_PLACEMENT (unset: dedicated on SQLite, else pooled).")
@with_appcontext
def import_archive_command(slug: str, file: Path, name: str | None, placement: str | None) -> None:
    """Create family SLUG from an archive FILE made by `flask families export` (all of it or nothing)."""
    started = time.perf_counter()
    try:
        archive = read_archive(file)
        with Session(platform_engine(), expire_on_commit=False) as session:
            family = import_archive(session, engines(), placement_config(), archive, slug=slug, name=name,
                                    placement=placement, uploads_root=uploads_root())
    except (ArchiveError, ProvisioningError) as error:
        raise click.ClickException(str(error)) from None
    registry().invalidate(family.slug)  # type: ignore[operator]  # the package's registry(), not its module
    rows = sum(len(rows) for rows in archive.tables.values())
    click.echo(f"Imported {family.slug} ({family.placement}): {rows} rows, {len(archive.photos)} photo files, "
               f"in {time.perf_counter() - started:.2f}s. Members sign in again: set passwords and PINs.")
