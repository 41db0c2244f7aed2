"""Bytes per record of the catalog on SQLite and PostgreSQL, after ingesting the same input.

    python bench/catalog_size.py [--files 8] [--records 6000] [--pg-url URL]

The input is that of bench/catalog_backends.py (a crawl's request, response and metadata
records). Each backend gets a fresh catalog filled by one `archivist ingest --no-text`; then:

- SQLite: the database file after a WAL checkpoint (tables and indexes are in it), and the
  share of records and its indexes (``dbstat``) when SQLite was built with it;
- PostgreSQL: ``pg_relation_size`` of records (the heap), ``pg_indexes_size`` (its eight
  indexes), ``pg_total_relation_size`` (heap, indexes and TOAST), as ingested and again after
  ``VACUUM FULL`` (labelling rewrites each capture's row once, leaving a dead version behind
  until vacuum reuses the space), and the WAL written by the ingest.

For the columnar side-table of docs/scaling.md, the CDX-like columns of records (SURT, capture
time, URL, status, MIME type, payload SHA-256, file, offset, length, label) are also written
to Parquet (zstd, as `archivist export` writes) and measured.

``--pg-url`` (default: env ``ARCHIVIST_BENCH_PG_URL``, else ``ARCHIVIST_TEST_PG_URL``) names a
database whose ``public`` schema is dropped and created again.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog_backends import archivist, reset_postgres, write_inputs


def ingest(db: str, paths: list[Path]) -> None:
    subprocess.run(
        [archivist(), "--db", db, "ingest", "--no-text", "--no-progress", *map(str, paths)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def sqlite_sizes(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes = {"file": path.stat().st_size}
        try:
            rows = conn.execute(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY name"
            ).fetchall()
        except sqlite3.OperationalError:  # SQLite built without dbstat
            rows = []
        by_name = dict(rows)
        if by_name:
            indexes = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
            ).fetchall()
            sizes["records"] = by_name.get("records", 0)
            sizes["records indexes"] = sum(by_name.get(name, 0) for (name,) in indexes)
    return sizes


CDX_COLUMNS = (
    "surt, capture_time, target_uri, http_status, mime, payload_sha256, file_id, "
    '"offset", length, label'
)


def parquet_size(catalog: Path, out: Path) -> int:
    """Bytes of the CDX-like columns of every capture as one zstd Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with sqlite3.connect(catalog) as conn:
        cursor = conn.execute(f"SELECT {CDX_COLUMNS} FROM records ORDER BY surt, capture_time")
        names = [d[0] for d in cursor.description]
        columns = list(zip(*cursor.fetchall(), strict=True))
    table = pa.table({name: list(values) for name, values in zip(names, columns, strict=True)})
    pq.write_table(table, out, compression="zstd")
    return out.stat().st_size


def postgres_sizes(url: str) -> tuple[dict[str, int], dict[str, int]]:
    import psycopg

    query = (
        "SELECT pg_relation_size('records'), pg_indexes_size('records'), "
        "pg_total_relation_size('records'), "
        "(SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c "
        " JOIN pg_namespace n ON n.oid = c.relnamespace "
        " WHERE n.nspname = 'public' AND c.relkind = 'r')"
    )
    names = ("records", "records indexes", "records total", "all tables")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.autocommit = True
        before = dict(zip(names, map(int, conn.execute(query).fetchone() or ()), strict=True))
        conn.execute("VACUUM FULL")
        after = dict(zip(names, map(int, conn.execute(query).fetchone() or ()), strict=True))
    return before, after


def wal_position(url: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--records", type=int, default=6000, help="records per file")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("ARCHIVIST_BENCH_PG_URL") or os.environ.get("ARCHIVIST_TEST_PG_URL"),
    )
    args = parser.parse_args()
    if not args.pg_url:
        raise SystemExit("give --pg-url (or set ARCHIVIST_BENCH_PG_URL): its schema is reset")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        paths, total = write_inputs(tmp, args.files, args.records)
        print(f"input: {args.files} files, {total} records")
        print()
        print("| catalog | measured | bytes | bytes per record |")
        print("|---|---|---:|---:|")
        db = tmp / "size.db"
        ingest(str(db), paths)
        for name, size in sqlite_sizes(db).items():
            print(f"| SQLite | {name} | {size:,} | {size / total:,.0f} |")
        size = parquet_size(db, tmp / "cdx.parquet")
        print(f"| Parquet (zstd) | CDX-like columns | {size:,} | {size / total:,.0f} |")
        reset_postgres(args.pg_url)
        subprocess.run(
            [archivist(), "--db", args.pg_url, "db", "upgrade"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wal = wal_position(args.pg_url)
        ingest(args.pg_url, paths)
        wal = wal_position(args.pg_url) - wal
        ingested, vacuumed = postgres_sizes(args.pg_url)
        for name, size in ingested.items():
            print(f"| PostgreSQL | {name}, as ingested | {size:,} | {size / total:,.0f} |")
        for name, size in vacuumed.items():
            print(f"| PostgreSQL | {name}, after VACUUM FULL | {size:,} | {size / total:,.0f} |")
        print(f"| PostgreSQL | WAL written by the ingest | {wal:,} | {wal / total:,.0f} |")


if __name__ == "__main__":
    main()
