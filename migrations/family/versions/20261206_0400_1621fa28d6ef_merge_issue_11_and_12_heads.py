"""merge the family heads of issue 11 (legacy fields; erasable ledger) and issue 12 (member token version)

Revision ID: 1621fa28d6ef
Revises: 8fcbc02363c4, 1a3e4bab30a6, 8b4f2d6e0a19
Create Date: 2026-12-06 04:00:00

The three revisions were written beside each other on separate branches and change different things, so their
order does not matter. Nothing to do here but make the chain one head again (the lead may re-chain them instead).
"""

revision = '1621fa28d6ef'
down_revision = ('8fcbc02363c4', '1a3e4bab30a6', '8b4f2d6e0a19')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
