"""Where WARC and ARC files are read: an iterator of records with offset, length, headers, block.

Everything downstream sees `ArchiveRecord`; how records are framed, decompressed and resumed
after damage is this module's business alone.

Three layouts are read:
- ``gzip``: one gzip member per record (WARC 1.1 Annex D); offsets are compressed offsets, so a
  record is read back by seeking straight to it;
- ``none``: uncompressed; offsets are plain byte offsets;
- ``gzip-stream``: the whole file compressed as one gzip stream (or as members that each hold
  several records). We read the decompressed stream and record *decompressed* offsets, which
  `open_record` honours by decompressing from the start (slow, but the only way such a file can
  be addressed).

The framing is our own rather than warcio's: warcio treats EOFError as "no more records", so a
whole-file gzip cut short, or followed by junk, loses records without a word, and it has no way
to say that a record is cut short. Offsets and lengths follow warcio's conventions (the tests
use warcio as their oracle): an uncompressed record's length excludes the blank lines after it;
a gzip record's length is its member's.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

from archive.errors import WarcFormatError

Compression = Literal["gzip", "none", "gzip-stream"]

_GZIP_MAGIC = b"\x1f\x8b"
_READ_SIZE = 1 << 16
# Decompressed bytes produced per step: bounds memory whatever the compression ratio.
_INFLATE_SIZE = 1 << 18
# A record header longer than this is not a header: the record is unreadable.
_MAX_HEADER = 1 << 20
# The WARC versions we accept: 1.0 and 1.1 (ISO 28500), and the pre-standard drafts 0.17 and
# 0.18 that early Heritrix crawls wrote (same named-field syntax as 1.0).
_WARC_VERSIONS = ("WARC/1.0", "WARC/1.1", "WARC/0.17", "WARC/0.18")
# How many damaged gzip members detect_format looks past for the first readable record.
_SNIFF_MEMBERS = 64
_FAILED_CHECK = "gzip member fails its CRC-32 or size check: its data is damaged"
_CONTENT_LENGTH = re.compile(r"[0-9]+", re.ASCII)
# Where a record may start when resynchronising after damage: a version line (any version, so
# that an unsupported one is reported as such), or an ARC v1/v2 record line
# (``url ip yyyymmddhhmmss mime ... length``).
_WARC_START = re.compile(rb"\n(WARC/[0-9]+\.[0-9]+[ \t]*\r?\n)")
_ARC_START = re.compile(rb"\n([A-Za-z][A-Za-z0-9+.\-]*:\S* \S+ [0-9]{12,17} [^\n]*?[0-9]+\r?\n)")
# ARC header-line fields as warcio names them: ARC v1 (5 fields) and ARC v2 (10 fields).
_ARC_V1_FIELDS = ("uri", "ip-address", "archive-date", "content-type", "length")
_ARC_V2_FIELDS = (
    "uri",
    "ip-address",
    "archive-date",
    "content-type",
    "result-code",
    "checksum",
    "location",
    "offset",
    "filename",
    "length",
)


@dataclass(frozen=True)
class ArchiveFormat:
    """What kind of file this is: ``warc`` or ``arc``, its version line and its compression."""

    kind: Literal["warc", "arc"]
    version: str
    compression: Compression

    def describe(self) -> str:
        """A short label such as ``WARC/1.0 gzip``."""
        return f"{self.version} {self.compression}"


class Headers:
    """The header fields of one record, in order, looked up case-insensitively."""

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields
        # The first occurrence wins (assigned last): WARC fields are not repeatable except
        # WARC-Concurrent-To.
        self._index = {name.lower(): value for name, value in reversed(fields)}

    def get(self, name: str) -> str | None:
        """The first value of field ``name``, or None."""
        return self._index.get(name.lower())

    def items(self) -> list[tuple[str, str]]:
        """All fields as written."""
        return list(self._fields)


# --- byte sources ---------------------------------------------------------------------------


class _Inflater:
    """Decompresses gzip data from ``fh``: one member, or every member of a stream.

    ``fill`` returns the next decompressed bytes, b"" once the data ends; ``ended`` then says
    how: ``end`` (cleanly), ``truncated`` (the file ends inside a member) or ``corrupt``.

    Members are inflated as raw deflate and their header and trailer (RFC 1952 §2.3) checked
    here: zlib's own gzip mode raises on a bad CRC-32 and drops all output of that call, so a
    member damaged anywhere would lose its last 64 KiB, or a whole-file stream everything after.
    """

    def __init__(self, fh: IO[bytes], start: int, *, whole_stream: bool) -> None:
        fh.seek(start)
        self._fh = fh
        self._whole_stream = whole_stream
        self._decompressor: zlib._Decompress | None = None  # None before a member's header
        self._crc = 0
        self._size = 0
        self._input = b""
        # File offset of the first byte of ``_input``: after a member ends, where the next begins.
        self.compressed_offset = start
        self.decompressed = 0  # bytes returned so far
        self.ended: Literal["end", "truncated", "corrupt"] | None = None
        self.error = ""
        self.trailing_bytes = 0  # bytes after the last member that are not gzip data
        # Decompressed offsets at which a member ended whose CRC-32 or size did not match.
        self.failed_checks: list[int] = []

    def fill(self) -> bytes:
        while self.ended is None:
            if self._decompressor is None:
                self._read_member_header()
                continue
            if not self._input:
                self._input = self._fh.read(_READ_SIZE)
                if not self._input:
                    self._truncated()
                    # zlib may still hold output it had no room for in the last call.
                    try:
                        return self._output(self._decompressor.flush())
                    except zlib.error:
                        break
            decompressor = self._decompressor
            try:
                out = decompressor.decompress(self._input, _INFLATE_SIZE)
            except zlib.error as exc:
                self.ended, self.error = "corrupt", str(exc)
                break
            rest = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
            self._consume(len(self._input) - len(rest))
            out = self._output(out)
            if decompressor.eof:
                self._read_member_trailer()
            if out:
                return out
        return b""

    def _truncated(self) -> None:
        # Only called once the file is read to its end: what input is left (part of a header
        # or trailer) belongs to the member the file cut short.
        self.ended = "truncated"
        self._consume(len(self._input))

    def _output(self, out: bytes) -> bytes:
        self._crc = zlib.crc32(out, self._crc)
        self._size += len(out)
        self.decompressed += len(out)
        return out

    def _consume(self, size: int) -> None:
        self.compressed_offset += size
        self._input = self._input[size:]

    def _have(self, size: int) -> bool:
        """Whether ``size`` bytes of input are there, reading more of the file if needed."""
        while len(self._input) < size:
            more = self._fh.read(_READ_SIZE)
            if not more:
                return False
            self._input += more
        return True

    def _read_member_header(self) -> None:
        # RFC 1952 §2.3.1: ID1 ID2 CM FLG MTIME(4) XFL OS, then the optional parts FLG names.
        if not self._have(10):
            self._truncated()
            return
        data = self._input
        if not data.startswith(_GZIP_MAGIC + b"\x08") or data[3] & 0xE0:
            self.ended, self.error = "corrupt", "not a gzip member header"
            return
        flags, size = data[3], 10
        if flags & 0x04:  # FEXTRA
            if not self._have(size + 2):
                self._truncated()
                return
            size += 2 + int.from_bytes(self._input[size : size + 2], "little")
        for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
            if flags & flag:
                while (zero := self._input.find(b"\0", size)) < 0:
                    if not self._have(len(self._input) + 1):
                        self._truncated()
                        return
                size = zero + 1
        if flags & 0x02:  # FHCRC
            size += 2
        if not self._have(size):
            self._truncated()
            return
        self._consume(size)
        self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        self._crc = self._size = 0

    def _read_member_trailer(self) -> None:
        # RFC 1952 §2.3.1: CRC-32 and ISIZE (size mod 2**32), little-endian.
        if not self._have(8):
            self._truncated()
            return
        crc = int.from_bytes(self._input[:4], "little")
        size = int.from_bytes(self._input[4:8], "little")
        self._consume(8)
        if (crc, size) != (self._crc, self._size & 0xFFFFFFFF):
            self.failed_checks.append(self.decompressed)
        self._decompressor = None
        if not self._whole_stream:
            self.ended = "end"
            return
        # RFC 1952 §2.2: a gzip file is a series of members; a stream reads on into the next.
        self._have(3)
        if not self._input:
            self.ended = "end"
        elif not self._input.startswith(_GZIP_MAGIC + b"\x08"):
            self.ended = "end"
            self.trailing_bytes = self._fh.seek(0, 2) - self.compressed_offset

    def cause(self) -> str:
        """Why the decompressed data ended, as the end of a problem line."""
        if self.ended == "corrupt":
            return f"corrupt gzip data ({self.error})"
        if self.ended == "truncated":
            return "the file ends inside " + (
                "the gzip stream" if self._whole_stream else "its gzip member"
            )
        return "the file ends" if self._whole_stream else "its gzip member ends"


class _Bytes:
    """A forward-only byte stream with its position, line reads and push-back."""

    def __init__(self, fill: Callable[[], bytes], position: int = 0) -> None:
        self._fill = fill
        self._buffer = b""
        self._index = 0
        self._exhausted = False
        self.position = position  # of the next byte to be read

    def _more(self) -> bool:
        if self._exhausted:
            return False
        data = self._fill()
        if not data:
            self._exhausted = True
            return False
        self._buffer = self._buffer[self._index :] + data
        self._index = 0
        return True

    def _take(self, end: int) -> bytes:
        out = self._buffer[self._index : end]
        self._index = end
        self.position += len(out)
        return out

    def at_end(self) -> bool:
        return self._index >= len(self._buffer) and not self._more()

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (fewer when less is buffered); b"" only at the end."""
        if self.at_end():
            return b""
        return self._take(min(len(self._buffer), self._index + size))

    def readline(self, limit: int) -> bytes:
        """One line with its newline; at most ``limit`` bytes; b"" at the end."""
        while True:
            end = self._buffer.find(b"\n", self._index, self._index + limit)
            if end >= 0:
                return self._take(end + 1)
            if len(self._buffer) - self._index >= limit or not self._more():
                return self._take(min(len(self._buffer), self._index + limit))

    def unread(self, data: bytes) -> None:
        self._buffer = data + self._buffer[self._index :]
        self._index = 0
        self.position -= len(data)

    def skip_blank_lines(self) -> int:
        """Consume whitespace-only lines; return how many bytes were skipped."""
        skipped = 0
        while True:
            line = self.readline(_READ_SIZE)
            if not line:
                return skipped
            if line.strip():
                self.unread(line)
                return skipped
            skipped += len(line)

    def skip_to(self, pattern: re.Pattern[bytes]) -> bool:
        """Consume bytes up to the start of group 1 of ``pattern``'s next match, or all of them."""
        while True:
            match = pattern.search(self._buffer, self._index)
            if match is not None:
                self._take(match.start(1))
                return True
            # Keep a tail that may hold the start of a match cut by the end of the buffer.
            self._take(max(self._index, len(self._buffer) - 512))
            if not self._more():
                self._take(len(self._buffer))
                return False

    def discard(self, size: int) -> int:
        """Skip ``size`` bytes; return how many there were."""
        done = 0
        while done < size and (data := self.read(min(size - done, _INFLATE_SIZE))):
            done += len(data)
        return done


