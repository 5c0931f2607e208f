"""Import a family from the previous backend's PostgreSQL database (`flask families import-legacy`)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add `import-legacy` and `compare-legacy` to `flask families`."""
    from app.legacy.cli import compare_legacy_command, import_legacy_command
    from app.tenancy.cli import families_cli

    families_cli.add_command(import_legacy_command)
    families_cli.add_command(compare_legacy_command)
