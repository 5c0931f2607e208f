"""merge the family heads of issue 11 (erasable ledger) and issue 12 (member token version, after the legacy fields)

Revision ID: 1621fa28d6ef
Revises: 1a3e4bab30a6, 8b4f2d6e0a19
Create Date: 2026-12-06 04:00:00

The two revisions were written beside each other on separate branches and change different things, so their
order does not matter. Nothing to do here but make the chain one head again (the lead may re-chain them instead).
"""

revision = '1621fa28d6ef'
down_revision = ('1a3e4bab30a6', '8b4f2d6e0a19')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
