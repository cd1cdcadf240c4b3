"""directory change counter, kept by triggers

Revision ID: 0002_directory_version
Revises: 0001_initial
Create Date: 2026-12-01 10:30:00

A one-row table `directory_version` whose counter every insert, update or delete of a school, person,
specialism or person_specialism row bumps, by triggers, whoever writes. SQLite: row-level triggers;
PostgreSQL: one statement-level trigger per table. (The same table, function and trigger names as the
directory branch's migration 0003, so that the two can be reconciled by keeping one.)
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_directory_version'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

WATCHED = ('school', 'person', 'specialism', 'person_specialism')


def upgrade() -> None:
    op.create_table(
        'directory_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('counter', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_version')),
    )
    op.execute("INSERT INTO directory_version (id, counter) VALUES (1, 0)")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE OR REPLACE FUNCTION directory_bump() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO directory_version (id, counter) VALUES (1, 1)
                ON CONFLICT (id) DO UPDATE SET counter = directory_version.counter + 1;
                RETURN NULL;
            END $$""")
        for table in WATCHED:
            op.execute(f"CREATE TRIGGER directory_bump_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION directory_bump()")
    else:
        for table in WATCHED:
            for event in ('INSERT', 'UPDATE', 'DELETE'):
                op.execute(f"""
                    CREATE TRIGGER directory_bump_{table}_{event.lower()} AFTER {event} ON {table}
                    BEGIN
                        INSERT OR IGNORE INTO directory_version (id, counter) VALUES (1, 0);
                        UPDATE directory_version SET counter = counter + 1 WHERE id = 1;
                    END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS directory_bump_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS directory_bump()")
    else:
        for table in WATCHED:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER IF EXISTS directory_bump_{table}_{event}")
    op.drop_table('directory_version')
