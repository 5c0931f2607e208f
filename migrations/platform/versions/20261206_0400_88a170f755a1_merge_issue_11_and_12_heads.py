"""merge the platform heads of issue 11 (clusters and deletion; analytics) and issue 12 (lockouts)

Revision ID: 88a170f755a1
Revises: 3c7a9e52b1d4, 65540daa2abd, b4662b4c1aef
Create Date: 2026-12-06 04:00:00

The three revisions were written beside each other on separate branches; they touch different tables, so their
order does not matter. Nothing to do here but make the chain one head again (the lead may re-chain them instead).
"""

revision = '88a170f755a1'
down_revision = ('3c7a9e52b1d4', '65540daa2abd', 'b4662b4c1aef')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
