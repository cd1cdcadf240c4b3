"""identity: a person is linked to at most one active account; request versions; link dates; usernames

Revision ID: 0005_identity
Revises: 0005_decisions
Create Date: 2026-12-07 19:40:00

Before the unique index can hold, the data must: an account whose access was revoked keeps no link and no role
(revoking ends both), and where several active accounts were linked to one person, only the first approved keeps
the link (the others are listed in the audit log as unlinked by the migration, for a coordinator to review).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_identity"
down_revision = "0005_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("username", sa.String(length=64), nullable=True))
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_username", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    conn = op.get_bind()
    member = sa.table(
        "member",
        sa.column("telegram_id", sa.BigInteger()),
        sa.column("person_id", sa.BigInteger()),
        sa.column("active", sa.Boolean()),
        sa.column("role", sa.String()),
        sa.column("approved_at", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("linked_at", sa.DateTime(timezone=True)),
    )
    audit = sa.table(
        "audit_log",
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor_id", sa.BigInteger()),
        sa.column("actor_label", sa.String()),
        sa.column("action", sa.String()),
        sa.column("entity", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("detail", sa.JSON()),
    )
    conn.execute(member.update().where(member.c.active.is_(False)).values(person_id=None, role="member"))
    rows = conn.execute(
        sa.select(member.c.telegram_id, member.c.person_id)
        .where(member.c.active.is_(True), member.c.person_id.is_not(None))
        .order_by(member.c.person_id, member.c.approved_at, member.c.created_at, member.c.telegram_id)
    ).all()
    seen: set[int] = set()
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    for telegram_id, person_id in rows:
        if person_id not in seen:
            seen.add(person_id)
            continue
        conn.execute(member.update().where(member.c.telegram_id == telegram_id).values(person_id=None))
        conn.execute(
            audit.insert().values(
                at=now,
                actor_id=None,
                actor_label="migration 0005_identity",
                action="member.unlink",
                entity="member",
                entity_id=str(telegram_id),
                detail={"person_id": person_id, "reason": "another active account was linked to this person first"},
            )
        )
    conn.execute(
        member.update()
        .where(member.c.person_id.is_not(None), member.c.linked_at.is_(None))
        .values(linked_at=sa.func.coalesce(member.c.approved_at, member.c.created_at))
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(
            "uq_member_person_active",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("active = 1 AND person_id IS NOT NULL"),
            postgresql_where=sa.text("active AND person_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("uq_member_person_active")
        batch_op.drop_column("username")
        batch_op.drop_column("linked_at")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("telegram_username")
