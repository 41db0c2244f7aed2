"""Reading a record's payload back from its WARC file by offset, checked against the catalog.

The file may be local or remote. A remote record is read with one Range request for exactly its
bytes (the payload SHA-256 is then checked as for a local one), or from the cache directory
when it holds the file. A file compressed as one gzip stream cannot be entered in the middle,
and a lone ARC record does not say it is one: both need the whole file, downloaded (and
checked against the file's SHA-256) unless the cache has it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from archive.catalog import Catalog, ExportSource
from archive.errors import ArchiveError, SourceChangedError, SourceError, WarcFormatError
from archive.lookup import Capture, find_records
from archive.payload import digest_block, has_http_block
from archive.reader import open_record
from archive.remote import (
    RemoteChangedError,
    RemoteOptions,
    cached_copy,
    downloaded,
    fetch_range,
    is_remote,
)

# Payloads up to this size stay in memory while they are checked; larger ones go to a temp file.
_SPOOL_IN_MEMORY = 8 << 20


@dataclass(frozen=True)
class StoredRecord:
    """Where the catalog says a record's bytes are, and the payload SHA-256 they must give."""

    location: str  # a local path or an http(s) URL
    file_sha256: str
    file_size: int
    compression: str  # gzip | none | gzip-stream
    offset: int
    length: int
    payload_sha256: str
    is_arc: bool = False


def stored_record(source: ExportSource, *, is_arc: bool) -> StoredRecord:
    """Where an exported (or to be exported) capture's bytes are, as `local_copy_of` needs it."""
    return StoredRecord(
        location=source.file_location,
        file_sha256=source.file_sha256,
        file_size=source.file_size,
        compression=source.file_compression or "none",
        offset=source.offset,
        length=source.length,
        payload_sha256=source.payload_sha256 or "",
        is_arc=is_arc,
    )


def is_arc_file(catalog: Catalog, file_sha256: str) -> bool:
    """Whether the catalog's file with this SHA-256 is an ARC file (read whole when remote)."""
    file = catalog.file_by_sha256(file_sha256)
    return file is not None and (file.format or "").startswith("ARC")


def reads_whole_file(stored: StoredRecord, options: RemoteOptions) -> bool:
    """Whether the records of this remote file are read from one local copy of it (the cache's,
    or the whole file downloaded once) rather than each by one Range request."""
    return (
        cached_copy(options, stored.file_sha256, stored.file_size) is not None
        or stored.compression == "gzip-stream"
        or stored.is_arc
    )


def read_payload(
    catalog: Catalog, identifier: str, out: IO[bytes], *, remote: RemoteOptions | None = None
) -> Capture:
    """Write the payload of record ``identifier`` to ``out`` once its SHA-256 is checked again.

    Nothing is written unless the bytes read back are the bytes the catalog recorded.
    """
    capture = find_records(catalog, identifier)[0]
    record = capture.row.record
    if record.payload_sha256 is None:
        raise ArchiveError(
            f"record {record.id} ({record.record_type}) has no payload of its own"
            + (f"; its original is {record.refers_to}" if record.refers_to else "")
        )
    is_arc = is_remote(capture.row.file_location) and is_arc_file(catalog, capture.row.file_sha256)
    stored = StoredRecord(
        location=capture.row.file_location,
        file_sha256=capture.row.file_sha256,
        file_size=capture.row.file_size,
        compression=capture.row.file_compression or "none",
        offset=record.offset,
        length=record.length,
        payload_sha256=record.payload_sha256,
        is_arc=is_arc,
    )
    write_payload(stored, out, remote=remote)
    return capture


def write_payload(
    stored: StoredRecord, out: IO[bytes], *, remote: RemoteOptions | None = None
) -> None:
    """Write a stored record's payload to ``out`` once its SHA-256 is checked; else raise.

    This is the one check that a record's bytes are still where the catalog says, local or
    remote; nothing is written when it fails.
    """
    where = stored.location
    with (
        local_copy_of(stored, remote or RemoteOptions()) as (path, offset),
        tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool,
    ):
        digest = _copy_payload(path, where, stored, offset, spool, dechunk=True)
        if digest != stored.payload_sha256:
            spool.seek(0)
            spool.truncate()
            # The catalog took the stored bytes when chunking was invalid: try that view too.
            digest = _copy_payload(path, where, stored, offset, spool, dechunk=False)
        if digest != stored.payload_sha256:
            raise SourceChangedError(
                f"{where} @ {stored.offset}: payload SHA-256 is {digest}, the catalog "
                f"recorded {stored.payload_sha256}: the file changed since it was ingested"
            )
        spool.seek(0)
        shutil.copyfileobj(spool, out)


@contextmanager
def local_copy_of(stored: StoredRecord, options: RemoteOptions) -> Iterator[tuple[Path, int]]:
    """A local file holding the record, and the record's offset in it.

    That is the file itself (its size checked), the cache's copy, the record alone fetched with
    one Range request (offset 0), or, for a gzip stream or an ARC file, the whole file
    downloaded and checked against the file's SHA-256. Whatever reads the record must still
    check its payload SHA-256 (as `write_payload` does).
    """
    if not is_remote(stored.location):
        location = Path(stored.location)
        try:
            size = location.stat().st_size
        except OSError as exc:
            raise SourceError(
                f"{location}: cannot open the WARC file ({exc.strerror or exc}); "
                "was it moved or deleted since it was ingested?"
            ) from exc
        if size != stored.file_size:
            raise SourceChangedError(
                f"{location}: file is {size} bytes, the catalog recorded {stored.file_size}: "
                "it changed since it was ingested"
            )
        yield location, stored.offset
        return
    cached = cached_copy(options, stored.file_sha256, stored.file_size)
    if cached is not None:
        yield cached, stored.offset
        return
    if stored.compression == "gzip-stream" or stored.is_arc:
        with downloaded(stored.location, options) as download:
            assert download is not None
            if download.sha256 != stored.file_sha256:
                raise RemoteChangedError(
                    stored.location,
                    f"its SHA-256 is now {download.sha256}, the catalog recorded "
                    f"{stored.file_sha256}: it changed since it was ingested",
                )
            yield download.path, stored.offset
        return
    with tempfile.TemporaryDirectory(prefix="archivist-record-") as directory:
        path = Path(directory) / "record"
        with path.open("w+b") as fh:
            fetch_range(
                stored.location,
                stored.offset,
                stored.length,
                fh,
                options,
                file_size=stored.file_size,
            )
        yield path, 0


def _copy_payload(
    path: Path, where: str, stored: StoredRecord, offset: int, out: IO[bytes], *, dechunk: bool
) -> str:
    digest = hashlib.sha256()

    def sink(data: bytes) -> None:
        digest.update(data)
        out.write(data)

    try:
        for record in open_record(path, stored.compression, offset):  # type: ignore[arg-type]
            content_type = record.headers.get("Content-Type")
            digest_block(
                record.block,
                http=has_http_block(record.record_type, record.target_uri, content_type),
                block_algorithms=set(),
                payload_algorithms=set(),
                sink=sink,
                dechunk=dechunk,
            )
    except WarcFormatError as exc:
        # Offsets in ``path`` (a lone record fetched by range starts at 0) are shown as offsets
        # in the file the catalog names.
        at = "" if exc.offset is None else f" @ {stored.offset + exc.offset - offset}"
        raise SourceChangedError(
            f"{where}{at}: {exc.reason}: the file changed since it was ingested"
        ) from exc
    except OSError as exc:
        raise SourceError(f"{where}: cannot read ({exc.strerror or exc})") from exc
    return digest.hexdigest()