class RecordBlock:
    """The block of one record: ``declared`` bytes of ``source``, or all of it when None."""

    def __init__(self, source: _Bytes, declared: int | None) -> None:
        self._source = source
        self.declared = declared
        self.got = 0
        self.ended_early = False  # the source ended before the declared length
        self._held = b""
        self._done = False

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the block (all that is left when negative); b"" at its end."""
        if size < 0:
            parts = []
            while part := self.read(_READ_SIZE):
                parts.append(part)
            return b"".join(parts)
        if self._done or size == 0:
            return b""
        if self.declared is not None:
            data = self._source.read(min(size, self.declared - self.got))
            if not data:
                self._done = True
                self.ended_early = self.got < self.declared
            self.got += len(data)
            self._done = self._done or self.got >= self.declared
            return data
        return self._read_to_end(size)

    def _read_to_end(self, size: int) -> bytes:
        # Without a Content-Length (only read inside a gzip member, whose end bounds it) the
        # block runs to the end of the member less the record's closing CRLF CRLF (WARC 1.1 §4).
        while True:
            data = self._source.read(size)
            if not data:
                self._done = True
                out = b"" if self._held == b"\r\n\r\n" else self._held
                self.got += len(out)
                return out
            data = self._held + data
            self._held = data[-4:]
            out = data[:-4]
            if out:
                self.got += len(out)
                return out

    @property
    def shortfall(self) -> int:
        """Declared bytes missing when the block was read to its end."""
        if self.ended_early and self.declared is not None:
            return self.declared - self.got
        return 0

    def drain(self) -> None:
        while self.read(_READ_SIZE):
            pass


# --- records --------------------------------------------------------------------------------


class Block(Protocol):
    """The block of a record as the stages after the reader see it."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (all that is left when negative); b"" at the end."""
        ...

    @property
    def shortfall(self) -> int:
        """Declared bytes missing when the block was read to its end."""
        ...


