"""Labelling cost per file as the catalog grows: it must follow the file, not the catalog.

Files of the same shape are ingested one after another into one catalog (SQLite, or the
PostgreSQL database named by ``--pg-url`` / ARCHIVIST_BENCH_PG_URL, which is reset); for each
file the time of its whole ingest and of its labelling (`archive.evidence.relabel`, timed
inside the file's transaction) is printed with the number of records already in the catalog.

    .venv/bin/python bench/labelling_growth.py --files 16 --records 10000
    ARCHIVIST_BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/labelling_growth.py --backend postgresql --files 16
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import archive.catalog as catalog_module
from archive.catalog import Catalog
from archive.ingest import ingest_file
from bench.catalog_backends import reset_postgres, write_inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("ARCHIVIST_BENCH_PG_URL"))
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--records", type=int, default=10_000, help="records per file")
    args = parser.parse_args()

    labelling: list[float] = []
    relabel = catalog_module.relabel

    def timed_relabel(*a: Any, **k: Any) -> int:
        start = time.perf_counter()
        try:
            return relabel(*a, **k)
        finally:
            labelling.append(time.perf_counter() - start)

    catalog_module.relabel = timed_relabel  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="archivist-labelling-") as tmp:
        paths, _ = write_inputs(Path(tmp), args.files, args.records)
        if args.backend == "postgresql":
            if not args.pg_url:
                parser.error("--pg-url or ARCHIVIST_BENCH_PG_URL is needed for PostgreSQL")
            reset_postgres(args.pg_url)
            db = args.pg_url
        else:
            db = str(Path(tmp) / "catalog.db")
        catalog = Catalog.open(db)
        print(f"{args.backend}: {args.files} files of about {args.records} records")
        print("| file | records before | ingest s | labelling s |")
        print("|---:|---:|---:|---:|")
        before = 0
        for n, path in enumerate(paths, 1):
            labelling.clear()
            start = time.perf_counter()
            report = ingest_file(catalog, path)
            elapsed = time.perf_counter() - start
            print(f"| {n} | {before:,} | {elapsed:.2f} | {sum(labelling):.2f} |")
            before += report.records
        catalog.close()


if __name__ == "__main__":
    main()
