"""decisions made once: one active buddy pairing per appointment, one replacement per progress update

Revision ID: 0005_decisions
Revises: 0004_desk
Create Date: 2026-12-07 19:45:00

Rows that two presses at once left behind before these indexes existed are kept, not deleted: a second
pairing asked while another was active is ended (with the reason), and a second replacement of one update
is chained after the first (it replaces the first replacement), so the later one counts, as it did for
whoever read the plan last.
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_decisions'
down_revision = '0004_desk'
branch_labels = None
depends_on = None

ACTIVE_MATCH = "status IN ('requested', 'accepted')"


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT id, appointment_id FROM buddy_match WHERE {ACTIVE_MATCH} ORDER BY appointment_id, id")
    ).all()
    seen: set[int] = set()
    for match_id, appointment_id in rows:
        if appointment_id in seen:
            bind.execute(
                sa.text(
                    "UPDATE buddy_match SET status = 'ended', end_reason = :why WHERE id = :id"
                ),
                {"id": match_id, "why": "a second pairing asked at the same time (closed by an upgrade)"},
            )
        seen.add(appointment_id)
    rows = bind.execute(
        sa.text("SELECT id, replaces_id FROM progress_update WHERE replaces_id IS NOT NULL ORDER BY replaces_id, id")
    ).all()
    last: dict[int, int] = {}
    for row_id, replaces_id in rows:
        if replaces_id in last:
            bind.execute(
                sa.text("UPDATE progress_update SET replaces_id = :prev WHERE id = :id"),
                {"id": row_id, "prev": last[replaces_id]},
            )
        last[replaces_id] = row_id
    with op.batch_alter_table('buddy_match', schema=None) as batch_op:
        batch_op.create_index(
            'uq_buddy_match_active',
            ['appointment_id'],
            unique=True,
            sqlite_where=sa.text(ACTIVE_MATCH),
            postgresql_where=sa.text(ACTIVE_MATCH),
        )
    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.create_index('uq_progress_update_replaces_id', ['replaces_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.drop_index('uq_progress_update_replaces_id')
    with op.batch_alter_table('buddy_match', schema=None) as batch_op:
        batch_op.drop_index('uq_buddy_match_active')
