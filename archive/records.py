"""Where one archive record becomes the facts the catalog keeps: dates, URIs, hashes, verdicts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import surt as surt_lib

from archive.dates import ParsedDate, parse_arc_date, parse_http_date, parse_warc_date
from archive.digests import (
    DeclaredDigest,
    DigestStatus,
    algorithms_needed,
    declared_algorithms,
    parse_declared_digest,
    verify_digest,
)
from archive.payload import BlockDigests, digest_block, has_http_block
from archive.reader import ArchiveRecord

_WARCINFO_KEEP = 1 << 16
# WARC 1.1 §6: the eight record types. Anything else is recorded, and reported.
RECORD_TYPES = frozenset(
    {
        "warcinfo",
        "response",
        "resource",
        "request",
        "metadata",
        "revisit",
        "conversion",
        "continuation",
    }
)


@dataclass(frozen=True)
class RecordFacts:
    """Everything the catalog keeps about one record, computed in one pass over its bytes."""

    offset: int
    length: int
    warc_record_id: str | None
    record_type: str
    target_uri: str | None
    surt: str | None
    capture_time: datetime | None
    date_raw: str | None
    date_precision: str | None
    http_status: int | None
    mime: str | None
    content_length: int | None
    payload_length: int | None
    payload_sha256: str | None
    block_digest: str | None
    block_digest_algorithm: str | None
    block_digest_status: str
    payload_digest: str | None
    payload_digest_algorithm: str | None
    payload_digest_status: str
    # "entity" when the declared payload digest matched the de-chunked entity body (the WARC
    # definition), "stored" when it only matched the chunked bytes as stored.
    payload_digest_matched: str | None
    truncated: str | None
    revisit_profile: str | None
    refers_to: str | None
    refers_to_target_uri: str | None
    refers_to_date_raw: str | None
    refers_to_date: datetime | None
    last_modified_raw: str | None
    last_modified: datetime | None
    problems: tuple[str, ...]
    # For warcinfo records: the fields of their application/warc-fields block (WARC 1.1 §6.2).
    warcinfo: dict[str, str] | None = None
    # What the evidence ladder needs (see archive/evidence.py).
    is_capture: bool = False
    date_trusted: bool = False
    damaged: bool = False
    payload_digest_key: str | None = None
    refers_to_surt: str | None = None


def describe_record(record: ArchiveRecord) -> RecordFacts:
    """Read ``record`` to its end once and return its facts, with any problems it shows."""
    headers = record.headers
    problems: list[str] = []
    declared_block = parse_declared_digest(headers.get("WARC-Block-Digest"))
    declared_payload = parse_declared_digest(headers.get("WARC-Payload-Digest"))
    content_type = headers.get("Content-Type")  # Headers are looked up case-insensitively
    is_http = has_http_block(record.record_type, record.target_uri, content_type)
    digests = digest_block(
        record.block,
        http=is_http,
        # The catalog keeps no hash of the block, only the verdict on its declared digest.
        block_algorithms=declared_algorithms(declared_block),
        payload_algorithms=algorithms_needed(declared_payload),
        keep=_WARCINFO_KEEP if record.record_type == "warcinfo" else 0,
    )
    length = record.length  # after the block was read: the reader now knows where it ends
    problems.extend(digests.problems)
    cut_short = record.block_shortfall > 0
    record_id = _strip_brackets(headers.get("WARC-Record-ID"))

    if record.format == "warc":
        if not record.record_type:
            problems.append("missing WARC-Type")
        elif record.record_type not in RECORD_TYPES:
            problems.append(f"unknown record type {record.record_type!r}")
        if record_id is None:
            # An empty "<>" identifies nothing either (WARC 1.1 §5.2).
            problems.append("missing WARC-Record-ID")

    date = None
    if record.date_raw is None:
        problems.append("missing WARC-Date")
    else:
        parse = parse_arc_date if record.format == "arc" else parse_warc_date
        date = parse(record.date_raw)
        if date.instant is None:
            problems.append(f"invalid date {record.date_raw[:40]!r}: {date.error}")

    target_uri = _clean_uri(record.target_uri)
    surt_key = None
    if target_uri and target_uri.lower().startswith(("http:", "https:", "ftp:")):
        surt_key = _surt(target_uri)
        if surt_key is None:
            problems.append(f"target URI does not parse: {target_uri[:200]!r}")

    block_status = verify_digest(declared_block, digests.block)
    if block_status is DigestStatus.MISMATCH and not cut_short:
        problems.append(f"block digest mismatch (declared {declared_block and declared_block.raw})")
    is_revisit = record.record_type == "revisit"
    payload_status, matched = _verify_payload(declared_payload, digests, is_revisit)
    if payload_status is DigestStatus.MISMATCH and not cut_short:
        declared = declared_payload and declared_payload.raw
        problems.append(f"payload digest mismatch (declared {declared})")
    for declared, status in ((declared_block, block_status), (declared_payload, payload_status)):
        if status is DigestStatus.UNSUPPORTED and declared is not None:
            problems.append(f"digest not supported: {declared.raw[:80]!r}")

    is_capture = _is_capture(record.record_type, target_uri)
    date_trusted = False
    if is_capture and date is not None and date.instant is not None:
        date_trusted, reason = _trusted_capture_date(date)
        if reason:
            problems.append(f"WARC-Date {date.raw[:40]!r} {reason}: not capture evidence")

    http = digests.http
    mime_source = http.get("Content-Type") if http else content_type
    last_modified_raw = http.get("Last-Modified") if http else None
    refers_to_date_raw = headers.get("WARC-Refers-To-Date")
    refers_to_date = parse_warc_date(refers_to_date_raw) if refers_to_date_raw else None
    refers_to_uri = _clean_uri(headers.get("WARC-Refers-To-Target-URI"))
    return RecordFacts(
        offset=record.offset,
        length=length,
        warc_record_id=record_id,
        record_type=record.record_type or "unknown",
        target_uri=target_uri,
        surt=surt_key,
        capture_time=date.instant if date else None,
        date_raw=record.date_raw,
        date_precision=date.precision if date else None,
        http_status=http.status if http else None,
        mime=_media_type(mime_source),
        content_length=record.content_length,
        payload_length=None if is_revisit else digests.payload_length,
        payload_sha256=None if is_revisit else digests.payload["sha256"].hex(),
        block_digest=declared_block.raw if declared_block else None,
        block_digest_algorithm=declared_block.algorithm if declared_block else None,
        block_digest_status=str(block_status),
        payload_digest=declared_payload.raw if declared_payload else None,
        payload_digest_algorithm=declared_payload.algorithm if declared_payload else None,
        payload_digest_status=str(payload_status),
        payload_digest_matched=matched,
        truncated=headers.get("WARC-Truncated"),
        revisit_profile=headers.get("WARC-Profile") if is_revisit else None,
        refers_to=_strip_brackets(headers.get("WARC-Refers-To")),
        refers_to_target_uri=refers_to_uri,
        refers_to_date_raw=refers_to_date_raw,
        refers_to_date=refers_to_date.instant if refers_to_date else None,
        last_modified_raw=last_modified_raw,
        last_modified=parse_http_date(last_modified_raw) if last_modified_raw else None,
        problems=tuple(problems),
        warcinfo=_warc_fields(digests.head) if record.record_type == "warcinfo" else None,
        is_capture=is_capture,
        date_trusted=date_trusted,
        damaged=cut_short,
        payload_digest_key=_digest_key(declared_payload),
        refers_to_surt=_surt(refers_to_uri) if refers_to_uri else None,
    )


# Web captures before this are implausible: the first web server went public in 1991.
_EARLIEST_CAPTURE = datetime(1990, 1, 1, tzinfo=UTC)
# A capture dated this far past the moment it is ingested has a wrong clock or a forged date.
_CLOCK_SKEW = timedelta(days=1)


def _is_capture(record_type: str, target_uri: str | None) -> bool:
    """Response and revisit records capture a target; a resource only when it has a web URI."""
    if record_type in ("response", "revisit"):
        return True
    return record_type == "resource" and bool(
        target_uri and target_uri.lower().startswith(("http:", "https:", "ftp:"))
    )


def _trusted_capture_date(date: ParsedDate) -> tuple[bool, str | None]:
    """Whether a capture's date can stand as evidence, and if not why (for the problem line)."""
    assert date.instant is not None
    if not date.is_capture_grade:
        return False, f"has only {date.precision} precision"
    if date.instant < _EARLIEST_CAPTURE:
        return False, "is before 1990"
    if date.instant > datetime.now(UTC) + _CLOCK_SKEW:
        return False, "is in the future"
    return True, None


