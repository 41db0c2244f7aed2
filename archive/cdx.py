"""CDXJ export: the catalog's captures as a replay index, with their labels and evidence.

The lines are what pywb and cdxj-indexer write (``urlkey timestamp {json}``), so pywb and
other CDXJ readers can use the file as is: the SURT key, the 14-digit UTC capture time, then a
JSON object with their field names (``url``, ``mime``, ``status``, ``digest``, ``length``,
``offset``, ``filename``; numbers as strings, as cdxj-indexer writes them) followed by ours
(``label``, ``evidence``, ``payload_sha256``, ``record_id``). Lines are sorted by SURT key then
time, which is the byte order a CDXJ reader binary-searches (no SURT key holds a space).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from archive.catalog import Catalog, IndexRow, index_rows
from archive.errors import ArchiveError
from archive.evidence import LABELS


def cdxj_line(row: IndexRow) -> str:
    """One capture as a CDXJ line (without the newline)."""
    fields: dict[str, Any] = {"url": row.target_uri}
    # cdxj-indexer's convention: a revisit's mime is warc/revisit, its own HTTP status is kept.
    fields["mime"] = "warc/revisit" if row.record_type == "revisit" else row.mime
    fields["status"] = str(row.http_status) if row.http_status is not None else None
    # The digest as the crawler declared it (e.g. sha1:BASE32); our own SHA-256 when none was.
    if row.payload_digest:
        fields["digest"] = row.payload_digest
    elif row.payload_sha256:
        fields["digest"] = f"sha256:{row.payload_sha256}"
    fields["length"] = str(row.length)
    fields["offset"] = str(row.offset)
    fields["filename"] = row.file_location
    fields["label"] = row.label
    fields["evidence"] = row.evidence_kind or "none"
    fields["payload_sha256"] = row.payload_sha256
    fields["record_id"] = row.record_id
    # Absent values are left out, as cdxj-indexer does, rather than written as null.
    present = {k: v for k, v in fields.items() if v is not None}
    return f"{row.surt} {timestamp14(row.capture_time)} {json.dumps(present)}"


def timestamp14(instant: datetime) -> str:
    """``YYYYMMDDhhmmss`` in UTC (not strftime: %Y does not zero-pad years before 1000)."""
    t = instant.astimezone(UTC)
    return f"{t.year:04d}{t.month:02d}{t.day:02d}{t.hour:02d}{t.minute:02d}{t.second:02d}"


def cdxj_lines(catalog: Catalog, labels: Sequence[str] | None = None) -> Iterator[str]:
    """CDXJ lines for every dated capture with a SURT key (only ``labels``, if given), sorted.

    Streamed from the catalog: memory stays flat whatever its size.
    """
    unknown = [label for label in labels or () if label not in LABELS]
    if unknown:
        raise ArchiveError(f"not a label: {unknown[0]!r} (use {', '.join(LABELS)})")
    for row in index_rows(catalog, labels):
        yield cdxj_line(row)
