"""The reference floors: what reading a WARC and hashing every payload costs in other tools.

    python -m bench.floors fastwarc FILE     FastWARC, HTTP headers parsed, SHA-256 per payload
    python -m bench.floors warcio FILE       warcio, SHA-256 of each record's content_stream()

Each prints the number of records it read. The suite runs them as child processes, like
archivist, so each has its own peak RSS and pays the same interpreter start-up.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

CHUNK = 1 << 16


def fastwarc_sha256(path: Path) -> int:
    """Records read by FastWARC (parse_http=True), each payload SHA-256 hashed in chunks."""
    from fastwarc.warc import ArchiveIterator

    records = 0
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, parse_http=True):
            digest = hashlib.sha256()
            while chunk := record.reader.read(CHUNK):
                digest.update(chunk)
            digest.hexdigest()
            records += 1
    return records


def warcio_sha256(path: Path) -> int:
    """Records read by warcio, each content_stream() (the de-chunked payload) SHA-256 hashed."""
    from warcio.archiveiterator import ArchiveIterator

    records = 0
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            digest = hashlib.sha256()
            body = record.content_stream()
            while chunk := body.read(CHUNK):
                digest.update(chunk)
            digest.hexdigest()
            records += 1
    return records


READERS = {"fastwarc": fastwarc_sha256, "warcio": warcio_sha256}


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in READERS:
        raise SystemExit(f"usage: python -m bench.floors {{{'|'.join(READERS)}}} FILE")
    print(READERS[argv[0]](Path(argv[1])))


if __name__ == "__main__":
    main(sys.argv[1:])
