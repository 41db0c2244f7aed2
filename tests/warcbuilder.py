"""Fixture helpers that build WARC (and legacy ARC) bytes for tests, good and broken.

Records are built by hand, byte by byte, not with warcio's writer: tests need exact control of
every header line and digest, and a builder that shares no code with the reader under test is
an independent oracle for it.

    data = warc_bytes([warcinfo({"software": "t"}, D), response("http://a.test/", b"hi", D)])
    broken = response("http://a.test/", b"hi", D).renamed("WARC-Type", "warc-type")
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

Compression = Literal["record", "none", "whole"]
Field = tuple[str, str | None]

REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"
REVISIT_IDENTICAL_1_1 = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
_ID_NAMESPACE = uuid.UUID("5f0c6c1e-2f7e-4d8a-9a53-6b0d2a1c9e47")


# --- digests and framing ---------------------------------------------------------------------


def sha1_b32(data: bytes) -> str:
    """The ``sha1:BASE32`` digest of ``data``, as crawlers write WARC digests."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def sha256_hex(data: bytes) -> str:
    """The ``sha256:hex`` digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha256_b32(data: bytes) -> str:
    """The ``sha256:BASE32`` digest of ``data``."""
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


def chunk(body: bytes, sizes: Sequence[int]) -> bytes:
    """``body`` in HTTP/1.1 chunked framing: chunks of ``sizes``, then one chunk of the rest."""
    out, pos = [], 0
    for size in [*sizes, len(body)]:
        piece = body[pos : pos + size]
        if not piece:
            break
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        pos += len(piece)
    return b"".join(out) + b"0\r\n\r\n"


def make_record_id(*parts: str) -> str:
    """A deterministic ``<urn:uuid:...>`` derived from ``parts``."""
    return f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, ' '.join(parts))}>"


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rec:
    """One WARC record to be: version line, header fields in order, block bytes.

    A field whose value is None is written as its bare name, a header line with no colon.
    Content-Length is appended with the exact block length unless a field of that name (in
    any case) is already present, in which case it is written as is.
    """

    fields: tuple[Field, ...]
    block: bytes
    version: str = "WARC/1.0"
    trailer: bytes = b"\r\n\r\n"

    def get(self, name: str) -> str | None:
        """The first value of field ``name`` (case-insensitive), or None."""
        return next((v for k, v in self.fields if k.lower() == name.lower()), None)

    @property
    def id(self) -> str:
        """This record's WARC-Record-ID."""
        value = self.get("WARC-Record-ID")
        assert value is not None, "record has no WARC-Record-ID"
        return value

    def header_bytes(self) -> bytes:
        """The version line and header fields, up to and including the blank line."""
        fields = list(self.fields)
        if not any(k.lower() == "content-length" for k, _ in fields):
            fields.append(("Content-Length", str(len(self.block))))
        lines = [self.version] + [k if v is None else f"{k}: {v}" for k, v in fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def to_bytes(self) -> bytes:
        """The whole record as it appears in an uncompressed WARC."""
        return self.header_bytes() + self.block + self.trailer

    def with_field(self, name: str, value: str | None) -> Rec:
        """Replace the value of field ``name`` (case-insensitive) in place, or append it."""
        if all(k.lower() != name.lower() for k, _ in self.fields):
            return replace(self, fields=(*self.fields, (name, value)))
        fields = tuple((k, value) if k.lower() == name.lower() else (k, v) for k, v in self.fields)
        return replace(self, fields=fields)

    def without(self, name: str) -> Rec:
        """Drop every field called ``name`` (case-insensitive)."""
        return replace(self, fields=tuple(f for f in self.fields if f[0].lower() != name.lower()))

    def renamed(self, name: str, new_name: str) -> Rec:
        """Rename field ``name``, e.g. to its lower-case spelling."""
        fields = tuple((new_name if k.lower() == name.lower() else k, v) for k, v in self.fields)
        return replace(self, fields=fields)

    def lowercased(self) -> Rec:
        """Every field name in lower case (names are case-insensitive, WARC 1.1 §4)."""
        return replace(self, fields=tuple((k.lower(), v) for k, v in self.fields))

    def with_line(self, line: str) -> Rec:
        """Append a raw header line, e.g. one without a colon."""
        return replace(self, fields=(*self.fields, (line, None)))

    def with_version(self, version_line: str) -> Rec:
        """Use another version line, e.g. ``WARC/0.18`` or ``WARC/2.0``."""
        return replace(self, version=version_line)

    def cut_short(self, missing: int) -> Rec:
        """Declare ``missing`` more block bytes than present, as a file truncated mid-block.

        Only meaningful as the last record of a file: a reader will otherwise take the bytes
        of the next record as the rest of this block.
        """
        return replace(self, trailer=b"").with_field(
            "Content-Length", str(len(self.block) + missing)
        )


def _digest(option: str | None, auto: bytes, stored: bytes | None = None) -> str | None:
    if option == "auto":
        return sha1_b32(auto)
    if option == "stored":
        return sha1_b32(auto if stored is None else stored)
    return option


def _warc_fields(
    rec_type: str,
    url: str | None,
    date: str,
    rid: str | None,
    extra: Iterable[Field],
) -> list[Field]:
    fields: list[Field] = [
        ("WARC-Type", rec_type),
        ("WARC-Record-ID", rid or make_record_id(rec_type, url or "", date)),
        ("WARC-Date", date),
    ]
    if url is not None:
        fields.append(("WARC-Target-URI", url))
    return fields + list(extra)


def _finish(
    fields: list[Field],
    block: bytes,
    block_digest: str | None,
    payload_digest: str | None,
    content_type: str | None,
    extra_headers: Iterable[Field],
    warc_version: str,
) -> Rec:
    if payload_digest is not None:
        fields.append(("WARC-Payload-Digest", payload_digest))
    if block_digest is not None:
        fields.append(("WARC-Block-Digest", block_digest))
    if content_type is not None:
        fields.append(("Content-Type", content_type))
    fields.extend(extra_headers)
    return Rec(tuple(fields), block, version=f"WARC/{warc_version}")


def http_head(start_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """An HTTP message head: start line, header lines, blank line."""
    lines = [start_line] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response(
    url: str,
    body: bytes,
    date: str,
    *,
    status: str = "200 OK",
    content_type: str = "text/html; charset=utf-8",
    chunked: bool | Sequence[int] = False,
    http_headers: list[tuple[str, str]] | None = None,
    payload_digest: str | None = "auto",
    block_digest: str | None = "auto",
    record_id: str | None = None,
    extra_headers: Iterable[Field] = (),
    last_modified: str | None = None,
    warc_version: str = "1.0",
) -> Rec:
    """An HTTP ``response`` record for ``url`` whose entity body is ``body``.

    ``chunked``: True, or the chunk sizes, to store the body in chunked framing.
    ``payload_digest``: "auto" is the sha1 of the entity body with chunking removed
    (WARC 1.1 §6.3.2); "stored" the sha1 of the payload as stored, chunk framing included,
    as many crawlers wrote it; None omits the field; any other string is written verbatim.
    ``http_headers`` replaces the default Content-Type/Content-Length (or Transfer-Encoding).
    """
    if chunked is True:
        chunked = [max(1, len(body) // 3)] * 2
    stored = chunk(body, chunked) if chunked is not False else body
    if http_headers is None:
        framing = (
            ("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(len(body)))
        )
        http_headers = [("Content-Type", content_type), framing]
    if last_modified is not None:
        http_headers = [*http_headers, ("Last-Modified", last_modified)]
    block = http_head(f"HTTP/1.1 {status}", http_headers) + stored
    return _finish(
        _warc_fields("response", url, date, record_id, []),
        block,
        _digest(block_digest, block),
        _digest(payload_digest, body, stored),
        "application/http; msgtype=response",
        extra_headers,
        warc_version,
    )


def request(
    url: str,
    date: str,
    *,
    method: str = "GET",
    http_headers: list[tuple[str, str]] | None = None,
    concurrent_to: str | None = None,
    block_digest: str | None = "auto",
    record_id: str | None = None,
    extra_headers: Iterable[Field] = (),
    warc_version: str = "1.0",
) -> Rec:
    """An HTTP ``request`` record for ``url``, optionally tied to its response."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if http_headers is None:
        http_headers = [("Host", parts.netloc), ("User-Agent", "archivist-tests/1")]
    block = http_head(f"{method} {target} HTTP/1.1", http_headers)
    extra = [("WARC-Concurrent-To", concurrent_to)] if concurrent_to else []
    return _finish(
        _warc_fields("request", url, date, record_id, extra),
        block,
        _digest(block_digest, block),
        None,
        "application/http; msgtype=request",
        extra_headers,
        warc_version,
    )


def exchange(resp: Rec) -> list[Rec]:
    """The request for response ``resp`` (linked by WARC-Concurrent-To), then ``resp``."""
    url, date = resp.get("WARC-Target-URI"), resp.get("WARC-Date")
    assert url is not None and date is not None
    return [request(url, date, concurrent_to=resp.id), resp]


def revisit(
    url: str,
    date: str,
    *,
    refers_to: str | None,
    refers_to_target_uri: str | None,
    refers_to_date: str | None,
    payload_digest: str | None,
    profile: str = REVISIT_IDENTICAL,
    status: str | None = "200 OK",
    http_headers: list[tuple[str, str]] | None = None,
    block_digest: str | None = "auto",
    record_id: str | None = None,
    extra_headers: Iterable[Field] = (),
    warc_version: str = "1.0",
) -> Rec:
    """A ``revisit`` record; its block is the new HTTP head (none when ``status`` is None)."""
    if status is None:
        block, content_type = b"", None
    else:
        headers = http_headers if http_headers is not None else [("Content-Type", "text/html")]
        block, content_type = http_head(f"HTTP/1.1 {status}", headers), "application/http"
        content_type += "; msgtype=response"
    extra: list[Field] = [("WARC-Profile", profile)]
    for name, value in (
        ("WARC-Refers-To", refers_to),
        ("WARC-Refers-To-Target-URI", refers_to_target_uri),
        ("WARC-Refers-To-Date", refers_to_date),
    ):
        if value is not None:
            extra.append((name, value))
    return _finish(
        _warc_fields("revisit", url, date, record_id, extra),
        block,
        _digest(block_digest, block),
        payload_digest,
        content_type,
        extra_headers,
        warc_version,
    )


def revisit_of(original: Rec, date: str, **options: Any) -> Rec:
    """An identical-payload revisit of ``original`` (a response Rec), captured at ``date``."""
    url = original.get("WARC-Target-URI")
    assert url is not None
    return revisit(
        url,
        date,
        refers_to=original.id,
        refers_to_target_uri=url,
        refers_to_date=original.get("WARC-Date"),
        payload_digest=original.get("WARC-Payload-Digest"),
        **options,
    )


def resource(
    url: str,
    body: bytes,
    date: str,
    content_type: str = "text/plain",
    *,
    payload_digest: str | None = "auto",
    block_digest: str | None = "auto",
    record_id: str | None = None,
    extra_headers: Iterable[Field] = (),
    warc_version: str = "1.0",
) -> Rec:
    """A ``resource`` record: the block is the payload, so both digests cover ``body``."""
    return _finish(
        _warc_fields("resource", url, date, record_id, []),
        body,
        _digest(block_digest, body),
        _digest(payload_digest, body),
        content_type,
        extra_headers,
        warc_version,
    )


def metadata(
    url: str,
    body: bytes,
    date: str,
    *,
    concurrent_to: str | None = None,
    content_type: str = "application/warc-fields",
    block_digest: str | None = "auto",
    record_id: str | None = None,
    extra_headers: Iterable[Field] = (),
) -> Rec:
    """A ``metadata`` record about ``url`` (e.g. outlinks), optionally tied to its capture."""
    extra = [("WARC-Concurrent-To", concurrent_to)] if concurrent_to else []
    return _finish(
        _warc_fields("metadata", url, date, record_id, extra),
        body,
        _digest(block_digest, body),
        None,
        content_type,
        extra_headers,
        "1.0",
    )


def warcinfo(
    fields: dict[str, str],
    date: str,
    filename: str = "test.warc.gz",
    *,
    block_digest: str | None = "auto",
    record_id: str | None = None,
    warc_version: str = "1.0",
) -> Rec:
    """A ``warcinfo`` record whose block holds ``fields`` (software, operator, isPartOf, ...)."""
    block = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
    return _finish(
        _warc_fields("warcinfo", None, date, record_id or make_record_id(filename, date), []),
        block,
        _digest(block_digest, block),
        None,
        "application/warc-fields",
        [("WARC-Filename", filename)],
        warc_version,
    )


# --- files -----------------------------------------------------------------------------------


def warc_bytes(records: Iterable[Rec], compression: Compression = "record") -> bytes:
    """The bytes of a WARC file holding ``records``.

    "record": one gzip member per record (WARC 1.1 Annex D); "none": plain; "whole": the whole
    file as one gzip stream, which warcio refuses to read and archivist must read anyway.
    """
    raw = [r.to_bytes() for r in records]
    if compression == "record":
        return b"".join(gzip.compress(r, mtime=0) for r in raw)
    if compression == "whole":
        return gzip.compress(b"".join(raw), mtime=0)
    return b"".join(raw)


def write_warc(path: Path, records: Iterable[Rec], compression: Compression | None = None) -> Path:
    """Write ``records`` to ``path``; compression defaults to "record" for ``.gz`` names."""
    if compression is None:
        compression = "record" if path.name.endswith(".gz") else "none"
    path.write_bytes(warc_bytes(records, compression))
    return path


def record_offsets(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each record as warcio's ArchiveIterator reports them.

    Only for "record" and "none" files: warcio refuses whole-file gzip.
    """
    out = []
    it = ArchiveIterator(io.BytesIO(data))
    for _ in it:
        out.append((it.get_record_offset(), it.get_record_length()))
    return out


def member_offsets(records: Iterable[Rec]) -> list[tuple[int, int]]:
    """(offset, length) of each gzip member that ``warc_bytes(records, "record")`` writes."""
    out, pos = [], 0
    for rec in records:
        size = len(gzip.compress(rec.to_bytes(), mtime=0))
        out.append((pos, size))
        pos += size
    return out


# --- broken variants -------------------------------------------------------------------------


def truncate(data: bytes, n: int) -> bytes:
    """The first ``n`` bytes of ``data`` (negative: all but the last ``-n``), a cut-off file."""
    return data[:n]


def flip_byte(data: bytes, index: int) -> bytes:
    """``data`` with the byte at ``index`` inverted, to corrupt a digest or a gzip member."""
    return data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1 :]


# --- legacy ARC ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArcRec:
    """One ARC v1 record: ``url ip date mime length`` header line, then the block."""

    url: str
    date: str  # 14 digits, YYYYMMDDhhmmss
    block: bytes
    mime: str = "text/html"
    ip: str = "192.0.2.1"

    def to_bytes(self) -> bytes:
        """The record as it appears in an uncompressed ARC file, trailing newline included."""
        line = f"{self.url} {self.ip} {self.date} {self.mime} {len(self.block)}\n"
        return line.encode("utf-8") + self.block + b"\n"


def arc_response(
    url: str, body: bytes, date: str, *, mime: str = "text/html", status: str = "200 OK"
) -> ArcRec:
    """An ARC record holding an HTTP response for ``url`` captured at ``date`` (14 digits)."""
    head = http_head(
        f"HTTP/1.0 {status}", [("Content-Type", mime), ("Content-Length", str(len(body)))]
    )
    return ArcRec(url, date, head + body, mime)


def arc_bytes(
    records: Iterable[ArcRec],
    *,
    filename: str = "test.arc",
    date: str = "20010101000000",
    compression: Literal["record", "none"] = "none",
) -> bytes:
    """The bytes of an ARC v1 file: the ``filedesc://`` header record, then ``records``."""
    desc = b"1 0 archivist-tests\nURL IP-address Archive-date Content-type Archive-length\n"
    header = ArcRec(f"filedesc://{filename}", date, desc, "text/plain", "0.0.0.0")
    raw = [header.to_bytes()] + [r.to_bytes() for r in records]
    if compression == "record":
        return b"".join(gzip.compress(r, mtime=0) for r in raw)
    return b"".join(raw)
