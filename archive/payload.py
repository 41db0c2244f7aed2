"""Where a record's block is split into HTTP headers and payload, de-chunked and hashed.

One streaming pass over the block feeds three hash sets: the block as a whole (for
WARC-Block-Digest), the payload as stored, and the entity body with chunked transfer-encoding
removed. WARC 1.1 §6.3.2 defines WARC-Payload-Digest over the entity body "with any
transfer-encoding removed"; many crawlers hashed the stored (still chunked) bytes instead, so
both are kept and the verifier says which one matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from archive.digests import MultiHasher

_CHUNK = 1 << 16
# HTTP headers larger than this are not HTTP headers: treat the block as an opaque payload.
_MAX_HTTP_HEAD = 1 << 17
# RFC 9112 §7.1: chunk-size = 1*HEXDIG. int(x, 16) alone would also take "0x1f", "1_0", "-5".
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")
# RFC 9110 §15: a status code is three digits. str.isdigit() alone would also take "²00".
_STATUS = re.compile(r"[0-9]{3}", re.ASCII)


class ByteStream(Protocol):
    """Anything with ``read(size) -> bytes`` that returns b"" at its end: a record block, a file."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class HttpHead:
    """The start line and header fields of an HTTP message stored in a block."""

    start_line: str
    fields: tuple[tuple[str, str], ...]

    @property
    def status(self) -> int | None:
        """The status code of a response (None for a request or an unreadable start line)."""
        parts = self.start_line.split(None, 2)
        if len(parts) >= 2 and parts[0].upper().startswith("HTTP/") and _STATUS.fullmatch(parts[1]):
            return int(parts[1])
        return None

    def get(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lower = name.lower()
        for key, value in self.fields:
            if key.lower() == lower:
                return value
        return None


@dataclass(frozen=True)
class BlockDigests:
    """What one pass over a block found: lengths, HTTP head, and the digests of each view."""

    block_length: int
    block: dict[str, bytes]
    http: HttpHead | None
    payload_length: int
    payload: dict[str, bytes]
    # Digests of the payload bytes as stored, only when they differ from `payload` (chunked).
    payload_as_stored: dict[str, bytes] | None
    problems: tuple[str, ...] = field(default=())
    # The first bytes of the block, when the caller asked to keep them (warcinfo fields).
    head: bytes = b""


def parse_http_head(raw: bytes) -> HttpHead | None:
    """Parse an HTTP start line and header fields; None when ``raw`` is not an HTTP head."""
    text = raw.decode("iso-8859-1")
    lines = text.replace("\r\n", "\n").split("\n")
    start_line = lines[0].strip()
    first = start_line.split(None, 1)[0] if start_line else ""
    is_response = first.upper().startswith("HTTP/")
    is_request = len(start_line.split()) == 3 and start_line.split()[2].upper().startswith("HTTP/")
    if not (is_response or is_request):
        return None
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t" and fields:
            # obs-fold (RFC 9112 §5.2): a continuation of the previous field value.
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if sep:
            fields.append((name.strip(), value.strip()))
    return HttpHead(start_line, tuple(fields))


class _Dechunker:
    """Incremental decoder of HTTP/1.1 chunked transfer-coding (RFC 9112 §7.1)."""

    def __init__(self) -> None:
        self._pending = b""
        self._remaining = 0  # data bytes left in the current chunk
        self._state = "size"  # size -> data -> data-end -> ... -> trailer -> done
        self.error: str | None = None

    @property
    def complete(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> Iterable[bytes]:
        """Yield the entity bytes contained in ``data``."""
        if self.error or self._state == "done":
            return
        buf = self._pending + data
        self._pending = b""
        pos = 0
        while pos < len(buf):
            if self._state == "data":
                take = min(self._remaining, len(buf) - pos)
                yield buf[pos : pos + take]
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = "data-end"
                continue
            end = buf.find(b"\n", pos)
            if end < 0:
                if len(buf) - pos > 4096:
                    self.error = "chunk size line too long"
                    return
                self._pending = buf[pos:]
                return
            line = buf[pos:end].strip()
            pos = end + 1
            if self._state == "data-end":
                if line:
                    self.error = "chunk data not followed by CRLF"
                    return
                self._state = "size"
            elif self._state == "size":
                size_text = line.split(b";", 1)[0].strip()
                if not _CHUNK_SIZE.fullmatch(size_text):
                    self.error = f"invalid chunk size {size_text[:20]!r}"
                    return
                size = int(size_text, 16)
                if size == 0:
                    self._state = "trailer"
                else:
                    self._remaining, self._state = size, "data"
            elif self._state == "trailer" and not line:
                self._state = "done"
                return


# WARC 1.1 §6: the record types whose block is never an HTTP message.
_NON_HTTP_TYPES = frozenset({"warcinfo", "resource", "metadata", "conversion", "continuation"})


def has_http_block(record_type: str, target_uri: str | None, content_type: str | None) -> bool:
    """Whether a record's block is an HTTP message (WARC 1.1 §6.3.2, §6.4.2, §6.6.2)."""
    if record_type in _NON_HTTP_TYPES:
        return False
    declared_http = bool(content_type and content_type.lower().startswith("application/http"))
    if record_type not in ("response", "request", "revisit"):
        # A type this version of the standard does not name: its Content-Type is the only
        # word on what the block holds (WARC 1.1 §5.6).
        return declared_http
    return declared_http or bool(target_uri and target_uri.lower().startswith(("http:", "https:")))


def digest_block(
    block: ByteStream,
    *,
    http: bool,
    block_algorithms: set[str],
    payload_algorithms: set[str],
    keep: int = 0,
    sink: Callable[[bytes], None] | None = None,
    dechunk: bool = True,
) -> BlockDigests:
    """Read ``block`` to its end once and hash the block, the stored payload and the entity.

    ``keep`` bytes of the block's start are returned in ``head`` for callers that parse them.
    ``sink`` receives the payload bytes (de-chunked unless ``dechunk`` is false) as they pass.
    """
    kept = b""
    block_hasher = MultiHasher(block_algorithms)
    stored = MultiHasher(payload_algorithms)
    block_length = 0
    problems: list[str] = []

    head: HttpHead | None = None
    head_buffer = b""
    entity: MultiHasher | None = None
    dechunker: _Dechunker | None = None
    entity_length = 0
    stored_length = 0
    in_head = http

    while chunk := block.read(_CHUNK):
        block_hasher.update(chunk)
        block_length += len(chunk)
        if len(kept) < keep:
            kept += chunk[: keep - len(kept)]
        if in_head:
            head_buffer += chunk
            end, sep_len = _head_end(head_buffer)
            if end < 0:
                if len(head_buffer) <= _MAX_HTTP_HEAD:
                    continue
                problems.append("no end of HTTP headers: block taken as payload")
                chunk, head_buffer, in_head = head_buffer, b"", False
            else:
                head = parse_http_head(head_buffer[:end])
                if head is None:
                    problems.append("block is not an HTTP message: block taken as payload")
                    chunk = head_buffer
                else:
                    chunk = head_buffer[end + sep_len :]
                    if dechunk and _is_chunked(head):
                        dechunker, entity = _Dechunker(), MultiHasher(payload_algorithms)
                head_buffer, in_head = b"", False
        stored.update(chunk)
        stored_length += len(chunk)
        if dechunker is not None and entity is not None:
            for piece in dechunker.feed(chunk):
                entity.update(piece)
                entity_length += len(piece)
                if sink is not None:
                    sink(piece)
        elif sink is not None and chunk:
            sink(chunk)

    if in_head and head_buffer:
        # The block ended inside (or right at the end of) the HTTP headers: no payload.
        head = parse_http_head(head_buffer)
        if head is None:
            problems.append("block is not an HTTP message: block taken as payload")
            stored.update(head_buffer)
            stored_length += len(head_buffer)
            if sink is not None:
                sink(head_buffer)

    if dechunker is not None and entity is not None:
        if dechunker.error or not dechunker.complete:
            reason = dechunker.error or "chunked body ends before its last chunk"
            problems.append(
                f"invalid chunked transfer-encoding ({reason}): payload taken as stored"
            )
        else:
            return BlockDigests(
                block_length,
                block_hasher.digests(),
                head,
                entity_length,
                entity.digests(),
                stored.digests(),
                tuple(problems),
                kept,
            )
    return BlockDigests(
        block_length,
        block_hasher.digests(),
        head,
        stored_length,
        stored.digests(),
        None,
        tuple(problems),
        kept,
    )


def _head_end(buffer: bytes) -> tuple[int, int]:
    """Where the HTTP head ends in ``buffer`` and the length of the blank-line separator."""
    crlf = buffer.find(b"\r\n\r\n")
    lf = buffer.find(b"\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, 2
    return crlf, 4 if crlf >= 0 else 0


def _is_chunked(head: HttpHead) -> bool:
    encoding = head.get("Transfer-Encoding")
    return bool(encoding and "chunked" in encoding.lower())
