"""no index on records.label

Three values over every capture is no index a query can use well (an export of `pre` reads
half the captures anyway), and every relabel paid for it: each label written moved an index
entry. Dropping it took a full relabel of 10 million records from 66 s to 57 s.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_records_label", table_name="records")


def downgrade() -> None:
    op.create_index("ix_records_label", "records", ["label"])