def _digest_key(declared: DeclaredDigest | None) -> str | None:
    """A declared digest as ``algorithm:hex``, comparable whatever encoding the crawler used."""
    if declared is None or not declared.supported:
        return None
    assert declared.value is not None
    return f"{declared.algorithm}:{declared.value.hex()}"


def _warc_fields(block: bytes) -> dict[str, str]:
    """Parse ``name: value`` lines of a warcinfo block; the first value of a name wins."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() and not name.startswith((" ", "\t")):
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def _verify_payload(
    declared: DeclaredDigest | None, digests: BlockDigests, is_revisit: bool
) -> tuple[DigestStatus, str | None]:
    if is_revisit:
        # A revisit's WARC-Payload-Digest names the original payload (WARC 1.1 §6.7.2): it is
        # checked against the original's capture, never against the revisit's own block.
        return (DigestStatus.ABSENT if declared is None else DigestStatus.NOT_APPLICABLE), None
    status = verify_digest(declared, digests.payload)
    if status is DigestStatus.OK:
        return status, "entity"
    if (
        status is DigestStatus.MISMATCH
        and digests.payload_as_stored is not None
        and verify_digest(declared, digests.payload_as_stored) is DigestStatus.OK
    ):
        return DigestStatus.OK, "stored"
    return status, None


def _strip_brackets(value: str | None) -> str | None:
    # WARC 1.0's grammar put URIs in angle brackets (<urn:uuid:...>); WARC 1.1 §5.2 keeps them
    # for WARC-Record-ID. The catalog stores the bare URI either way so lookups match.
    if value is None:
        return None
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return value or None


def _clean_uri(value: str | None) -> str | None:
    return _strip_brackets(value)


# A capture's request, response and metadata records follow each other and name the same URI,
# and the surt package's canonicalisation is the costliest step of describing a small record.
# The cache is kept small on purpose: it serves neighbours, not a whole crawl (nor a benchmark
# input made of copies of one file).
@functools.lru_cache(maxsize=16)
def _surt(uri: str) -> str | None:
    """The SURT key of a web URI, or None when the URI does not parse (RFC 3986)."""
    try:
        parts = urlsplit(uri)
        if not parts.hostname:
            return None
        parts.port  # noqa: B018 -- raises ValueError for a non-numeric or out-of-range port
        key = surt_lib.surt(uri)
    except Exception:  # the surt package raises assorted errors for malformed URIs
        return None
    return str(key) if key else None


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    return media or None
