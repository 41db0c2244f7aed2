"""A large SQLite catalog filled directly, for lookup and relabel timings at scale.

Ingesting 10 million records would take hours; the lookups and the relabel only need rows that
look like ingested ones. The schema comes from archivist itself (`Catalog.open` runs the
Alembic migrations); rows are then inserted with sqlite3's executemany in large transactions,
with the secondary indexes dropped during the load and rebuilt from their own definitions
(sorting once is far faster than updating seven B-trees row by row).

What the rows look like (values as archive/records.py computes them):

- files of 50,000 records, in time order: each covers a slice of 2015-2025 and its records
  are in capture order, as a crawl's files are; a warcinfo record opens each;
- per fetch a request (empty payload: the SHA-256 of nothing), then a response, or in 4% of
  fetches a revisit of an earlier response of the same URL (resolved to it), then a metadata
  record in 10% of fetches;
- URLs from 2.5 fetches per URL on average, skewed (a few pages fetched often), on
  200,000-odd hosts; SURT keys as the surt package writes them;
- payloads: 8% of responses repeat an earlier payload; 70% are HTML with a text hash;
- labels as archivist would leave them for the default cutoff.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from base64 import b32encode
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from archive.catalog import Catalog, head_revision
from archive.errors import CatalogError
from archive.models import Record

# Bump when the rows change, so a cached catalog of the old shape is not reused.
VERSION = 2
RECORDS_PER_FILE = 50_000
START = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
END = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
CUTOFF = datetime(2022, 11, 30, tzinfo=UTC).timestamp()
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EXTRACTOR = "resiliparse 2.0.1 archivist-text/1"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
WORDS = (
    "news", "sport", "weather", "river", "garden", "library", "market", "council", "school",
    "travel", "food", "music", "film", "health", "science", "money", "tech", "style", "world",
    "local", "opinion", "culture", "books", "review", "city", "home",
)  # fmt: skip
TLDS = ("com", "org", "net", "de", "fr", "co.uk", "io", "info", "nl", "es")
MIMES = (
    ("text/html", 70),
    ("image/jpeg", 9),
    ("image/png", 7),
    ("application/javascript", 6),
    ("text/css", 5),
    ("application/pdf", 3),
)
# Every column of `records`, in the model's order; the generator sets those it knows.
COLUMNS = tuple(column.name for column in Record.__table__.columns)
FILE_COLUMNS = (
    "id", "sha256", "size", "location", "format", "compression", "software", "operator",
    "status", "record_count", "capture_count", "error_count", "first_capture", "last_capture",
    "ingested_at", "archivist_version",
)  # fmt: skip


def catalog_path(workdir: Path, records: int) -> Path:
    """Where the generated catalog of ``records`` rows is cached."""
    return workdir / f"lookup-catalog-v{VERSION}-{records}.db"


def ensure_catalog(workdir: Path, records: int, *, log: bool = True) -> tuple[Path, float]:
    """The cached catalog of ``records`` rows, generated first if absent; (path, seconds spent)."""
    path = catalog_path(workdir, records)
    if path.exists() and _upgraded(path, log):
        return path, 0.0
    start = time.perf_counter()
    partial = path.with_suffix(".part")
    for leftover in (partial, *partial.parent.glob(partial.name + "-*")):
        leftover.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if log:
        print(f"generating {records:,} records in {path} (cached for reruns)", file=sys.stderr)
    generate_catalog(partial, records)
    for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    partial.replace(path)
    return path, time.perf_counter() - start


def _upgraded(path: Path, log: bool) -> bool:
    """Bring a cached catalog to archivist's schema (migrations added since); False if it can't.

    A new migration usually adds a column or an index: far cheaper than generating again.
    """
    catalog = Catalog.open(str(path), check=False)
    try:
        if catalog.current_revision() != head_revision():
            if log:
                print(f"upgrading the cached catalog {path} to {head_revision()}", file=sys.stderr)
            catalog.upgrade()
    except CatalogError as exc:  # e.g. written by a newer archivist: generate it again
        if log:
            print(f"generating the cached catalog again: {exc}", file=sys.stderr)
        return False
    finally:
        catalog.close()
    return True


def generate_catalog(path: Path, records: int, seed: int = 7) -> None:
    """Create archivist's schema in ``path`` and fill it with ``records`` realistic records."""
    Catalog.open(str(path)).close()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-1000000")
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='records' "
            "AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            db.execute(f"DROP INDEX {name}")
        rows_sql = (
            f"INSERT INTO records ({', '.join(_quoted(COLUMNS))}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        files_sql = (
            f"INSERT INTO warc_files ({', '.join(FILE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(FILE_COLUMNS))})"
        )
        generator = _Generator(records, seed)
        for file_row, rows in generator.files():
            db.execute("BEGIN")
            db.execute(files_sql, file_row)
            db.executemany(rows_sql, rows)
            db.execute("COMMIT")
        for _, sql in indexes:
            db.execute(sql)
        db.execute("ANALYZE")
    finally:
        db.close()


