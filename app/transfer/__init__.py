"""Family archives: export a family to a versioned zip and recreate a family from one (`flask families export`)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add `export` and `import-archive` to `flask families`."""
    from app.tenancy.cli import families_cli
    from app.transfer.cli import export_command, import_archive_command

    families_cli.add_command(export_command)
    families_cli.add_command(import_archive_command)
