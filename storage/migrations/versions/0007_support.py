"""school-to-school support: system leaders' capacity, requests, deployments, days, impact

Revision ID: 0007_support
Revises: 0005_decisions
Create Date: 2026-12-07 19:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_support'
down_revision = '0005_identity'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = sa.DateTime(timezone=True)


def _person_fk(table: str, column: str, ondelete: str = 'CASCADE') -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ['person.id'], name=op.f(f'fk_{table}_{column}_person'), ondelete=ondelete)


def upgrade() -> None:
    op.create_table('support_leader',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('capacity_days', sa.Float(), nullable=True),
    sa.Column('designated_on', sa.Date(), nullable=True),
    sa.Column('trained_on', sa.Date(), nullable=True),
    sa.Column('share_email', sa.Boolean(), nullable=False),
    sa.Column('share_phone', sa.Boolean(), nullable=False),
    sa.Column('updated_at', WHEN, nullable=False),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    _person_fk('support_leader', 'person_id'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_support_leader'))
    )
    op.create_table('support_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_person_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('preferred_person_id', sa.Integer(), nullable=True),
    sa.Column('specialism', sa.String(length=80), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=True),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('urgency', sa.String(length=20), nullable=False),
    sa.Column('days_wanted', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('brokered_at', WHEN, nullable=True),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', WHEN, nullable=True),
    _person_fk('support_request', 'requester_person_id'),
    _person_fk('support_request', 'preferred_person_id', 'SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_support_request_school_id_school'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_request'))
    )
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_request_requester_person_id'), ['requester_person_id'])
        batch_op.create_index(batch_op.f('ix_support_request_school_id'), ['school_id'])
        batch_op.create_index(batch_op.f('ix_support_request_status'), ['status'])
    op.create_table('support_deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('leader_person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('queue', sa.JSON(), nullable=False),
    sa.Column('focus', sa.Text(), nullable=False),
    sa.Column('days_agreed', sa.Float(), nullable=False),
    sa.Column('days_delivered', sa.Float(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('asked_by', sa.BigInteger(), nullable=True),
    sa.Column('asked_at', WHEN, nullable=False),
    sa.Column('decided_at', WHEN, nullable=True),
    sa.Column('closed_at', WHEN, nullable=True),
    sa.Column('closed_by', sa.BigInteger(), nullable=True),
    _person_fk('support_deployment', 'leader_person_id'),
    sa.ForeignKeyConstraint(['request_id'], ['support_request.id'],
                            name=op.f('fk_support_deployment_request_id_support_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_deployment'))
    )
    with op.batch_alter_table('support_deployment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_deployment_request_id'), ['request_id'])
        batch_op.create_index(batch_op.f('ix_support_deployment_leader_person_id'), ['leader_person_id'])
        batch_op.create_index(batch_op.f('ix_support_deployment_status'), ['status'])
    op.create_table('support_day',
    sa.Column('id', ID, nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('days', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('logged_by', sa.BigInteger(), nullable=True),
    sa.Column('logged_at', WHEN, nullable=False),
    _person_fk('support_day', 'person_id'),
    sa.ForeignKeyConstraint(['deployment_id'], ['support_deployment.id'],
                            name=op.f('fk_support_day_deployment_id_support_deployment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_day'))
    )
    with op.batch_alter_table('support_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_day_deployment_id'), ['deployment_id'])
        batch_op.create_index(batch_op.f('ix_support_day_person_id'), ['person_id'])
    op.create_table('support_impact',
    sa.Column('id', ID, nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('recommend', sa.Boolean(), nullable=True),
    sa.Column('what_changed', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.BigInteger(), nullable=True),
    sa.Column('answered_at', WHEN, nullable=False),
    _person_fk('support_impact', 'person_id'),
    sa.ForeignKeyConstraint(['deployment_id'], ['support_deployment.id'],
                            name=op.f('fk_support_impact_deployment_id_support_deployment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_impact')),
    sa.UniqueConstraint('deployment_id', 'side', name='uq_support_impact_side')
    )
    with op.batch_alter_table('support_impact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_impact_deployment_id'), ['deployment_id'])
        batch_op.create_index(batch_op.f('ix_support_impact_person_id'), ['person_id'])


def downgrade() -> None:
    for table in ('support_impact', 'support_day', 'support_deployment', 'support_request', 'support_leader'):
        op.drop_table(table)
