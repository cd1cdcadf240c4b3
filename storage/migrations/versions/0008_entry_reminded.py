"""the day a member was last asked again (from the desk) to confirm their directory entry

Revision ID: 0008_entry_reminded
Revises: 0007_support
Create Date: 2026-12-07 23:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_entry_reminded'
down_revision = '0007_support'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('person', sa.Column('check_reminded_on', sa.Date(), nullable=True))


def downgrade() -> None:
    # not batch mode: on SQLite that copies the table, and dropping the old copy cascades to person_specialism
    op.drop_column('person', 'check_reminded_on')
