"""Reading a record's payload back from its WARC file by offset, checked against the catalog."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import IO

from archive.catalog import Catalog
from archive.errors import ArchiveError, SourceChangedError, SourceError, WarcFormatError
from archive.lookup import Capture, find_records
from archive.payload import digest_block, has_http_block
from archive.reader import open_record

# Payloads up to this size stay in memory while they are checked; larger ones go to a temp file.
_SPOOL_IN_MEMORY = 8 << 20


def read_payload(catalog: Catalog, identifier: str, out: IO[bytes]) -> Capture:
    """Write the payload of record ``identifier`` to ``out`` once its SHA-256 is checked again.

    Nothing is written unless the bytes read back are the bytes the catalog recorded.
    """
    capture = find_records(catalog, identifier)[0]
    record = capture.row.record
    location = Path(capture.row.file_location)
    if record.payload_sha256 is None:
        raise ArchiveError(
            f"record {record.id} ({record.record_type}) has no payload of its own"
            + (f"; its original is {record.refers_to}" if record.refers_to else "")
        )
    try:
        size = location.stat().st_size
    except OSError as exc:
        raise SourceError(
            f"{location}: cannot open the WARC file ({exc.strerror or exc}); "
            "was it moved or deleted since it was ingested?"
        ) from exc
    if size != capture.row.file_size:
        raise SourceChangedError(
            f"{location}: file is {size} bytes, the catalog recorded {capture.row.file_size}: "
            "it changed since it was ingested"
        )
    compression = capture.row.file_compression or "none"
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        digest = _copy_payload(location, compression, record.offset, spool, dechunk=True)
        if digest != record.payload_sha256:
            spool.seek(0)
            spool.truncate()
            # The catalog took the stored bytes when chunking was invalid: try that view too.
            digest = _copy_payload(location, compression, record.offset, spool, dechunk=False)
        if digest != record.payload_sha256:
            raise SourceChangedError(
                f"{location} @ {record.offset}: payload SHA-256 is {digest}, the catalog "
                f"recorded {record.payload_sha256}: the file changed since it was ingested"
            )
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    return capture


def _copy_payload(
    location: Path, compression: str, offset: int, out: IO[bytes], *, dechunk: bool
) -> str:
    digest = hashlib.sha256()

    def sink(data: bytes) -> None:
        digest.update(data)
        out.write(data)

    try:
        for record in open_record(location, compression, offset):  # type: ignore[arg-type]
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
        raise SourceChangedError(f"{exc}: the file changed since it was ingested") from exc
    except OSError as exc:
        raise SourceError(f"{location}: cannot read ({exc.strerror or exc})") from exc
    return digest.hexdigest()
