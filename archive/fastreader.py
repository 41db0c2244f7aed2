"""Where FastWARC reads the files it can read exactly as `archive.reader` would, and hands over.

FastWARC (Rust) frames and inflates WARC records several times faster than our own reader, but
it is lenient where archivist must be exact. Measured with FastWARC 2.0.1:

- a file cut inside a gzip member (in a block, in a header, in the 8-byte trailer) ends the
  iteration without a word, the last block short;
- a failed CRC-32 or ISIZE raises ``OSError`` ("data error") and loses the output of the last
  buffer (up to 64 KiB or more of a large member), as does corrupt deflate data, junk between
  members and a non-gzip member; a member holding no WARC record raises "Invalid WARC header";
- header lines without a colon are dropped silently, folded lines joined, a repeated
  Content-Length is read from its last occurrence, ``+5`` is taken as a length, WARC/0.18 and
  LF-only line ends are accepted (the latter as one long field), empty gzip members skipped;
- in a plain file, a record not followed by CRLF CRLF, or followed by extra blank lines, is read
  on without a word; in a whole-file gzip stream its offsets are those of its input buffer.

So FastWARC only proposes records. One is accepted when its bytes are proven to be exactly
what the careful reader would frame: it starts where the previous record ended; its header is
the canonical serialisation of the fields FastWARC parsed (``WARC/1.x``, ``Name: value`` lines,
CRLF ends, valid UTF-8) and declares the length FastWARC read; its block is whole; and, for one
gzip member per record, the CRC-32 and size in the member's trailer (what its writer
compressed) are those of canonical header + block + CRLF CRLF; for a plain file, the header
and the CRLF CRLF after the block are read back from the file. At the first record that
fails a check, `archive.reader.ArchiveReader` takes over at that record's offset, so every
record yielded before stays valid and everything from the doubtful byte on is read, reported
and resynchronised as the careful reader alone would. Nothing FastWARC says is ever reported:
problems only ever come from the careful reader. FastWARC's digest checks are not used
(`archive.digests` is the one judge of digests), nor its HTTP parsing (`archive.payload`).
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from fastwarc.stream_io import GzipReader
from fastwarc.warc import ArchiveIterator, WarcRecord

from archive.errors import WarcFormatError
from archive.reader import (
    ArchiveFormat,
    ArchiveReader,
    ArchiveRecord,
    Headers,
    RecordReader,
    detect_format,
)

# The versions and layouts FastWARC is trusted with; everything else is the careful reader's.
_FAST_VERSIONS: Final = ("WARC/1.0", "WARC/1.1")
_FAST_LAYOUTS: Final = ("gzip", "none")
# A block is held in memory until its record is proven: larger ones go to the careful reader,
# which streams them. FastWARC's copy and ours may both be alive, so this bounds the peak
# memory of an ingest (the target is under 150 MB whatever the input) at about twice it.
_MAX_HELD_BLOCK: Final = 16 << 20
_CRLF: Final = "\r\n"
_TRAILER: Final = b"\r\n\r\n"
_CONTENT_LENGTH: Final = re.compile(r"[0-9]+", re.ASCII)
_GZIP_HEADER: Final = b"\x1f\x8b\x08"
# What makes the careful reader split, fold, report or strip a header line otherwise than
# FastWARC: whitespace other than space and tab (str.strip() removes it), a CR not ending a
# line, a line that starts with whitespace (a continuation) or with a colon (no name).
_IRREGULAR: Final = re.compile(r"[\x0b\x0c\x1c-\x1f]|\r(?!\n)|\n[ \t:]")


def open_reader(path: Path, archive_format: ArchiveFormat | None = None) -> RecordReader:
    """The reader for ``path``: FastWARC with hand-over where it can read the file, else ours."""
    archive_format = archive_format or detect_format(path)
    if (
        archive_format.kind == "warc"
        and archive_format.compression in _FAST_LAYOUTS
        and archive_format.version in _FAST_VERSIONS
    ):
        return FastReader(path, archive_format)
    return ArchiveReader(path, archive_format)


class HeldBlock:
    """A block read into memory and proven whole: read in slices like a RecordBlock."""

    __slots__ = ("_data", "_position")
    shortfall: Final = 0

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes of the block (all that is left when negative); b"" at its end."""
        start = self._position
        end = len(self._data) if size < 0 else start + size
        out = self._data[start:end]
        self._position = start + len(out)
        return out


