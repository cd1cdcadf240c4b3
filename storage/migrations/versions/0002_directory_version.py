"""directory change counter, kept by triggers

Revision ID: 0002_directory_version
Revises: 0001_initial
Create Date: 2026-12-01 10:30:00

A one-row table `directory_version` whose counter and random stamp change on every insert or delete of
a person, school, specialism or person_specialism row, and on an update of a column the search index
reads (storage.directory_version.WATCHED_COLUMNS). SQLite: row-level triggers; PostgreSQL: one
statement-level trigger function.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_directory_version'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

WATCHED = {
    "person": ("id", "title", "first_name", "last_name", "job_title", "school_id", "designations", "is_head"),
    "school": ("id", "urn", "name", "locality", "local_authority", "phase", "postcode", "easting", "northing"),
    "specialism": ("id", "name", "aliases"),
    "person_specialism": ("person_id", "specialism_id"),
}
SQLITE_BUMP = "UPDATE directory_version SET counter = counter + 1, stamp = lower(hex(randomblob(8)))"


def upgrade() -> None:
    op.create_table('directory_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counter', sa.BigInteger(), nullable=False),
    sa.Column('stamp', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_version'))
    )
    op.execute("INSERT INTO directory_version (id, counter, stamp) VALUES (1, 0, 'initial')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION directory_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "UPDATE directory_version SET counter = counter + 1, "
                   "stamp = substr(md5(random()::text || clock_timestamp()::text), 1, 16); RETURN NULL; END $$")
        for table, columns in WATCHED.items():
            op.execute(f"CREATE TRIGGER directory_version_{table} AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF "
                       f"{', '.join(columns)} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION directory_version_bump()")
    else:
        for table, columns in WATCHED.items():
            for event in ("INSERT", "DELETE", f"UPDATE OF {', '.join(columns)}"):
                name = f"directory_version_{table}_{event.split()[0].lower()}"
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {SQLITE_BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS directory_version_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS directory_version_bump()")
    else:
        for table in WATCHED:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS directory_version_{table}_{event}")
    op.drop_table('directory_version')
