"""Provenance lookups: which captures the catalog holds for a URL, a payload, a text or an id.

Every capture comes with its label for the catalog's cutoff and the record its evidence rests
on; those records are fetched in one query per lookup, whatever the number of captures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import surt as surt_lib

from archive.catalog import (
    CaptureRow,
    Catalog,
    capture_as_of,
    captures_by_ids,
    captures_by_payload,
    captures_by_surt,
    captures_by_text,
    errors_at,
    exports_of_record,
    first_seen,
    records_by_id,
)
from archive.dates import format_utc
from archive.errors import ArchiveError, RecordNotFound
from archive.ingest import file_sha256
from archive.text import normalise_text

Match = Literal["exact", "prefix", "host", "domain"]
_STATUSES = ("mismatch", "unsupported", "ok")


def digest_status(block: str, payload: str) -> str:
    """One verdict over both digests: any mismatch wins, then unsupported, then ok, else absent."""
    for verdict in _STATUSES:
        if verdict in (block, payload):
            return verdict
    return "absent"


def evidence_dict(kind: str | None, basis: CaptureRow | None) -> dict[str, Any]:
    """The JSON form of a piece of evidence: its kind and the record it rests on."""
    record = basis.record if basis is not None else None
    return {
        "kind": kind or "none",
        "id": record.id if record else None,
        "warc_file": basis.file_location if basis else None,
        "offset": record.offset if record else None,
        "capture_time": _iso(record.capture_time) if record else None,
    }


@dataclass(frozen=True)
class Capture:
    """A record as lookups report it: where its bytes are, its label, and its evidence."""

    row: CaptureRow
    # The record the label rests on (this record itself for `captured` and `claimed`).
    evidence: CaptureRow | None = None
    # Set by payload lookups: whether this is the payload's earliest verified capture.
    first_seen: bool | None = None

    @property
    def evidence_kind(self) -> str:
        """The rung of the evidence ladder this capture's label rests on (``none`` if none)."""
        return self.row.record.evidence_kind or "none"

    def evidence_cell(self) -> str:
        """Evidence in a table cell: ``same-payload:#12``, or ``none``."""
        basis = self.row.record.evidence_record_id
        return self.evidence_kind if basis is None else f"{self.evidence_kind}:#{basis}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: stable field names, times as ISO 8601 UTC ending in ``Z``."""
        r = self.row.record
        data = {
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
            "label": r.label,
            "evidence": evidence_dict(r.evidence_kind, self.evidence),
        }
        if self.first_seen is not None:
            data["first_seen"] = self.first_seen
        return data

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
                "original_record_id": r.original_record_id,
                "text_sha256": r.text_sha256,
                "warc_compression": self.row.file_compression,
                "problems": errors_at(catalog, r.file_id, r.offset),
                # The registered exports that hold this record as a row (archivist export).
                "exports": [e.to_dict() for e in exports_of_record(catalog, r.id)],
            }
        )
        return data


def _iso(value: datetime | None) -> str | None:
    return format_utc(value) if value is not None else None


def with_evidence(catalog: Catalog, rows: Sequence[CaptureRow]) -> list[Capture]:
    """Captures for ``rows``, each with the record its evidence rests on (one query for all)."""
    basis = captures_by_ids(
        catalog, [r.record.evidence_record_id for r in rows if r.record.evidence_record_id]
    )
    return [Capture(row, basis.get(row.record.evidence_record_id or 0)) for row in rows]


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
    return with_evidence(catalog, rows)


def lookup_as_of(
    catalog: Catalog, url: str, when: datetime, *, match: Match = "exact"
) -> list[Capture]:
    """The latest capture of ``url`` (or of its prefix, host or domain) at or before ``when``."""
    row = capture_as_of(catalog, surt_prefixes(url, match), when, exact=match == "exact")
    return with_evidence(catalog, [row] if row is not None else [])


def payload_sha256(value: str) -> str:
    """A SHA-256 as given by a user (hex, any case, ``sha256:`` prefix or not), checked."""
    digest = value.strip().lower().removeprefix("sha256:")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ArchiveError(f"not a SHA-256 in hex: {value!r}")
    return digest


def lookup_payload(catalog: Catalog, sha256: str, *, limit: int | None = 100) -> list[Capture]:
    """The earliest captures whose payload has SHA-256 ``sha256``; the first-seen one marked.

    First seen is the earliest *verified* capture (`archive.catalog.first_seen`): an earlier
    capture with a damaged record or an untrusted date is listed, never marked.
    """
    digest = payload_sha256(sha256)
    first = first_seen(catalog, digest)
    first_id = first.record.id if first is not None else None
    return [
        replace(c, first_seen=c.row.record.id == first_id)
        for c in with_evidence(catalog, captures_by_payload(catalog, digest, limit=limit))
    ]


def lookup_file(catalog: Catalog, path: Path, *, limit: int | None = 100) -> list[Capture]:
    """The earliest captures whose payload is exactly the bytes of the local file ``path``."""
    return lookup_payload(catalog, path_sha256(path), limit=limit)


def path_sha256(path: Path) -> str:
    """The SHA-256 of a local file's bytes; ArchiveError when it cannot be read."""
    try:
        return file_sha256(path)
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from exc


def text_sha256(text: str) -> str:
    """The SHA-256 of ``text`` as the text stage hashes a capture's text (normalised, UTF-8)."""
    normalised = normalise_text(text)
    if not normalised:
        raise ArchiveError("no text to look up: the text is empty once normalised")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def read_text_file(path: Path) -> str:
    """The text of a local UTF-8 file; ArchiveError when it cannot be read or decoded."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"cannot read {path}: not UTF-8 text ({exc.reason})") from exc


def lookup_text(catalog: Catalog, text: str, *, limit: int | None = 100) -> list[Capture]:
    """The earliest captures whose main text, normalised, is ``text`` normalised."""
    rows = captures_by_text(catalog, text_sha256(text), limit=limit)
    return with_evidence(catalog, rows)


def find_records(catalog: Catalog, identifier: str) -> list[Capture]:
    """The record(s) named by a catalog id or a WARC-Record-ID; raises RecordNotFound."""
    rows = records_by_id(catalog, identifier)
    if not rows:
        raise RecordNotFound(f"no record {identifier!r} in the catalog")
    return with_evidence(catalog, rows)
