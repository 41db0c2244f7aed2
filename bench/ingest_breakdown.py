"""Where one process's ingest time goes: the byte-level pass, stage by stage, on one file.

Each stage is a separate pass over the same file that does everything the previous one did
and one thing more, so the differences are the stages' costs (CPU seconds of this process):

1. FastWARC alone: iterate records and read every block (the floor of the fast reader);
2. archivist's reader (`open_reader`): FastWARC plus the proof of every record's bytes;
3. + `describe_record`: digests (block, payload as stored and de-chunked, SHA-256), HTTP head,
   dates, SURT, every check;
4. + the spool: rows kept in a temporary file until the transaction;
5. the whole `ingest_file` into a new SQLite catalog: 4 + hashing the file + inserting the
   rows with their indexes + labelling, in one transaction.

    .venv/bin/python bench/ingest_breakdown.py bench/.work/main-256MB-real-*.warc.gz
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastwarc.stream_io import GzipReader
from fastwarc.warc import ArchiveIterator

from archive.catalog import Catalog
from archive.fastreader import open_reader
from archive.ingest import _Spool, ingest_file
from archive.reader import detect_format
from archive.records import describe_record


def fastwarc_only(path: Path) -> int:
    count = 0
    stream = GzipReader(str(path)) if path.suffix == ".gz" else str(path)
    for record in ArchiveIterator(stream, parse_http=False):
        while record.reader.read(1 << 16):
            pass
        count += 1
    return count


def reader_only(path: Path) -> int:
    count = 0
    for record in open_reader(path, detect_format(path)):
        while record.block.read(1 << 16):
            pass
        record.length  # noqa: B018 -- the record's end, as ingest asks for it
        count += 1
    return count


def described(path: Path) -> int:
    return sum(1 for record in open_reader(path, detect_format(path)) if describe_record(record))


def spooled(path: Path) -> int:
    with _Spool() as spool:
        for record in open_reader(path, detect_format(path)):
            spool.add(describe_record(record))
        return sum(len(batch) for batch in spool.batches())


def whole_ingest(path: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="archivist-breakdown-") as tmp:
        catalog = Catalog.open(str(Path(tmp) / "catalog.db"))
        try:
            return ingest_file(catalog, path).records
        finally:
            catalog.close()


STAGES: list[tuple[str, Callable[[Path], int]]] = [
    ("FastWARC: iterate, read every block", fastwarc_only),
    ("archivist's reader (FastWARC + proof of every record)", reader_only),
    ("+ describe_record (digests, HTTP head, dates, SURT, checks)", described),
    ("+ spool", spooled),
    ("whole ingest_file (+ file hash, inserts, labelling)", whole_ingest),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    args = parser.parse_args()
    size = args.path.stat().st_size
    print(f"{args.path.name}: {size / 1e6:.0f} MB")
    print("| stage | CPU s | µs per record | MB/s |")
    print("|---|---:|---:|---:|")
    for name, stage in STAGES:
        start = time.process_time()
        records = stage(args.path)
        cpu = time.process_time() - start
        print(f"| {name} | {cpu:.2f} | {cpu / records * 1e6:.0f} | {size / cpu / 1e6:.1f} |")


if __name__ == "__main__":
    main()
