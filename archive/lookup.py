"""Provenance lookups: which captures the catalog holds for a URL, a payload or a record id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import surt as surt_lib

from archive.catalog import (
    CaptureRow,
    Catalog,
    captures_by_payload,
    captures_by_surt,
    errors_at,
    records_by_id,
)
from archive.dates import format_utc
from archive.errors import ArchiveError, RecordNotFound
from archive.ingest import file_sha256

Match = Literal["exact", "prefix", "host", "domain"]
_STATUSES = ("mismatch", "unsupported", "ok")


def digest_status(block: str, payload: str) -> str:
    """One verdict over both digests: any mismatch wins, then unsupported, then ok, else absent."""
    for verdict in _STATUSES:
        if verdict in (block, payload):
            return verdict
    return "absent"


@dataclass(frozen=True)
class Capture:
    """A record as lookups report it, with where its bytes are."""

    row: CaptureRow

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: stable field names, times as ISO 8601 UTC ending in ``Z``."""
        r = self.row.record
        return {
            "id": r.id,
            "warc_record_id": r.warc_record_id,
            "url": r.target_uri,
            "capture_time": _iso(r.capture_time),
            "record_type": r.record_type,
            "status": r.http_status,
            "mime": r.mime,
            "warc_file": self.row.file_location,
            "warc_sha256": self.row.file_sha256,
            "offset": r.offset,
            "length": r.length,
            "payload_sha256": r.payload_sha256,
            "payload_length": r.payload_length,
            "digest_status": digest_status(r.block_digest_status, r.payload_digest_status),
        }

    def details(self, catalog: Catalog) -> dict[str, Any]:
        """Everything the catalog knows of this record (for ``show``)."""
        r = self.row.record
        data = self.to_dict()
        data.update(
            {
                "surt": r.surt,
                "date_raw": r.date_raw,
                "date_precision": r.date_precision,
                "content_length": r.content_length,
                "block_digest": r.block_digest,
                "block_digest_algorithm": r.block_digest_algorithm,
                "block_digest_status": r.block_digest_status,
                "payload_digest": r.payload_digest,
                "payload_digest_algorithm": r.payload_digest_algorithm,
                "payload_digest_status": r.payload_digest_status,
                "payload_digest_matched": r.payload_digest_matched,
                "truncated": r.truncated,
                "revisit_profile": r.revisit_profile,
                "refers_to": r.refers_to,
                "refers_to_target_uri": r.refers_to_target_uri,
                "refers_to_date": _iso(r.refers_to_date),
                "refers_to_date_raw": r.refers_to_date_raw,
                "last_modified": _iso(r.last_modified),
                "last_modified_raw": r.last_modified_raw,
                "warc_compression": self.row.file_compression,
                "problems": errors_at(catalog, r.file_id, r.offset),
            }
        )
        return data


def _iso(value: datetime | None) -> str | None:
    return format_utc(value) if value is not None else None


def surt_prefixes(url: str, match: Match) -> list[str]:
    """The SURT keys (``exact``) or key prefixes that select ``url`` under ``match``."""
    try:
        key = str(surt_lib.surt(url.strip()))
    except Exception as exc:  # the surt package raises assorted errors for malformed URLs
        raise ArchiveError(f"not a URL: {url!r}") from exc
    host, sep, _path = key.partition(")")
    if not host or not sep:
        raise ArchiveError(f"not a web URL: {url!r}")
    if match == "prefix" and url.strip().endswith("/") and not key.endswith("/"):
        # SURT drops a path's trailing slash; a prefix keeps it, so that .../news/ selects
        # com,example)/news/a and not com,example)/newsletter.
        key += "/"
    if match in ("exact", "prefix"):
        return [key]
    host = host.split(":", 1)[0]
    if match == "host":
        return [host + ")", host + ":"]
    return [host + ")", host + ":", host + ","]


def lookup_url(
    catalog: Catalog,
    url: str,
    *,
    match: Match = "exact",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
) -> list[Capture]:
    """Captures of ``url`` (or of its prefix, host or domain), oldest first."""
    rows = captures_by_surt(
        catalog,
        surt_prefixes(url, match),
        exact=match == "exact",
        since=since,
        until=until,
        limit=limit,
    )
    return [Capture(row) for row in rows]


def lookup_payload(catalog: Catalog, sha256: str, *, limit: int | None = 100) -> list[Capture]:
    """The earliest captures whose payload has SHA-256 ``sha256``."""
    value = sha256.strip().lower().removeprefix("sha256:")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ArchiveError(f"not a SHA-256 in hex: {sha256!r}")
    return [Capture(row) for row in captures_by_payload(catalog, value, limit=limit)]


def lookup_file(catalog: Catalog, path: Path, *, limit: int | None = 100) -> list[Capture]:
    """The earliest captures whose payload is exactly the bytes of the local file ``path``."""
    try:
        digest = file_sha256(path)
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return lookup_payload(catalog, digest, limit=limit)


def find_records(catalog: Catalog, identifier: str) -> list[Capture]:
    """The record(s) named by a catalog id or a WARC-Record-ID; raises RecordNotFound."""
    rows = records_by_id(catalog, identifier)
    if not rows:
        raise RecordNotFound(f"no record {identifier!r} in the catalog")
    return [Capture(row) for row in rows]
