"""the coordinator's desk: copies of access requests, one-time buttons, desk settings

Revision ID: 0002_desk
Revises: 0001_initial
Create Date: 2026-12-01 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_desk'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('access_request_copy',
    sa.Column('id', ID, nullable=False),
    sa.Column('request_id', ID, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['access_request.id'],
                            name=op.f('fk_access_request_copy_request_id_access_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_request_copy'))
    )
    with op.batch_alter_table('access_request_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_request_copy_request_id'), ['request_id'], unique=False)
    op.create_table('button_use',
    sa.Column('id', ID, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.String(length=64), nullable=False),
    sa.Column('used_by', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_button_use')),
    sa.UniqueConstraint('chat_id', 'message_id', 'data', name='uq_button_use_press')
    )
    with op.batch_alter_table('button_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_button_use_used_at'), ['used_at'], unique=False)
    op.create_table('desk_state',
    sa.Column('telegram_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('checkins_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('telegram_id', name=op.f('pk_desk_state'))
    )


def downgrade() -> None:
    op.drop_table('desk_state')
    with op.batch_alter_table('button_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_button_use_used_at'))
    op.drop_table('button_use')
    with op.batch_alter_table('access_request_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_request_copy_request_id'))
    op.drop_table('access_request_copy')
