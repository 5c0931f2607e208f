"""member language: each member's own language (nullable: None follows the family's default)

Revision ID: 6744555ae686
Revises: 8b4f2d6e0a19
Create Date: 2026-12-06 04:00:00

Issue 13 (languages): a member, kids too, may choose the language of their pages. The column is a nullable
addition with its CHECK inline (one ALTER TABLE that PostgreSQL and SQLite both accept), so existing members keep
following the family's default and SQLite needs no table rebuild.
"""
from __future__ import annotations

from alembic import op

revision = '6744555ae686'
down_revision = '8b4f2d6e0a19'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE members ADD COLUMN language VARCHAR(5) "
               "CONSTRAINT ck_members_language CHECK (language IN ('en', 'es'))")


def downgrade() -> None:
    op.execute("ALTER TABLE members DROP COLUMN language")
