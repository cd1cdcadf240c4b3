"""a directory that stays current: former heads, the termly check, appointments that take effect on their
day, changes waiting for a coordinator, school email, and a change counter bumped by triggers

Revision ID: 0003_directory_current
Revises: 0002_plan_archive

The counter (`directory_version`, one row) is bumped by triggers on school, person, specialism and
person_specialism, so every writer counts, not only this program's code: the bot, the command line, a
restore, psql. PostgreSQL: one statement-level trigger per table (once per INSERT/UPDATE/DELETE/TRUNCATE
statement, however many rows). SQLite has only row-level triggers: one tiny UPDATE per row written.
Plain ALTER TABLE ADD COLUMN (SQLite has had it for ever; DROP COLUMN since 3.35).
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_directory_current'
down_revision = '0002_plan_archive'
branch_labels = None
depends_on = None

WATCHED = ('school', 'person', 'specialism', 'person_specialism')


def upgrade() -> None:
    op.add_column('school', sa.Column('email', sa.String(length=200), nullable=True))
    op.add_column('person', sa.Column('status', sa.String(length=20), server_default='current', nullable=False))
    op.add_column('person', sa.Column('left_on', sa.Date(), nullable=True))
    op.add_column('person', sa.Column('checked_on', sa.Date(), nullable=True))
    op.add_column('person', sa.Column('check_asked', sa.String(length=20), nullable=True))
    op.add_column('appointment', sa.Column('took_effect', sa.Date(), nullable=True))
    # Appointments made before this revision changed the post at once.
    op.execute("UPDATE appointment SET took_effect = start_date")
    op.create_table(
        'entry_change',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('proposed_by', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.BigInteger(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_entry_change_person_id_person'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_change')),
    )
    op.create_index(op.f('ix_entry_change_person_id'), 'entry_change', ['person_id'], unique=False)
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
    op.drop_index(op.f('ix_entry_change_person_id'), table_name='entry_change')
    op.drop_table('entry_change')
    op.drop_column('appointment', 'took_effect')
    op.drop_column('person', 'check_asked')
    op.drop_column('person', 'checked_on')
    op.drop_column('person', 'left_on')
    op.drop_column('person', 'status')
    op.drop_column('school', 'email')