class _LengthSource(Protocol):
    """Whoever knows where a record ends: the reader that framed it."""

    def _finish(self, record: ArchiveRecord, /) -> int: ...


@dataclass
class ArchiveRecord:
    """One record as read: where it starts, its header fields and its block stream.

    Read ``block`` to the end before asking for ``length``: the length of a record is only known
    once the reader has moved past it.
    """

    offset: int
    format: Literal["warc", "arc"]
    version: str
    record_type: str
    headers: Headers
    target_uri: str | None
    date_raw: str | None
    content_length: int | None
    block: Block
    _reader: _LengthSource

    @property
    def length(self) -> int:
        """Bytes the record occupies in the file (compressed bytes for gzip members)."""
        return self._reader._finish(self)

    @property
    def block_shortfall(self) -> int:
        """How many declared block bytes were missing when the block was read to its end."""
        return self.block.shortfall


@dataclass(frozen=True)
class _Head:
    """A record header as read: the version line and fields, and lines that are not fields."""

    kind: Literal["warc", "arc"]
    version: str
    fields: list[tuple[str, str]]
    malformed: list[str]


class _Unreadable(Exception):
    """A record header that cannot be read; ``cut`` when the data ends inside it."""

    def __init__(self, reason: str, consumed: bytes, *, cut: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.consumed = consumed
        self.cut = cut


def _decode(line: bytes) -> str:
    # WARC 1.1 §4: header fields are UTF-8; older tools wrote Latin-1.
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _read_head(source: _Bytes, kind: Literal["warc", "arc"]) -> _Head:
    """Read a record header at the current position of ``source`` (blank lines skipped)."""
    first = source.readline(_READ_SIZE)
    text = first.strip()
    if kind == "arc":
        return _read_arc_line(first, cut=source.at_end())
    if not first.endswith(b"\n") and source.at_end() and b"WARC/".startswith(text.upper()[:5]):
        raise _Unreadable("inside its header", first, cut=True)
    if not text.upper().startswith(b"WARC/"):
        raise _Unreadable(f"not a WARC record: first line {text[:40]!r}", first)
    version = text.decode("latin-1").upper()
    if version not in _WARC_VERSIONS:
        raise _Unreadable(f"unsupported WARC version {version[:20]!r}", first)
    consumed = [first]
    size = len(first)
    fields: list[tuple[str, str]] = []
    malformed: list[str] = []
    while True:
        line = source.readline(_MAX_HEADER + 1 - size)
        consumed.append(line)
        size += len(line)
        if not line.endswith(b"\n"):
            if source.at_end():
                raise _Unreadable("inside its header", b"".join(consumed), cut=True)
            reason = f"record header longer than {_MAX_HEADER} bytes"
            raise _Unreadable(reason, b"".join(consumed))
        if not line.strip():
            # The blank line that ends the header; whitespace-only counts, as warcio has it.
            return _Head("warc", version, fields, malformed)
        decoded = _decode(line).rstrip("\r\n")
        if decoded[0] in " \t" and fields:
            # A folded continuation line (WARC 1.0 §4 allows LWS in field values).
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {decoded.strip()}".strip())
            continue
        name, sep, value = decoded.partition(":")
        if not sep or not name.strip():
            # WARC 1.1 §4: named-field = field-name ":" [ field-value ].
            malformed.append(decoded)
            continue
        fields.append((name.strip(), value.strip()))


def _read_arc_line(line: bytes, *, cut: bool) -> _Head:
    """An ARC record line: ``url ip date mime length`` (v1) or the 10 fields of ARC v2."""
    if not line.endswith(b"\n") and cut:
        raise _Unreadable("inside its ARC record line", line, cut=True)
    parts = _decode(line).split()
    names = _ARC_V2_FIELDS if len(parts) == len(_ARC_V2_FIELDS) else _ARC_V1_FIELDS
    if len(parts) < len(names) or not _CONTENT_LENGTH.fullmatch(parts[-1]):
        raise _Unreadable(f"not an ARC record line: {line.strip()[:60]!r}", line)
    # A URL with spaces in it: the fields after the URL are fixed, so they are taken from the
    # right and whatever is left is the URL.
    split = len(parts) - len(names) + 1
    values = [" ".join(parts[:split]), *parts[split:]]
    return _Head("arc", "ARC/1", list(zip(names, values, strict=True)), [])


def _declared_length(head: _Head) -> tuple[int | None, str | None]:
    """The block length a header declares, and a problem when it declares none or a bad one."""
    name = "length" if head.kind == "arc" else "Content-Length"
    declared = Headers(head.fields).get(name)
    if declared is None:
        return None, f"missing {name}"
    if not _CONTENT_LENGTH.fullmatch(declared.strip()):
        return None, f"invalid {name} {declared[:40]!r}"
    return int(declared.strip()), None


def _record_from(
    head: _Head, offset: int, block: RecordBlock, content_length: int | None, reader: _LengthSource
) -> ArchiveRecord:
    headers = Headers(head.fields)
    if head.kind == "arc":
        uri = headers.get("uri")
        is_filedesc = bool(uri and uri.startswith("filedesc://"))
        return ArchiveRecord(
            offset=offset,
            format="arc",
            version=head.version,
            # ARC's filedesc record plays the part of warcinfo; every other ARC record is a
            # capture, which WARC calls a response.
            record_type="warcinfo" if is_filedesc else "response",
            headers=headers,
            target_uri=uri,
            date_raw=headers.get("archive-date"),
            content_length=content_length,
            block=block,
            _reader=reader,
        )
    return ArchiveRecord(
        offset=offset,
        format="warc",
        version=head.version,
        record_type=(headers.get("WARC-Type") or "").strip().lower(),
        headers=headers,
        target_uri=headers.get("WARC-Target-URI"),
        date_raw=headers.get("WARC-Date"),
        content_length=content_length,
        block=block,
        _reader=reader,
    )


# --- format detection -----------------------------------------------------------------------


def detect_format(path: Path) -> ArchiveFormat:
    """Sniff the compression and the kind of archive from the first record of ``path``."""
    with path.open("rb") as fh:
        magic = fh.read(3)
        if not magic:
            raise WarcFormatError(str(path), 0, "empty file")
        if not magic.startswith(_GZIP_MAGIC):
            fh.seek(0)
            kind, version = _sniff_kind(path, _Bytes(lambda: fh.read(_READ_SIZE)))
            return ArchiveFormat(kind, version, "none")
        # A damaged first member must not hide the intact ones after it (the reader reports the
        # damage and reads on): the format is that of the first member that decompresses.
        offset: int | None = 0
        damage: WarcFormatError | None = None
        for _ in range(_SNIFF_MEMBERS):
            if offset is None:
                break
            inflater = _Inflater(fh, offset, whole_stream=False)
            source = _Bytes(inflater.fill)
            source.skip_blank_lines()
            if source.at_end() and inflater.ended == "end":
                offset = inflater.compressed_offset  # an empty member
                continue
            if source.at_end() and inflater.ended == "corrupt":
                damage = damage or WarcFormatError(
                    str(path), 0, f"invalid gzip data: {inflater.error}"
                )
                offset = _find_member(fh, offset + 1)
                continue
            try:
                kind, version = _sniff_kind(path, source)
            except WarcFormatError:
                if inflater.ended != "corrupt":
                    raise
                damage = damage or WarcFormatError(
                    str(path), 0, f"invalid gzip data: {inflater.error}"
                )
                offset = _find_member(fh, offset + 1)
                continue
            return ArchiveFormat(kind, version, _gzip_layout(source, kind))
        raise damage or WarcFormatError(str(path), 0, "no WARC or ARC record in the gzip members")


def _sniff_kind(path: Path, source: _Bytes) -> tuple[Literal["warc", "arc"], str]:
    """The kind and version named by the first line of ``source`` (which is left unread)."""
    source.skip_blank_lines()
    first = source.readline(4096)
    source.unread(first)
    first_line = first.strip()
    if first_line.upper().startswith(b"WARC/"):
        version = first_line.decode("latin-1").upper()
        if version not in _WARC_VERSIONS:
            raise WarcFormatError(str(path), 0, f"unsupported WARC version {version[:20]!r}")
        return "warc", version
    if first_line.startswith(b"filedesc://"):
        return "arc", "ARC/1"
    raise WarcFormatError(str(path), 0, f"not a WARC or ARC file (first line {first_line[:40]!r})")


def _gzip_layout(first_member: _Bytes, kind: Literal["warc", "arc"]) -> Compression:
    """``gzip`` when the first member ends with the first record, else ``gzip-stream``.

    The first record is read past (streaming, whatever its size) and the member is asked for
    more: only a byte count would do that without parsing, and a record's compressed size says
    nothing about its decompressed one.
    """
    try:
        head = _read_head(first_member, kind)
    except _Unreadable:
        return "gzip"  # reported when the record is read
    declared, _ = _declared_length(head)
    if declared is None:
        return "gzip"  # without a length, only the member's end can bound the record
    RecordBlock(first_member, declared).drain()
    first_member.skip_blank_lines()
    return "gzip" if first_member.at_end() else "gzip-stream"


# --- the reader -----------------------------------------------------------------------------


class RecordReader(Protocol):
    """What ingest reads a file with: records, the file's format, and the problems found."""

    format: ArchiveFormat
    problems: list[WarcFormatError]

    def __iter__(self) -> Iterator[ArchiveRecord]: ...


class ArchiveReader:
    """Iterates the records of one local WARC or ARC file; problems are collected, not raised.

    ``start`` is where reading begins: the offset of a record (or of damage) in a ``gzip`` or
    ``none`` file, so that another reader can hand the rest of a file over.
    """

    def __init__(
        self, path: Path, archive_format: ArchiveFormat | None = None, *, start: int = 0
    ) -> None:
        self.path = path
        self.format = archive_format or detect_format(path)
        if start and self.format.compression == "gzip-stream":
            raise ValueError("a whole-file gzip stream is only read from its start")
        self.start = start
        self.problems: list[WarcFormatError] = []
        self._current: ArchiveRecord | None = None
        self._finisher: Callable[[], int] | None = None
        self._length: int | None = None

    def _problem(self, offset: int | None, reason: str) -> None:
        self.problems.append(WarcFormatError(str(self.path), offset, reason))

    def __iter__(self) -> Iterator[ArchiveRecord]:
        with self.path.open("rb") as fh:
            if self.format.compression == "gzip":
                yield from self._members(fh)
            else:
                yield from self._stream(fh)

    def _start(self, record: ArchiveRecord, finisher: Callable[[], int]) -> ArchiveRecord:
        self._current, self._finisher, self._length = record, finisher, None
        return record

    def _finish(self, record: ArchiveRecord) -> int:
        """Read past ``record`` (once) and return its length; note a block cut short."""
        if record is not self._current or self._finisher is None:
            raise RuntimeError("record length asked after the reader moved on")
        if self._length is None:
            self._length = self._finisher()
        return self._length

    def _report_shortfall(self, record: ArchiveRecord, block: RecordBlock, cause: str) -> bool:
        block.drain()
        if block.shortfall:
            # A block shorter than its Content-Length is a record cut short. warcio reads such
            # a record without complaint (see clipped.warc.gz in the shared samples).
            self._problem(
                record.offset,
                f"record truncated: block has {block.got} of {block.declared} bytes ({cause})",
            )
        return bool(block.shortfall)

    # -- uncompressed files and whole-file gzip streams: one stream of records --

    def _stream(self, fh: IO[bytes]) -> Generator[ArchiveRecord, None, None]:
        inflater: _Inflater | None = None
        if self.format.compression == "gzip-stream":
            inflater = _Inflater(fh, 0, whole_stream=True)
            source = _Bytes(inflater.fill)
        else:
            fh.seek(self.start)
            source = _Bytes(lambda: fh.read(_READ_SIZE), self.start)
        reported_end = False
        while True:
            source.skip_blank_lines()
            if source.at_end():
                break
            offset = source.position
            try:
                head = _read_head(source, self.format.kind)
            except _Unreadable as exc:
                if exc.cut:
                    cause = inflater.cause() if inflater else "the file ends"
                    self._problem(offset, f"record truncated {exc.reason} ({cause})")
                    reported_end = True
                    break
                source.unread(exc.consumed[1:])
                self._resync(source, offset, f"unreadable record: {exc.reason}")
                continue
            declared, why = _declared_length(head)
            if declared is None:
                # Without a length the record's end is unknown in a stream (WARC 1.1 §5.3:
                # Content-Length is mandatory): resume at the next record that can be found.
                self._resync(source, offset, f"{why}: the record's end is unknown")
                continue
            self._note_malformed(offset, head)
            block = RecordBlock(source, declared)
            record = _record_from(head, offset, block, declared, self)

            def finish(record: ArchiveRecord = record, block: RecordBlock = block) -> int:
                nonlocal reported_end
                cause = inflater.cause() if inflater else "the file ends"
                if self._report_shortfall(record, block, cause):
                    reported_end = True
                end = source.position
                missing_trailer = not source.skip_blank_lines() and not source.at_end()
                if missing_trailer and record.format == "warc":
                    # WARC 1.1 §4: a record ends with CRLF CRLF. Without it, the next bytes are
                    # most likely the rest of a block whose Content-Length is too small.
                    self._problem(
                        record.offset,
                        "record not followed by CRLF CRLF: its Content-Length may be wrong",
                    )
                return end - record.offset

            yield self._start(record, finish)
            self._finish(record)
        if inflater is not None:
            self._report_stream_end(inflater, None if reported_end else source.position)

    def _report_stream_end(self, inflater: _Inflater, position: int | None) -> None:
        for end in inflater.failed_checks:
            self._problem(end, f"{_FAILED_CHECK} (the member ending here)")
        if position is None:
            return  # the end of the data was reported with the record it cut short
        if inflater.ended in ("truncated", "corrupt"):
            self._problem(position, f"{inflater.cause()}: nothing after it can be read")
        elif inflater.trailing_bytes:
            self._problem(
                position,
                f"{inflater.trailing_bytes} bytes after the end of the gzip stream "
                "are not gzip data",
            )

    def _note_malformed(self, offset: int, head: _Head) -> None:
        for line in head.malformed:
            self._problem(offset, f"malformed header line {line[:60]!r} (no colon): ignored")

    def _resync(self, source: _Bytes, offset: int, reason: str) -> None:
        """Report a broken record at ``offset`` and move ``source`` to the next record start."""
        pattern = _ARC_START if self.format.kind == "arc" else _WARC_START
        if source.skip_to(pattern):
            resume = source.position
            self._problem(offset, f"{reason}; skipped {resume - offset} bytes to offset {resume}")
        else:
            self._problem(offset, f"{reason}; nothing readable after it")

    # -- one gzip member per record --

    def _members(self, fh: IO[bytes]) -> Generator[ArchiveRecord, None, None]:
        size = fh.seek(0, 2)
        offset: int | None = self.start
        while offset is not None and offset < size:
            fh.seek(offset)
            if not fh.read(3).startswith(_GZIP_MAGIC + b"\x08"):
                offset = self._skip_to_member(fh, offset, "not a gzip member")
                continue
            inflater = _Inflater(fh, offset, whole_stream=False)
            source = _Bytes(inflater.fill)
            source.skip_blank_lines()
            if source.at_end():
                if inflater.ended == "end":
                    offset = inflater.compressed_offset  # an empty member: nothing to read
                    continue
                if inflater.ended == "truncated":
                    self._problem(
                        offset,
                        "record truncated: nothing readable in its gzip member "
                        f"({inflater.cause()})",
                    )
                    break
                offset = self._skip_to_member(
                    fh, offset + 1, f"unreadable gzip member: {inflater.cause()}", start=offset
                )
                continue
            try:
                head = _read_head(source, self.format.kind)
            except _Unreadable as exc:
                offset = self._after_bad_member(fh, offset, inflater, source, exc)
                continue
            declared, why = _declared_length(head)
            if why is not None:
                self._problem(offset, f"{why}: block taken to the end of its gzip member")
            self._note_malformed(offset, head)
            block = RecordBlock(source, declared)
            record = _record_from(head, offset, block, declared, self)

            def finish(
                record: ArchiveRecord = record,
                block: RecordBlock = block,
                inflater: _Inflater = inflater,
                source: _Bytes = source,
            ) -> int:
                cut = self._report_shortfall(record, block, inflater.cause())
                source.skip_blank_lines()
                extra = source.discard(1 << 62)
                if extra:
                    self._problem(
                        record.offset,
                        f"gzip member holds {extra} more bytes after the record: skipped "
                        "(one record per member, WARC 1.1 Annex D)",
                    )
                if inflater.failed_checks:
                    self._problem(record.offset, _FAILED_CHECK)
                if not cut and inflater.ended == "truncated":
                    self._problem(record.offset, "gzip member ends without its trailer")
                elif not cut and inflater.ended == "corrupt":
                    self._problem(record.offset, inflater.cause())
                return inflater.compressed_offset - record.offset

            yield self._start(record, finish)
            length = self._finish(record)
            offset = record.offset + length
            if inflater.ended == "corrupt":
                offset = self._skip_to_member(fh, record.offset + 1, None)

    def _after_bad_member(
        self, fh: IO[bytes], offset: int, inflater: _Inflater, source: _Bytes, exc: _Unreadable
    ) -> int | None:
        """Report an unreadable record in the member at ``offset``; return the next member."""
        source.discard(1 << 62)
        if exc.cut:
            self._problem(offset, f"record truncated {exc.reason} ({inflater.cause()})")
        else:
            reason = f"unreadable record: {exc.reason}"
            if inflater.ended == "end":
                end = inflater.compressed_offset
                self._problem(offset, f"{reason}; skipped its gzip member to offset {end}")
                return end
            self._problem(offset, f"{reason} ({inflater.cause()})")
        if inflater.ended == "corrupt":
            return self._skip_to_member(fh, offset + 1, None)
        return None if inflater.ended == "truncated" else inflater.compressed_offset

    def _skip_to_member(
        self, fh: IO[bytes], offset: int, reason: str | None, *, start: int | None = None
    ) -> int | None:
        """The next gzip member at or after ``offset``; report the bytes skipped from ``start``.

        Nothing is reported when ``reason`` is None (the caller has reported the damage).
        """
        found = _find_member(fh, offset)
        if reason is not None:
            start = offset if start is None else start
            if found is None:
                end = fh.seek(0, 2)
                self._problem(
                    start, f"{reason}; {end - start} bytes to the end of the file skipped"
                )
            else:
                self._problem(start, f"{reason}; skipped {found - start} bytes to offset {found}")
        return found


def _find_member(fh: IO[bytes], position: int) -> int | None:
    """The offset of the next gzip member header (RFC 1952 §2.3.1) at or after ``position``."""
    fh.seek(position)
    base, window = position, b""
    while chunk := fh.read(_READ_SIZE):
        window += chunk
        found = window.find(_GZIP_MAGIC + b"\x08")
        # The FLG byte's reserved bits must be zero: rules out most chance matches.
        while found >= 0 and found + 3 < len(window) and window[found + 3] & 0xE0:
            found = window.find(_GZIP_MAGIC + b"\x08", found + 1)
        if found >= 0 and found + 3 < len(window):
            return base + found
        keep = 3 if found < 0 else len(window) - found
        base += len(window) - keep
        window = window[len(window) - keep :]
    return None


def open_record(path: Path, compression: Compression, offset: int) -> Iterator[ArchiveRecord]:
    """Read the one record that starts at ``offset`` (yields it, then stops)."""
    return open_records(path, compression, [offset])


def open_records(
    path: Path, compression: Compression, offsets: Iterable[int]
) -> Iterator[ArchiveRecord]:
    """Read the records that start at ``offsets`` (ascending), opening the file once.

    Per-record gzip and plain files seek straight to each record; a whole-file gzip stream is
    decompressed once, front to back, skipping what lies between (so the caller may leave a
    block unread). Raises WarcFormatError when there is no readable record at an offset (the
    file changed since it was ingested).
    """
    reader = ArchiveReader(path, detect_format(path))
    if reader.format.compression != compression:
        raise WarcFormatError(
            str(path), None, f"compression is now {reader.format.compression}, was {compression}"
        )
    with path.open("rb") as fh:
        stream: _Bytes | None = None
        if compression == "gzip-stream":
            stream = _Bytes(_Inflater(fh, 0, whole_stream=True).fill)
        for offset in offsets:
            member: _Inflater | None = None
            if compression == "gzip":
                fh.seek(offset)
                if not fh.read(3).startswith(_GZIP_MAGIC + b"\x08"):
                    raise WarcFormatError(
                        str(path), offset, "no readable record here: no gzip member"
                    )
                member = _Inflater(fh, offset, whole_stream=False)
                source = _Bytes(member.fill, 0)
            elif stream is not None:
                if offset < stream.position:
                    raise ValueError(f"offsets must ascend: {offset} after {stream.position}")
                wanted = offset - stream.position
                if stream.discard(wanted) < wanted:
                    raise WarcFormatError(
                        str(path), offset, "no readable record here: past the end"
                    )
                source = stream
            else:
                fh.seek(offset)
                source = _Bytes(lambda: fh.read(_READ_SIZE), offset)
            yield _record_at(reader, path, compression, offset, source, member)


def _record_at(
    reader: ArchiveReader,
    path: Path,
    compression: Compression,
    offset: int,
    source: _Bytes,
    member: _Inflater | None,
) -> ArchiveRecord:
    """The record whose header starts at the current position of ``source``."""
    try:
        head = _read_head(source, reader.format.kind)
    except _Unreadable as exc:
        raise WarcFormatError(str(path), offset, f"no readable record here: {exc.reason}") from exc
    declared, why = _declared_length(head)
    if declared is None and compression != "gzip":
        raise WarcFormatError(str(path), offset, f"no readable record here: {why}")
    block = RecordBlock(source, declared)
    record = _record_from(head, offset, block, declared, reader)

    def finish() -> int:
        block.drain()
        if member is None:
            return source.position - offset
        source.discard(1 << 62)
        return member.compressed_offset - offset

    return reader._start(record, finish)
