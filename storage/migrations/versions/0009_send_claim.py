"""sends the office makes on a press (ask a buddy again, a chase, the digest), claimed once per window

Revision ID: 0009_send_claim
Revises: 0008_entry_reminded
Create Date: 2026-12-07 23:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_send_claim'
down_revision = '0008_entry_reminded'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a new table of its own: no existing table is altered (so no batch-mode copy on SQLite)
    op.create_table(
        'send_claim',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_send_claim')),
        sa.UniqueConstraint('kind', 'subject_id', name='uq_send_claim_subject'),
    )


def downgrade() -> None:
    op.drop_table('send_claim')
