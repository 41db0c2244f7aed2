"""revisit links: partial indexes on WARC-Refers-To and Refers-To-Target-URI/Date

Labelling a new file finds the earlier revisits whose original it may hold through these
indexes, instead of scanning every revisit of the catalog. Only revisits carry the columns, so
the indexes are partial (WHERE ... IS NOT NULL) and small.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    refers_to = sa.text("refers_to IS NOT NULL")
    op.create_index(
        "ix_records_refers_to",
        "records",
        ["refers_to"],
        sqlite_where=refers_to,
        postgresql_where=refers_to,
    )
    refers_to_surt = sa.text("refers_to_surt IS NOT NULL")
    op.create_index(
        "ix_records_refers_to_surt",
        "records",
        ["refers_to_surt", "refers_to_date"],
        sqlite_where=refers_to_surt,
        postgresql_where=refers_to_surt,
    )


def downgrade() -> None:
    op.drop_index("ix_records_refers_to_surt", table_name="records")
    op.drop_index("ix_records_refers_to", table_name="records")
