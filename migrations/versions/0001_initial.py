"""initial catalog: files, records, ingest errors

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warc_files",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=True),
        sa.Column("compression", sa.String(length=16), nullable=True),
        sa.Column("software", sa.Text(), nullable=True),
        sa.Column("operator", sa.Text(), nullable=True),
        sa.Column("is_part_of", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record_count", sa.BigInteger(), nullable=False),
        sa.Column("capture_count", sa.BigInteger(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("first_capture", sa.DateTime(), nullable=True),
        sa.Column("last_capture", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(), nullable=True),
        sa.Column("archivist_version", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warc_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_warc_files_sha256")),
    )
    op.create_table(
        "ingest_errors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["warc_files.id"],
            name=op.f("fk_ingest_errors_file_id_warc_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_errors")),
    )
    with op.batch_alter_table("ingest_errors", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_errors_file_id", ["file_id"], unique=False)

    op.create_table(
        "records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("warc_record_id", sa.Text(), nullable=True),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("target_uri", sa.Text(), nullable=True),
        sa.Column(
            "surt", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=True
        ),
        sa.Column("capture_time", sa.DateTime(), nullable=True),
        sa.Column("date_raw", sa.Text(), nullable=True),
        sa.Column("date_precision", sa.String(length=16), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("mime", sa.Text(), nullable=True),
        sa.Column("content_length", sa.BigInteger(), nullable=True),
        sa.Column("payload_length", sa.BigInteger(), nullable=True),
        sa.Column("payload_sha256", sa.String(length=64), nullable=True),
        sa.Column("block_digest", sa.Text(), nullable=True),
        sa.Column("block_digest_algorithm", sa.String(length=16), nullable=True),
        sa.Column("block_digest_status", sa.String(length=16), nullable=False),
        sa.Column("payload_digest", sa.Text(), nullable=True),
        sa.Column("payload_digest_algorithm", sa.String(length=16), nullable=True),
        sa.Column("payload_digest_status", sa.String(length=16), nullable=False),
        sa.Column("payload_digest_matched", sa.String(length=8), nullable=True),
        sa.Column("truncated", sa.Text(), nullable=True),
        sa.Column("revisit_profile", sa.Text(), nullable=True),
        sa.Column("refers_to", sa.Text(), nullable=True),
        sa.Column("refers_to_target_uri", sa.Text(), nullable=True),
        sa.Column("refers_to_date_raw", sa.Text(), nullable=True),
        sa.Column("refers_to_date", sa.DateTime(), nullable=True),
        sa.Column("last_modified_raw", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["warc_files.id"],
            name=op.f("fk_records_file_id_warc_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("file_id", "offset", name=op.f("uq_records_file_id_offset")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_records_payload_sha256_capture_time",
            ["payload_sha256", "capture_time"],
            unique=False,
        )
        batch_op.create_index(
            "ix_records_surt_capture_time", ["surt", "capture_time"], unique=False
        )
        batch_op.create_index("ix_records_warc_record_id", ["warc_record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_warc_record_id")
        batch_op.drop_index("ix_records_surt_capture_time")
        batch_op.drop_index("ix_records_payload_sha256_capture_time")

    op.drop_table("records")
    with op.batch_alter_table("ingest_errors", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_errors_file_id")

    op.drop_table("ingest_errors")
    op.drop_table("warc_files")