class _KnownLength:
    """The length of a record proven before it was yielded."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length

    def _finish(self, record: ArchiveRecord, /) -> int:
        return self.length


class FastReader:
    """Iterates a WARC/1.x file (``gzip`` or ``none``) with FastWARC while it reads it exactly.

    ``handover`` is the offset at which the careful reader took over (None while it has not);
    ``fast_records`` counts the records FastWARC gave.
    """

    def __init__(self, path: Path, archive_format: ArchiveFormat) -> None:
        if archive_format.compression not in _FAST_LAYOUTS:
            raise ValueError(f"FastWARC is not used for {archive_format.describe()}")
        self.path = path
        self.format = archive_format
        self.problems: list[WarcFormatError] = []
        self.fast_records = 0
        self.handover: int | None = None
        self._resume = 0  # where the records proven so far end

    def __iter__(self) -> Iterator[ArchiveRecord]:
        self._resume, self.fast_records, self.handover = 0, 0, None
        with self.path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            for record in self._proven(fh.fileno(), size):
                self.fast_records += 1
                yield record
        if self._resume < size:
            # Where the last proven record ends: a record boundary, as clean as the file start.
            self.handover = self._resume
            careful = ArchiveReader(self.path, self.format, start=self._resume)
            careful.problems = self.problems
            yield from careful

    def _proven(self, fd: int, size: int) -> Iterator[ArchiveRecord]:
        """FastWARC's records while each is proven to be the careful reader's; stops at doubt."""
        gzip = self.format.compression == "gzip"
        stream = GzipReader(str(self.path), fsspec_args=False) if gzip else str(self.path)
        records = ArchiveIterator(stream, parse_http=False, stream_detect=False, fsspec_args=False)
        following = _next(records)
        while isinstance(following, WarcRecord):
            current, offset = following, following.stream_pos
            if offset != self._resume:
                return
            head = _canonical_head(current)
            if head is None:
                return
            version, header, headers, declared = head
            if declared > _MAX_HELD_BLOCK:
                return
            try:
                data = current.reader.read(-1)
            except (OSError, ValueError):
                return
            if len(data) != declared:
                return
            # FastWARC reads to the end of this record's member (checking its CRC-32 and size)
            # before it gives the next record: only now is this record known whole.
            following = _next(records)
            if following is None:
                return
            end = size if isinstance(following, _End) else following.stream_pos
            if gzip:
                if not _member_is(fd, offset, end, header, data):
                    return
                length = end - offset
            else:
                if not _plain_is(fd, offset, end, header, declared):
                    return
                length = end - offset - len(_TRAILER)
            record = ArchiveRecord(
                offset=offset,
                format="warc",
                version=version,
                record_type=(headers.get("WARC-Type") or "").strip().lower(),
                headers=headers,
                target_uri=headers.get("WARC-Target-URI"),
                date_raw=headers.get("WARC-Date"),
                content_length=declared,
                block=HeldBlock(data),
                _reader=_KnownLength(length),
            )
            self._resume = end
            yield record


class _End:
    """FastWARC found no more records."""


_END: Final = _End()


def _next(records: ArchiveIterator) -> WarcRecord | _End | None:
    """The next record, ``_END`` at the end, None when FastWARC fails (damage: hand over)."""
    try:
        return next(records)
    except StopIteration:
        return _END
    except (OSError, ValueError):
        return None


def _canonical_head(record: WarcRecord) -> tuple[str, bytes, Headers, int] | None:
    """The header bytes the careful reader would have read, its fields and declared length.

    The bytes are the canonical serialisation (UTF-8) of what FastWARC parsed: proving later
    that the file holds exactly them proves that the careful reader would parse these very
    fields, with its rules applied here. None when they would differ or be reported.
    """
    version = record.headers.status_line
    if version not in _FAST_VERSIONS:
        return None
    items = record.headers.items()
    text = _CRLF.join([version, *map(": ".join, items), "", ""])
    if text.count("\n") != len(items) + 2 or _IRREGULAR.search(text):
        return None
    if text.isascii():
        # FastWARC strips spaces and tabs around names and values, and _IRREGULAR leaves no
        # other ASCII whitespace that the careful reader's str.strip() would remove.
        fields = list(items)
    else:
        fields = [(name.strip(), value.strip()) for name, value in items]
        if not all(name for name, _ in fields):
            return None
    try:
        header = text.encode("utf-8")
    except UnicodeEncodeError:
        return None  # not bytes FastWARC read: the proof would fail anyway
    headers = Headers(fields)
    declared = headers.get("Content-Length")
    if declared is None or not _CONTENT_LENGTH.fullmatch(declared):
        return None
    if int(declared) != record.content_length:
        return None
    return version, header, headers, record.content_length


def _member_is(fd: int, offset: int, end: int, header: bytes, data: bytes) -> bool:
    """Whether the gzip member at ``offset`` to ``end`` holds header + block + CRLF CRLF only.

    A member's trailer holds the CRC-32 and size of the bytes its writer compressed (RFC 1952
    §2.3.1): when they are those of the canonical bytes, the member holds exactly them, and
    it ends at ``end`` (where FastWARC found the next member, or the end of the file). This
    also proves what FastWARC does not check: that the member is not cut short.
    """
    if end - offset < 18:
        return False
    start = os.pread(fd, 4, offset)
    if start[:3] != _GZIP_HEADER or start[3] & 0xE0:
        return False  # reserved flag bits: the careful reader refuses the member
    trailer = os.pread(fd, 8, end - 8)
    size = len(header) + len(data) + len(_TRAILER)
    crc = zlib.crc32(_TRAILER, zlib.crc32(data, zlib.crc32(header)))
    return trailer == crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")


def _plain_is(fd: int, offset: int, end: int, header: bytes, declared: int) -> bool:
    """Whether the plain file holds the header at ``offset`` and CRLF CRLF right up to ``end``."""
    block_end = offset + len(header) + declared
    if end != block_end + len(_TRAILER):
        return False
    return (
        os.pread(fd, len(header), offset) == header
        and os.pread(fd, len(_TRAILER), block_end) == _TRAILER
    )