def _quoted(names: tuple[str, ...]) -> list[str]:
    return [f'"{n}"' if n == "offset" else n for n in names]


def _stamp(seconds: float) -> tuple[str, str]:
    """(SQLAlchemy's SQLite DateTime text, the WARC-Date as written) for an epoch second."""
    t = time.gmtime(seconds)
    return time.strftime("%Y-%m-%d %H:%M:%S.000000", t), time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


class _Generator:
    """Deterministic rows: the same seed and size give the same catalog."""

    def __init__(self, records: int, seed: int) -> None:
        self.records = records
        self.rng = random.Random(seed)
        fetches = records / 2.2
        self.urls = max(10, int(fetches / 2.5))
        self.hosts = max(3, self.urls // 20)
        self.next_id = 1
        # Recent responses (id, url index, payload sha256, digest key, text sha256, capture
        # time stored and raw), for revisits and repeated payloads.
        self.recent: list[tuple[int, int, str, str, str | None, str, str]] = []
        self.mimes = [m for m, _ in MIMES]
        self.mime_weights = [w for _, w in MIMES]

    def url(self, index: int) -> tuple[str, str]:
        """(URL, SURT key) of URL number ``index``, the SURT as the surt package writes it."""
        host_index = index % self.hosts
        word = WORDS[host_index % len(WORDS)]
        tld = TLDS[host_index % len(TLDS)]
        host = f"{word}{host_index}.{tld}"
        path = f"/{WORDS[index % 23 % len(WORDS)]}/{index // self.hosts}-{word}.html"
        scheme = "https" if host_index % 3 else "http"
        sub = "www." if host_index % 2 else ""
        surt_host = ",".join(reversed(host.split(".")))
        return f"{scheme}://{sub}{host}{path}", f"{surt_host}){path}"

    def files(self) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
        n_files = max(1, -(-self.records // RECORDS_PER_FILE))
        span = (END - START) / n_files
        left = self.records
        for f in range(n_files):
            count = min(RECORDS_PER_FILE, left)
            left -= count
            yield self._file(f + 1, count, START + f * span, span)

    def _file(
        self, file_id: int, count: int, start: float, span: float
    ) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
        rng = self.rng
        rows: list[tuple[object, ...]] = []
        offset = 0
        step = span / max(1, count)
        t = start
        captures = 0
        first = last = None
        blank = dict.fromkeys(COLUMNS) | {"is_capture": 0, "date_trusted": 0, "damaged": 0}

        def add(**values: object) -> None:
            nonlocal offset
            row = blank | values
            row["id"] = self.next_id
            row["file_id"] = file_id
            row["offset"] = offset
            self.next_id += 1
            offset += int(row["length"])  # type: ignore[call-overload]
            rows.append(tuple(row.values()))

        stored, raw = _stamp(t)
        add(
            length=480,
            warc_record_id=self._record_id(),
            record_type="warcinfo",
            capture_time=stored,
            date_raw=raw,
            date_precision="second",
            mime="application/warc-fields",
            content_length=283,
            payload_length=283,
            payload_sha256=self._hex(256),
            block_digest_status="absent",
            payload_digest_status="absent",
        )
        while len(rows) < count:
            t += step * rng.uniform(1.6, 2.6)
            stored, raw = _stamp(min(t, start + span - 1))
            pre = t < CUTOFF
            index = int(self.urls * rng.random() ** 1.5)
            url, surt = self.url(index)
            add(
                length=rng.randint(300, 420),
                warc_record_id=self._record_id(),
                record_type="request",
                target_uri=url,
                surt=surt,
                capture_time=stored,
                date_raw=raw,
                date_precision="second",
                content_length=rng.randint(150, 300),
                payload_length=0,
                payload_sha256=EMPTY_SHA256,
                block_digest=self._sha1(),
                block_digest_algorithm="sha1",
                block_digest_status="ok",
                payload_digest_status="absent",
            )
            if len(rows) >= count:
                break
            captures += 1
            first = first or stored
            last = stored
            label = "pre" if pre else "post"
            if self.recent and rng.random() < 0.04:
                orig_id, orig_index, payload, key, _, orig_time, orig_raw = rng.choice(
                    self.recent[-5000:]
                )
                url, surt = self.url(orig_index)
                add(
                    length=rng.randint(600, 900),
                    warc_record_id=self._record_id(),
                    record_type="revisit",
                    target_uri=url,
                    surt=surt,
                    capture_time=stored,
                    date_raw=raw,
                    date_precision="second",
                    http_status=200,
                    mime="text/html",
                    content_length=rng.randint(300, 600),
                    block_digest=self._sha1(),
                    block_digest_algorithm="sha1",
                    block_digest_status="ok",
                    payload_digest="sha1:" + self._b32(),
                    payload_digest_algorithm="sha1",
                    payload_digest_status="not-applicable",
                    is_capture=1,
                    date_trusted=1,
                    damaged=0,
                    payload_digest_key=key,
                    # WARC 1.1 §6.7.2: the original by target URI and date, as crawlers write it.
                    revisit_profile=REVISIT_PROFILE,
                    refers_to_target_uri=url,
                    refers_to_date_raw=orig_raw,
                    refers_to_date=orig_time,
                    refers_to_surt=surt,
                    original_record_id=orig_id,
                    label="pre" if pre else "post",
                    evidence_kind="revisit" if pre else "none",
                    evidence_record_id=orig_id if pre else None,
                )
            else:
                mime = rng.choices(self.mimes, self.mime_weights)[0]
                html = mime == "text/html"
                if self.recent and rng.random() < 0.08:
                    _, _, payload, key, text, _, _ = rng.choice(self.recent)
                    text = text if html else None
                else:
                    payload, key = self._hex(256), "sha1:" + self._hex(160)
                    text = self._hex(256) if html else None
                size = rng.randint(2_000, 120_000)
                record_id = self.next_id
                status = rng.choices((200, 301, 404), (92, 5, 3))[0]
                add(
                    length=size // 3 + 700,
                    warc_record_id=self._record_id(),
                    record_type="response",
                    target_uri=url,
                    surt=surt,
                    capture_time=stored,
                    date_raw=raw,
                    date_precision="second",
                    http_status=status,
                    mime=mime,
                    content_length=size + 500,
                    payload_length=size,
                    payload_sha256=payload,
                    block_digest=self._sha1(),
                    block_digest_algorithm="sha1",
                    block_digest_status="ok",
                    payload_digest="sha1:" + self._b32(),
                    payload_digest_algorithm="sha1",
                    payload_digest_status="ok",
                    payload_digest_matched="entity",
                    is_capture=1,
                    date_trusted=1,
                    damaged=0,
                    payload_digest_key=key,
                    text_sha256=text,
                    text_status="ok" if html else "skipped",
                    text_extractor=EXTRACTOR if html else None,
                    label=label,
                    evidence_kind="captured" if pre else "none",
                    evidence_record_id=record_id if pre else None,
                )
                self.recent.append((record_id, index, payload, key, text, stored, raw))
                if len(self.recent) > 20_000:
                    del self.recent[:10_000]
            if len(rows) < count and rng.random() < 0.10:
                add(
                    length=rng.randint(500, 2000),
                    warc_record_id=self._record_id(),
                    record_type="metadata",
                    target_uri=url,
                    surt=surt,
                    capture_time=stored,
                    date_raw=raw,
                    date_precision="second",
                    mime="application/warc-fields",
                    content_length=rng.randint(200, 1500),
                    block_digest=self._sha1(),
                    block_digest_algorithm="sha1",
                    block_digest_status="ok",
                    payload_digest_status="absent",
                )
        size = offset
        year = stored[:4]
        file_row = (
            file_id,
            self._hex(256),
            size,
            f"/data/crawls/{year}/CRAWL-{year}-{file_id:05d}.warc.gz",
            "WARC/1.0",
            "gzip",
            "Heritrix/3.4.0",
            "crawl team",
            "complete",
            len(rows),
            captures,
            0,
            first,
            last,
            "2026-01-01 00:00:00.000000",
            "0.1.0",
        )
        return file_row, rows

    def _hex(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _b32(self) -> str:
        return b32encode(self.rng.randbytes(20)).decode()

    def _sha1(self) -> str:
        return "sha1:" + self._b32()

    def _record_id(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
