"""The catalog's tables as SQLAlchemy typed models. Migrations in ``migrations/`` create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only has INTEGER for auto-increment keys; PostgreSQL gets BIGINT for billions of rows.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# SURT keys compare byte-wise on both backends (SQLite's default), so prefix ranges use the index.
SurtText = Text().with_variant(Text(collation="C"), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC instant with microseconds, stored naive (same bytes on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class WarcFile(Base):
    """One WARC or ARC file, identified by the SHA-256 of its bytes."""

    __tablename__ = "warc_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    location: Mapped[str] = mapped_column(Text)
    format: Mapped[str | None] = mapped_column(String(32))
    compression: Mapped[str | None] = mapped_column(String(16))
    software: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(Text)
    is_part_of: Mapped[str | None] = mapped_column(Text)
    # ingesting -> complete | partial (read, with problems) | failed (nothing readable)
    status: Mapped[str] = mapped_column(String(16))
    record_count: Mapped[int] = mapped_column(BigInteger, default=0)
    capture_count: Mapped[int] = mapped_column(BigInteger, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    first_capture: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_capture: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ingested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archivist_version: Mapped[str | None] = mapped_column(String(32))
    # A file ingested over HTTP(S) (migration 0004): the server's validators, raw. With the URL
    # (``location``) and the size they tell that the file is unchanged before it is downloaded.
    http_etag: Mapped[str | None] = mapped_column(Text)
    http_last_modified: Mapped[str | None] = mapped_column(Text)


class Record(Base):
    """One record of a WARC file, located by (file, offset, length)."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("file_id", "offset"),
        Index("ix_records_surt_capture_time", "surt", "capture_time"),
        Index("ix_records_payload_sha256_capture_time", "payload_sha256", "capture_time"),
        Index("ix_records_warc_record_id", "warc_record_id"),
        Index("ix_records_text_sha256_capture_time", "text_sha256", "capture_time"),
        Index("ix_records_payload_digest_key", "payload_digest_key"),
        Index("ix_records_original_record_id", "original_record_id"),
        # Only revisits carry these (migration 0005): labelling a new file finds the earlier
        # revisits whose original it may hold through them.
        Index(
            "ix_records_refers_to",
            "refers_to",
            sqlite_where=text("refers_to IS NOT NULL"),
            postgresql_where=text("refers_to IS NOT NULL"),
        ),
        Index(
            "ix_records_refers_to_surt",
            "refers_to_surt",
            "refers_to_date",
            sqlite_where=text("refers_to_surt IS NOT NULL"),
            postgresql_where=text("refers_to_surt IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("warc_files.id", ondelete="CASCADE"))
    offset: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(Text)
    record_type: Mapped[str] = mapped_column(String(32))
    target_uri: Mapped[str | None] = mapped_column(Text)
    surt: Mapped[str | None] = mapped_column(SurtText)
    capture_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_raw: Mapped[str | None] = mapped_column(Text)
    date_precision: Mapped[str | None] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    mime: Mapped[str | None] = mapped_column(Text)
    content_length: Mapped[int | None] = mapped_column(BigInteger)
    payload_length: Mapped[int | None] = mapped_column(BigInteger)
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    block_digest: Mapped[str | None] = mapped_column(Text)
    block_digest_algorithm: Mapped[str | None] = mapped_column(String(16))
    block_digest_status: Mapped[str] = mapped_column(String(16))
    payload_digest: Mapped[str | None] = mapped_column(Text)
    payload_digest_algorithm: Mapped[str | None] = mapped_column(String(16))
    payload_digest_status: Mapped[str] = mapped_column(String(16))
    payload_digest_matched: Mapped[str | None] = mapped_column(String(8))
    truncated: Mapped[str | None] = mapped_column(Text)
    revisit_profile: Mapped[str | None] = mapped_column(Text)
    refers_to: Mapped[str | None] = mapped_column(Text)
    refers_to_target_uri: Mapped[str | None] = mapped_column(Text)
    refers_to_date_raw: Mapped[str | None] = mapped_column(Text)
    refers_to_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # HTTP Last-Modified is a claim made by the server, never capture evidence.
    last_modified_raw: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # -- what the evidence ladder needs (migration 0002) --
    # A capture: a response or revisit, or a resource with a web target (WARC 1.1 §6.3-6.7).
    is_capture: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The WARC-Date is capture evidence: second precision or finer, not before 1990, not
    # after the moment the file was ingested.
    date_trusted: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The record was cut short, or its gzip member had no trailer.
    damaged: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The declared payload digest as ``algorithm:hex``, to match revisits to their originals.
    payload_digest_key: Mapped[str | None] = mapped_column(String(160))
    refers_to_surt: Mapped[str | None] = mapped_column(SurtText)
    original_record_id: Mapped[int | None] = mapped_column(BigInteger)
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    # ok | empty | error | skipped (not a text type); NULL until the text stage has run.
    text_status: Mapped[str | None] = mapped_column(String(16))
    text_extractor: Mapped[str | None] = mapped_column(String(64))
    # For the catalog's cutoff (see ``settings``); NULL until labelled.
    label: Mapped[str | None] = mapped_column(String(12))
    evidence_kind: Mapped[str | None] = mapped_column(String(16))
    evidence_record_id: Mapped[int | None] = mapped_column(BigInteger)


class Setting(Base):
    """A catalog-wide setting, such as the cutoff its labels were computed for."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class IngestError(Base):
    """One problem found while reading a file, located by byte offset when it has one."""

    __tablename__ = "ingest_errors"
    __table_args__ = (Index("ix_ingest_errors_file_id", "file_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("warc_files.id", ondelete="CASCADE"))
    offset: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)


class Export(Base):
    """A dataset export the catalog remembers: its arguments, manifest hash and location."""

    __tablename__ = "exports"
    __table_args__ = (Index("ix_exports_out_dir", "out_dir"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Absolute path of OUT_DIR when the export was written.
    out_dir: Mapped[str] = mapped_column(Text)
    # The export's arguments as canonical JSON, and their hash (the resume key).
    arguments: Mapped[str] = mapped_column(Text)
    arguments_sha256: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    cutoff: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    shards: Mapped[int] = mapped_column(Integer)
    archivist_version: Mapped[str] = mapped_column(String(32))


class ExportRecord(Base):
    """One capture that went into an export as a row (the winning capture of its text)."""

    __tablename__ = "export_records"
    __table_args__ = (Index("ix_export_records_record_id", "record_id"),)

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key: records of a file are replaced when a failed file is ingested again,
    # and an export stays a fact about the past (verify-export reports what changed since).
    record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
