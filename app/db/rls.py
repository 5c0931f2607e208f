"""Row-level security for family tables and the app role's grants on PostgreSQL: the database's own guards."""
from __future__ import annotations

from alembic.operations import Operations
from sqlalchemy import Connection, text

# current_setting(..., true) is NULL when unset, so a connection that never entered a family sees nothing.
FAMILY_PREDICATE = "family_id = NULLIF(current_setting('app.family_id', true), '')::uuid"


def enable_row_level_security(op: Operations, table: str) -> None:
    """FORCE RLS on `table` so even its owner (the migration role) only sees the current family's rows."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY family_isolation ON "{table}" USING ({FAMILY_PREDICATE}) WITH CHECK ({FAMILY_PREDICATE})'
    )


def disable_row_level_security(op: Operations, table: str) -> None:
    """Undo `enable_row_level_security` (downgrades)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'DROP POLICY IF EXISTS family_isolation ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


# Tables whose rows are history: the app role may read and append, never change or remove (the triggers in the
# family chain refuse it too, even for the owner).
APPEND_ONLY_TABLES = ("points_ledger",)
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
READ_WRITE = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
APPEND_ONLY = frozenset({"SELECT", "INSERT"})


def app_table_privileges(table: str) -> frozenset[str]:
    """What the app role may do to `table`: read and write rows, append only to history, read the schema version."""
    if table in APPEND_ONLY_TABLES:
        return APPEND_ONLY
    if table == "alembic_version":
        return frozenset({"SELECT"})
    return READ_WRITE


def app_role_privileges(connection: Connection, app_role: str) -> dict[str, frozenset[str]]:
    """Table → the privileges `app_role` holds on it now, for every table of the current schema."""
    checks = ", ".join(f"has_table_privilege(:role, format('%I.%I', schemaname, tablename), '{p}')"
                       for p in TABLE_PRIVILEGES)
    rows = connection.execute(text(f"SELECT tablename, {checks} FROM pg_tables WHERE schemaname = current_schema()"),
                              {"role": app_role})
    return {row[0]: frozenset(p for p, held in zip(TABLE_PRIVILEGES, row[1:], strict=True) if held) for row in rows}


def grant_app_role(connection: Connection, app_role: str | None) -> None:
    """Give the app role exactly what it needs in this database; run as the owner after every upgrade.

    The app owns nothing, so it cannot ALTER a table (DISABLE TRIGGER, NO FORCE ROW LEVEL SECURITY), TRUNCATE or
    DROP it, and `SET row_security = off` makes its policy-bound queries fail instead of bypassing them. When the
    grants already match, nothing is run: concurrent GRANTs on one table collide ("tuple concurrently updated"), and
    pooled provisioning upgrades the shared database for every new family.
    """
    if connection.dialect.name != "postgresql" or not app_role:
        return
    if app_role == connection.scalar(text("SELECT current_user")):
        return  # no separate owner configured: the app migrates its own tables (dev, single-role deployments)
    held = app_role_privileges(connection, app_role)
    if all(privileges == app_table_privileges(table) for table, privileges in held.items()) and \
            connection.scalar(text("SELECT has_database_privilege(:role, current_database(), 'CONNECT') AND "
                                   "has_schema_privilege(:role, current_schema(), 'USAGE') AND NOT "
                                   "has_schema_privilege(:role, current_schema(), 'CREATE')"), {"role": app_role}):
        return
    quote = connection.dialect.identifier_preparer.quote
    role = quote(app_role)
    schema = quote(connection.scalar(text("SELECT current_schema()")))
    statements = [
        f"GRANT CONNECT ON DATABASE {quote(connection.scalar(text('SELECT current_database()')))} TO {role}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    ]
    for table in held:
        statements.append(f"REVOKE ALL ON {schema}.{quote(table)} FROM {role}")
        statements.append(f"GRANT {', '.join(sorted(app_table_privileges(table)))} ON {schema}.{quote(table)} "
                          f"TO {role}")
    for statement in statements:
        connection.exec_driver_sql(statement)
