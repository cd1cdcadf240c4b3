"""plans and actions can be archived (re-import archives missing actions; coordinators archive plans);
actions keep the aim (objective, recommendation) they serve

Revision ID: 0002_plan_archive
Revises: 0001_initial

Plain ALTER TABLE, not batch mode: recreating `plan` on SQLite would cascade-delete its sections and
actions (foreign keys are on). SQLite has had ADD and DROP COLUMN since 3.35.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_plan_archive'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('plan', sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('plan', sa.Column('archived_by', sa.BigInteger(), nullable=True))
    op.add_column('plan_action', sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('plan_action', sa.Column('aim', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('plan_action', 'aim')
    op.drop_column('plan_action', 'archived_at')
    op.drop_column('plan', 'archived_by')
    op.drop_column('plan', 'archived_at')
