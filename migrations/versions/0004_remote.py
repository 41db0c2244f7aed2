"""remote files: the HTTP validators (ETag, Last-Modified) of files ingested by URL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("warc_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("http_etag", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("http_last_modified", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warc_files", schema=None) as batch_op:
        batch_op.drop_column("http_last_modified")
        batch_op.drop_column("http_etag")
