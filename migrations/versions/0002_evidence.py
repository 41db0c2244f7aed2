"""evidence ladder: capture flags, revisit originals, text hashes, labels, settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SURT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_capture", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("date_trusted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("damaged", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("payload_digest_key", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("refers_to_surt", SURT, nullable=True))
        batch_op.add_column(sa.Column("original_record_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("text_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("text_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("text_extractor", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("label", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("evidence_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("evidence_record_id", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_records_label", ["label"], unique=False)
        batch_op.create_index("ix_records_original_record_id", ["original_record_id"], unique=False)
        batch_op.create_index("ix_records_payload_digest_key", ["payload_digest_key"], unique=False)
        batch_op.create_index(
            "ix_records_text_sha256_capture_time", ["text_sha256", "capture_time"], unique=False
        )
    # Rows written by 0001 get the flags their columns already imply. Digest keys, revisit
    # URL keys and labels come from `archivist relabel` (it recomputes them from the rows).
    op.execute(
        "UPDATE records SET is_capture = (record_type IN ('response', 'revisit') OR "
        "(record_type = 'resource' AND (lower(target_uri) LIKE 'http:%' OR "
        "lower(target_uri) LIKE 'https:%' OR lower(target_uri) LIKE 'ftp:%')))"
    )
    op.execute(
        "UPDATE records SET date_trusted = (date_precision IN ('second', 'fraction') "
        "AND capture_time >= '1990-01-01')"
    )
    op.execute(
        "UPDATE records SET damaged = EXISTS (SELECT 1 FROM ingest_errors e "
        'WHERE e.file_id = records.file_id AND e."offset" = records."offset" AND '
        "(e.message LIKE 'record truncated%' OR e.message LIKE 'gzip member ends%'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_text_sha256_capture_time")
        batch_op.drop_index("ix_records_payload_digest_key")
        batch_op.drop_index("ix_records_original_record_id")
        batch_op.drop_index("ix_records_label")
        for column in (
            "evidence_record_id",
            "evidence_kind",
            "label",
            "text_extractor",
            "text_status",
            "text_sha256",
            "original_record_id",
            "refers_to_surt",
            "payload_digest_key",
            "damaged",
            "date_trusted",
            "is_capture",
        ):
            batch_op.drop_column(column)
    op.drop_table("settings")
