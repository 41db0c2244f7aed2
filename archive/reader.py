"""Where WARC and ARC files are read: an iterator of records with offset, length, headers, block.

This is the only module that knows warcio. Everything downstream sees `ArchiveRecord`, so a
faster parser can replace warcio here without touching the rest.

Three layouts are read:
- ``gzip``: one gzip member per record (WARC 1.1 Annex D); offsets are compressed offsets, so a
  record is read back by seeking straight to it;
- ``none``: uncompressed; offsets are plain byte offsets;
- ``gzip-stream``: the whole file compressed as one gzip stream. warcio refuses these; we read
  the decompressed stream and record *decompressed* offsets, which `open_record` honours by
  decompressing from the start (slow, but the only way such a file can be addressed).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.errors import WarcFormatError

Compression = Literal["gzip", "none", "gzip-stream"]

_GZIP_MAGIC = b"\x1f\x8b"
_READ_SIZE = 1 << 16
# The WARC versions we accept: 1.0 and 1.1 (ISO 28500), and the pre-standard drafts 0.17 and
# 0.18 that early Heritrix crawls wrote (same named-field syntax as 1.0).
_WARC_VERSIONS = ("WARC/1.0", "WARC/1.1", "WARC/0.17", "WARC/0.18")
_RECORD_START = re.compile(rb"(?:^|\n)(WARC/[01]\.[0-9]+\r?\n)")


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
        self._index: dict[str, str] = {}
        for name, value in fields:
            # The first occurrence wins: WARC fields are not repeatable except WARC-Concurrent-To.
            self._index.setdefault(name.lower(), value)

    def get(self, name: str) -> str | None:
        """The first value of field ``name``, or None."""
        return self._index.get(name.lower())

    def items(self) -> list[tuple[str, str]]:
        """All fields as written."""
        return list(self._fields)


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
    block: IO[bytes]
    _reader: ArchiveReader

    @property
    def length(self) -> int:
        """Bytes the record occupies in the file (compressed bytes for gzip members)."""
        return self._reader._finish(self)

    @property
    def block_shortfall(self) -> int:
        """How many declared block bytes were missing when the block was read to its end."""
        limit = getattr(self.block, "limit", 0)
        return int(limit) if isinstance(limit, int) else 0


def detect_format(path: Path) -> ArchiveFormat:
    """Sniff the compression and the kind of archive from the first bytes of ``path``."""
    with path.open("rb") as fh:
        magic = fh.read(2)
        if not magic:
            raise WarcFormatError(str(path), 0, "empty file")
        fh.seek(0)
        if magic == _GZIP_MAGIC:
            compression, head = _sniff_gzip(path, fh)
        else:
            compression, head = "none", fh.read(4096)
    first_line = head.split(b"\n", 1)[0].strip()
    version = first_line.decode("latin-1")
    if version in _WARC_VERSIONS:
        return ArchiveFormat("warc", version, compression)
    if first_line.startswith(b"WARC/"):
        raise WarcFormatError(str(path), 0, f"unsupported WARC version {version[:20]!r}")
    if first_line.startswith(b"filedesc://"):
        return ArchiveFormat("arc", "ARC/1", compression)
    raise WarcFormatError(str(path), 0, f"not a WARC or ARC file (first line {first_line[:40]!r})")


def _sniff_gzip(path: Path, fh: IO[bytes]) -> tuple[Compression, bytes]:
    """Tell per-record gzip members from one gzip stream over the whole file.

    Decompress the first member until it ends or clearly holds more than the first record.
    """
    inflater = zlib.decompressobj(31)
    head = b""
    first_record_size: int | None = None
    while not inflater.eof:
        raw = fh.read(_READ_SIZE)
        if not raw:
            break
        try:
            head += inflater.decompress(raw, _READ_SIZE * 4)
            while inflater.unconsumed_tail and len(head) < (first_record_size or 0) + 64:
                head += inflater.decompress(inflater.unconsumed_tail, _READ_SIZE * 4)
        except zlib.error as exc:
            raise WarcFormatError(str(path), 0, f"invalid gzip data: {exc}") from exc
        if first_record_size is None:
            first_record_size = _first_record_size(head)
        if first_record_size is not None and len(head) > first_record_size + 16:
            return "gzip-stream", head[:4096]
        if inflater.unconsumed_tail:
            # More output is waiting than the first record needs: a stream, not a member.
            return "gzip-stream", head[:4096]
    return "gzip", head[:4096]


def _first_record_size(head: bytes) -> int | None:
    """Size of the first record in decompressed bytes, when its headers are already in ``head``."""
    if head.startswith(b"filedesc://"):
        line, _, _ = head.partition(b"\n")
        if not _:
            return None
        try:
            return len(line) + 1 + int(line.split()[-1]) + 1
        except ValueError:
            return None
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head[:end])
    if match is None:
        return None
    return end + 4 + int(match.group(1)) + 4


class ArchiveReader:
    """Iterates the records of one local WARC or ARC file; problems are collected, not raised."""

    def __init__(self, path: Path, archive_format: ArchiveFormat | None = None) -> None:
        self.path = path
        self.format = archive_format or detect_format(path)
        self.problems: list[WarcFormatError] = []
        self._iterator: ArchiveIterator | None = None
        self._current: ArchiveRecord | None = None
        self._length: int | None = None

    def _problem(self, offset: int | None, reason: str) -> None:
        self.problems.append(WarcFormatError(str(self.path), offset, reason))

    def __iter__(self) -> Iterator[ArchiveRecord]:
        with self._open() as fh:
            start: int | None = 0
            while start is not None:
                start = yield from self._records_from(fh, start)

    def _open(self) -> IO[bytes]:
        if self.format.compression == "gzip-stream":
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return self.path.open("rb")

    def _records_from(
        self, fh: IO[bytes], start: int
    ) -> Generator[ArchiveRecord, None, int | None]:
        """Yield records from ``start``; return where to resume after a broken record, or None."""
        fh.seek(start)
        iterator = ArchiveIterator(fh, no_record_parse=True, arc2warc=False)
        self._iterator = iterator
        offset = start
        try:
            for warcio_record in iterator:
                offset = iterator.offset
                record = self._convert(warcio_record, offset)
                self._current, self._length = record, None
                yield record
                self._finish(record)
                offset = iterator.offset
        except ArchiveLoadFailed as exc:
            reason = str(exc).strip().splitlines()[0]
            return self._resync(fh, offset, f"unreadable record: {reason}")
        except (EOFError, zlib.error, OSError) as exc:
            reason = "file ends inside a gzip member" if isinstance(exc, EOFError) else str(exc)
            self._problem(offset, f"truncated or corrupt data: {reason}")
            return None
        return None

    def _finish(self, record: ArchiveRecord) -> int:
        """Read past ``record`` (once) and return its length; note a block cut short."""
        if record is not self._current or self._iterator is None:
            raise RuntimeError("record length asked after the reader moved on")
        if self._length is None:
            iterator = self._iterator
            # Drain what the consumer left: warcio's LimitReader then holds the shortfall.
            while record.block.read(_READ_SIZE):
                pass
            shortfall = record.block_shortfall
            iterator.read_to_end()
            self._length = iterator.get_record_length()
            if shortfall:
                # A block shorter than its Content-Length is a record cut short. warcio reads
                # such a record without complaint (see clipped.warc.gz in the shared samples).
                got = (record.content_length or 0) - shortfall
                self._problem(
                    record.offset,
                    f"record truncated: block has {got} of {record.content_length} bytes",
                )
            elif self._member_unterminated(iterator):
                self._problem(record.offset, "gzip member ends without its trailer")
        return self._length

    def _member_unterminated(self, iterator: ArchiveIterator) -> bool:
        decompressor = getattr(iterator.reader, "decompressor", None)
        return (
            self.format.compression == "gzip"
            and decompressor is not None
            and (not decompressor.eof)
        )

    def _resync(self, fh: IO[bytes], offset: int, reason: str) -> int | None:
        """Report a broken record at ``offset`` and find where the next record starts."""
        resume = self._next_record_start(fh, offset + 1)
        if resume is None:
            self._problem(offset, f"{reason}; nothing readable after it")
        else:
            self._problem(offset, f"{reason}; skipped {resume - offset} bytes to offset {resume}")
        return resume

    def _next_record_start(self, fh: IO[bytes], position: int) -> int | None:
        fh.seek(position)
        overlap = b""
        base = position
        while True:
            chunk = fh.read(_READ_SIZE)
            if not chunk:
                return None
            window = overlap + chunk
            if self.format.compression == "gzip":
                found = window.find(_GZIP_MAGIC + b"\x08")
            else:
                match = _RECORD_START.search(window)
                found = match.start(1) if match else -1
            if found >= 0:
                return base - len(overlap) + found
            overlap = window[-16:]
            base += len(chunk)

    def _convert(self, warcio_record: object, offset: int) -> ArchiveRecord:
        rec_headers = warcio_record.rec_headers  # type: ignore[attr-defined]
        fields = [(str(k), str(v)) for k, v in rec_headers.headers]
        headers = Headers(fields)
        if warcio_record.format == "arc":  # type: ignore[attr-defined]
            uri = headers.get("uri")
            is_filedesc = bool(uri and uri.startswith("filedesc://"))
            return ArchiveRecord(
                offset=offset,
                format="arc",
                version="ARC/1",
                # ARC's filedesc record plays the part of warcinfo; every other ARC record is
                # a capture, which WARC calls a response.
                record_type="warcinfo" if is_filedesc else "response",
                headers=headers,
                target_uri=uri,
                date_raw=headers.get("archive-date"),
                content_length=_int_or_none(headers.get("length")),
                block=warcio_record.raw_stream,  # type: ignore[attr-defined]
                _reader=self,
            )
        declared = headers.get("Content-Length")
        content_length = _int_or_none(declared)
        if declared is None:
            self._problem(offset, "missing Content-Length: block read to the end of the member")
        elif content_length is None or content_length < 0:
            self._problem(offset, f"invalid Content-Length {declared!r}")
            content_length = None
        return ArchiveRecord(
            offset=offset,
            format="warc",
            version=str(rec_headers.protocol),
            record_type=(headers.get("WARC-Type") or "").strip().lower(),
            headers=headers,
            target_uri=headers.get("WARC-Target-URI"),
            date_raw=headers.get("WARC-Date"),
            content_length=content_length,
            block=warcio_record.raw_stream,  # type: ignore[attr-defined]
            _reader=self,
        )


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def open_record(path: Path, compression: Compression, offset: int) -> Iterator[ArchiveRecord]:
    """Read the one record that starts at ``offset`` (yields it, then stops)."""
    reader = ArchiveReader(path, detect_format(path))
    if reader.format.compression != compression:
        raise WarcFormatError(
            str(path), None, f"compression is now {reader.format.compression}, was {compression}"
        )
    with reader._open() as fh:
        fh.seek(offset)
        iterator = ArchiveIterator(fh, no_record_parse=True, arc2warc=False)
        reader._iterator = iterator
        try:
            warcio_record = next(iter(iterator))
        except (ArchiveLoadFailed, StopIteration, EOFError, zlib.error, OSError) as exc:
            raise WarcFormatError(str(path), offset, f"no readable record here: {exc}") from exc
        record = reader._convert(warcio_record, offset)
        reader._current = record
        yield record
