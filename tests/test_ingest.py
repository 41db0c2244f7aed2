"""Ingest: every record once, identity by SHA-256, one transaction per file, problems reported.

warcio's own index (``record_offsets``) is the oracle for offsets and lengths; the fixture
builder shares no code with the reader under test.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import LARGE_RECORDS, archivist_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from warcbuilder import (
    Compression,
    Rec,
    arc_bytes,
    arc_response,
    exchange,
    flip_byte,
    make_record_id,
    member_offsets,
    metadata,
    record_offsets,
    request,
    resource,
    response,
    revisit_of,
    truncate,
    warc_bytes,
    warcinfo,
    write_warc,
)

import archive.ingest
from archive.catalog import Catalog, FileSummary
from archive.ingest import FileReport, ingest, ingest_file
from archive.models import IngestError, Record, WarcFile
from archive.sources import expand_inputs

D_PRE = "2019-03-14T09:00:00Z"
D_POST = "2023-05-01T12:00:00.250Z"
BODY = b"<html><body><p>The river cleanup drew ninety volunteers.</p></body></html>"


def crawl(prefix: str = "http://news.example.org/") -> list[Rec]:
    """A small crawl: warcinfo, two exchanges (one chunked), resource, metadata, revisit."""
    page = response(prefix + "a.html", BODY, D_PRE)
    chunked = response(prefix + "b.html", BODY * 3, D_PRE, chunked=[5, 40])
    return [
        warcinfo({"software": "tests/1", "operator": "Ann", "isPartOf": "crawl-1"}, D_PRE),
        *exchange(page),
        *exchange(chunked),
        resource(prefix + "notes.txt", b"plain notes\n", D_PRE),
        metadata(prefix + "a.html", b"outlink: http://x.test/\r\n", D_PRE, concurrent_to=page.id),
        revisit_of(page, D_POST),
    ]


def run(catalog: Catalog, *paths: Path | str, jobs: int = 1) -> list[FileReport]:
    return list(ingest(catalog, [str(p) for p in paths], jobs=jobs))


def records_of(catalog: Catalog, path: Path) -> list[Record]:
    file = catalog.file_by_sha256(hashlib.sha256(path.read_bytes()).hexdigest())
    assert file is not None, f"{path} is not in the catalog"
    return list(catalog.records_of_file(file.id))


def table_rows(catalog: Catalog, *, keep_ids: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the three tables; without ids, rows name their file by its SHA-256."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with catalog.engine.connect() as connection:
        sha = dict(connection.execute(select(WarcFile.id, WarcFile.sha256)).all())
        # Records that point at other records are compared by where those records are.
        where = {
            rid: (sha[fid], offset)
            for rid, fid, offset in connection.execute(
                select(Record.id, Record.file_id, Record.offset)
            )
        }
        for model, skip in (
            (WarcFile, {"id", "ingested_at"}),
            (Record, {"id"}),
            (IngestError, {"id"}),
        ):
            columns = [c for c in model.__table__.columns if keep_ids or c.name not in skip]
            rows = []
            for row in connection.execute(select(*columns)):
                values = dict(row._mapping)
                if not keep_ids and "file_id" in values:
                    values["file_id"] = sha[values["file_id"]]
                for ref in ("original_record_id", "evidence_record_id"):
                    if not keep_ids and values.get(ref) is not None:
                        values[ref] = where[values[ref]]
                rows.append(tuple(sorted(values.items(), key=lambda kv: kv[0])))
            out[model.__tablename__] = sorted(rows, key=repr)
    return out


def empty(catalog: Catalog) -> None:
    with catalog.engine.begin() as connection:
        for model in (IngestError, Record, WarcFile):
            connection.execute(delete(model))


# -- every record, where warcio says it is ------------------------------------------------------


@pytest.mark.parametrize("compression", ["record", "none"])
def test_every_record_is_recorded_at_warcio_offsets(
    catalog: Catalog, tmp_path: Path, compression: Compression
) -> None:
    recs = crawl()
    path = write_warc(tmp_path / f"crawl.warc{'.gz' if compression == 'record' else ''}", recs)
    (report,) = run(catalog, path)
    assert report.status == "complete" and report.errors == ()
    assert report.records == len(recs) and report.captures == 4
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    rows = records_of(catalog, path)
    assert [(r.offset, r.length) for r in rows] == record_offsets(path.read_bytes())
    assert [r.warc_record_id for r in rows] == [rec.id.strip("<>") for rec in recs]
    assert [r.record_type for r in rows] == [rec.get("WARC-Type") for rec in recs]
    if compression == "record":
        assert [(r.offset, r.length) for r in rows] == member_offsets(recs)


def test_whole_file_gzip_is_read_with_decompressed_offsets(
    catalog: Catalog, tmp_path: Path
) -> None:
    recs = crawl()
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(warc_bytes(recs, "whole"))
    (report,) = run(catalog, path)
    assert report.status == "complete" and report.format == "WARC/1.0 gzip-stream"
    rows = records_of(catalog, path)
    assert [(r.offset, r.length) for r in rows] == record_offsets(warc_bytes(recs, "none"))


def test_what_the_catalog_keeps_of_each_record(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(tmp_path / "crawl.warc.gz", crawl())
    run(catalog, path)
    by_type: dict[str, list[Record]] = {}
    for row in records_of(catalog, path):
        by_type.setdefault(row.record_type, []).append(row)
    plain, chunked = by_type["response"]
    assert plain.payload_sha256 == hashlib.sha256(BODY).hexdigest()
    # The payload hash is over the entity with chunked transfer-encoding removed (§6.3.2).
    assert chunked.payload_sha256 == hashlib.sha256(BODY * 3).hexdigest()
    assert chunked.payload_length == len(BODY) * 3
    assert (plain.http_status, plain.mime, plain.surt) == (
        200,
        "text/html",
        "org,example,news)/a.html",
    )
    assert plain.capture_time is not None and plain.capture_time.isoformat() == (
        "2019-03-14T09:00:00+00:00"
    )
    assert (plain.block_digest_status, plain.payload_digest_status) == ("ok", "ok")
    assert plain.payload_digest_matched == "entity"
    (revisit,) = by_type["revisit"]
    assert revisit.payload_sha256 is None and revisit.payload_digest_status == "not-applicable"
    assert revisit.refers_to == plain.warc_record_id
    assert revisit.refers_to_target_uri == plain.target_uri
    assert revisit.refers_to_date == plain.capture_time
    assert revisit.capture_time is not None and revisit.capture_time.microsecond == 250000
    assert revisit.date_raw == D_POST

    file = catalog.file_by_sha256(hashlib.sha256(path.read_bytes()).hexdigest())
    assert file is not None
    assert (file.software, file.operator, file.is_part_of) == ("tests/1", "Ann", "crawl-1")
    assert (file.status, file.record_count, file.capture_count, file.error_count) == (
        "complete",
        8,
        4,
        0,
    )
    assert (file.format, file.compression, file.size) == ("WARC/1.0", "gzip", path.stat().st_size)
    assert file.location == str(path) and file.claimed_by is None
    assert file.first_capture == plain.capture_time
    assert file.last_capture == revisit.capture_time


def test_payload_digest_over_the_stored_chunks_is_ok_and_says_so(
    catalog: Catalog, tmp_path: Path
) -> None:
    rec = response("http://a.test/", BODY, D_PRE, chunked=[7], payload_digest="stored")
    path = write_warc(tmp_path / "stored.warc.gz", [rec])
    (report,) = run(catalog, path)
    assert report.status == "complete"
    (row,) = records_of(catalog, path)
    assert (row.payload_digest_status, row.payload_digest_matched) == ("ok", "stored")
    assert row.payload_sha256 == hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize("compression", ["record", "none"])
def test_arc_files_are_read(catalog: Catalog, tmp_path: Path, compression: Any) -> None:
    data = arc_bytes(
        [arc_response("http://a.test/", BODY, "20010203040506")], compression=compression
    )
    path = tmp_path / "old.arc"
    path.write_bytes(data)
    (report,) = run(catalog, path)
    assert report.status == "complete" and report.records == 2
    info, page = records_of(catalog, path)
    assert [(r.offset, r.length) for r in (info, page)] == record_offsets(data)
    assert (info.record_type, page.record_type) == ("warcinfo", "response")
    assert page.payload_sha256 == hashlib.sha256(BODY).hexdigest()
    assert page.capture_time is not None and page.capture_time.year == 2001


# -- identity: the same bytes are ingested once ---------------------------------------------------


def test_the_same_bytes_under_another_name_add_nothing(catalog: Catalog, tmp_path: Path) -> None:
    first = write_warc(tmp_path / "a.warc.gz", crawl())
    copy = tmp_path / "elsewhere" / "b.warc.gz"
    copy.parent.mkdir()
    shutil.copy(first, copy)
    done, again = run(catalog, first, copy)
    assert done.status == "complete"
    assert again.status == "skipped" and again.clean and again.records == 0
    assert again.message is not None and str(first) in again.message
    before = table_rows(catalog)
    (rerun,) = run(catalog, first)
    assert rerun.status == "skipped"
    assert table_rows(catalog) == before


def test_partial_files_are_skipped_and_failed_files_are_tried_again(
    catalog: Catalog, tmp_path: Path
) -> None:
    partial = tmp_path / "partial.warc"
    partial.write_bytes(warc_bytes([response("http://a.test/", BODY, "yesterday")], "none"))
    failed = tmp_path / "failed.warc"
    failed.write_bytes(b"not a web archive\n")
    assert [r.status for r in run(catalog, partial, failed)] == ["partial", "failed"]
    partial_rerun, failed_rerun = run(catalog, partial, failed)
    assert partial_rerun.status == "skipped" and "partial" in (partial_rerun.message or "")
    # A failed file is read again (and fails again, with its problem reported again).
    assert failed_rerun.status == "failed" and failed_rerun.errors
    with catalog.engine.connect() as connection:
        statuses = connection.execute(select(WarcFile.status).order_by(WarcFile.id)).scalars()
        assert list(statuses) == ["partial", "failed"]
        date, kind = connection.execute(select(IngestError.message)).scalars().all()
        assert "invalid date 'yesterday'" in date and "not a WARC or ARC file" in kind


# -- bad input: one problem, one line, the rest still ingested -------------------------------------

GOOD = response("http://a.test/good", BODY, D_PRE)
OTHER = response("http://a.test/other", b"other body " * 20, D_PRE)
LATE = response("http://a.test/late", b"late body", D_PRE)
GOOD_PLAIN = warc_bytes([GOOD], "none")
GOOD_GZ = warc_bytes([GOOD], "record")
THREE_PLAIN = warc_bytes([GOOD, OTHER, LATE], "none")
THREE_GZ = warc_bytes([GOOD, OTHER, LATE], "record")
THREE_MEMBERS = member_offsets([GOOD, OTHER, LATE])

GARBAGE = b"GARBAGE LINE\r\n\r\n"
NOT_WARC_MEMBER = gzip.compress(b"NOT A WARC HEADER\r\n\r\n", mtime=0)
DATELESS = GOOD.with_field("WARC-Date", "yesterday")
UNPARSABLE = response("http://[bad/x", b"x", D_PRE)

# name, file bytes, expected status, records, problems as (offset, words the message holds).
# The words, not the whole message: the reader's wording may improve, what it names may not.
BAD_INPUTS: list[tuple[str, bytes, str, int, list[tuple[int | None, str]]]] = [
    (
        "not-a-warc.warc",
        b"Dear diary,\nno web archive here.\n",
        "failed",
        0,
        [(0, "not a WARC or ARC file")],
    ),
    ("empty.warc.gz", b"", "failed", 0, [(0, "empty file")]),
    (
        "unknown-version.warc",
        warc_bytes([GOOD.with_version("WARC/2.0")], "none"),
        "failed",
        0,
        [(0, "WARC/2.0")],
    ),
    (
        "member-without-trailer.warc.gz",
        truncate(THREE_GZ, -8),
        "partial",
        3,
        [(THREE_MEMBERS[2][0], "gzip member")],
    ),
    (
        "member-cut-in-its-data.warc.gz",
        truncate(THREE_GZ, -12),
        "partial",
        3,
        [(THREE_MEMBERS[2][0], "gzip member")],
    ),
    (
        "cut-short.warc",
        warc_bytes([GOOD, OTHER.cut_short(50)], "none"),
        "partial",
        2,
        [(len(GOOD.to_bytes()), f"{len(OTHER.block)} of {len(OTHER.block) + 50} bytes")],
    ),
    (
        "cut-short.warc.gz",
        truncate(THREE_GZ, THREE_MEMBERS[2][0] + 40),
        "partial",
        2,
        [(THREE_MEMBERS[2][0], "gzip member")],
    ),
    (
        "garbage-between-records.warc",
        THREE_PLAIN[: len(GOOD.to_bytes())] + GARBAGE + THREE_PLAIN[len(GOOD.to_bytes()) :],
        "partial",
        3,
        [(len(GOOD.to_bytes()), "GARBAGE LINE")],
    ),
    (
        "garbage-member.warc.gz",
        GOOD_GZ + NOT_WARC_MEMBER + warc_bytes([OTHER]),
        "partial",
        2,
        [(len(GOOD_GZ), f"offset {len(GOOD_GZ) + len(NOT_WARC_MEMBER)}")],
    ),
    (
        "header-line-without-colon.warc.gz",
        warc_bytes([GOOD.with_line("this line has no colon"), OTHER]),
        "partial",
        2,
        [(0, "this line has no colon")],
    ),
    (
        "bad-dates.warc",
        warc_bytes([DATELESS, OTHER.without("WARC-Date")], "none"),
        "partial",
        2,
        [(0, "invalid date 'yesterday'"), (len(DATELESS.to_bytes()), "missing WARC-Date")],
    ),
    (
        "unknown-type.warc.gz",
        warc_bytes(
            [
                response("http://a.test/", BODY, D_PRE, payload_digest=None).with_field(
                    "WARC-Type", "snapshot"
                ),
                OTHER,
            ]
        ),
        "partial",
        2,
        [(0, "unknown record type 'snapshot'")],
    ),
    (
        "unknown-algorithm.warc",
        warc_bytes([GOOD.with_field("WARC-Payload-Digest", "md7:ABCDEF")], "none"),
        "partial",
        1,
        [(0, "md7:ABCDEF")],
    ),
    (
        "bad-urls.warc",
        warc_bytes([UNPARSABLE, response("http://a.test:99999/", b"y", D_PRE)], "none"),
        "partial",
        2,
        [(0, "'http://[bad/x'"), (len(UNPARSABLE.to_bytes()), "'http://a.test:99999/'")],
    ),
    ("lower-case-names.warc.gz", warc_bytes([GOOD.lowercased(), OTHER]), "complete", 2, []),
]


@pytest.mark.parametrize(
    ("name", "data", "status", "count", "problems"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_reported_and_the_rest_ingested(
    catalog: Catalog,
    tmp_path: Path,
    name: str,
    data: bytes,
    status: str,
    count: int,
    problems: list[tuple[int | None, str]],
) -> None:
    bad = tmp_path / name
    bad.write_bytes(data)
    good = write_warc(tmp_path / "good.warc.gz", [LATE, GOOD])
    report, other = run(catalog, bad, good)
    assert (report.status, report.records) == (status, count)
    assert [p.offset for p in report.errors] == [offset for offset, _ in problems]
    for problem, (_, words) in zip(report.errors, problems, strict=True):
        assert words in problem.message
        assert problem.message.isprintable()
    assert report.clean == (not problems)
    assert other.status == "complete" and other.records == 2
    # The problems are recorded with the file, in file order.
    file = catalog.file_by_sha256(report.sha256 or "")
    assert file is not None and file.status == status and file.error_count == len(problems)
    assert catalog.errors_of_file(file.id) == [(p.offset, p.message) for p in report.errors]
    assert len(list(catalog.records_of_file(file.id))) == count


def test_lower_case_field_names_are_read_as_written(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(tmp_path / "lower.warc", [GOOD.lowercased()])
    (report,) = run(catalog, path)
    assert report.status == "complete"
    (row,) = records_of(catalog, path)
    assert (row.record_type, row.target_uri, row.date_raw) == (
        "response",
        "http://a.test/good",
        D_PRE,
    )
    assert row.warc_record_id == GOOD.id.strip("<>")
    assert (row.block_digest_status, row.payload_digest_status) == ("ok", "ok")


def test_a_partial_gzip_trailer_is_one_problem(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "partial-trailer.warc.gz"
    path.write_bytes(truncate(THREE_GZ, -4))
    (report,) = run(catalog, path)
    assert report.records == 3
    assert [p.offset for p in report.errors] == [THREE_MEMBERS[2][0]]


def test_a_corrupt_first_member_leaves_the_rest_readable(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "first-corrupt.warc.gz"
    path.write_bytes(flip_byte(THREE_GZ, 60))
    (report,) = run(catalog, path)
    assert report.status == "partial" and report.records == 2
    assert [p.offset for p in report.errors] == [0]
    assert [(r.offset, r.length) for r in records_of(catalog, path)] == THREE_MEMBERS[1:]


def test_unknown_record_type_is_one_problem(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(tmp_path / "t.warc", [GOOD.with_field("WARC-Type", "snapshot")])
    (report,) = run(catalog, path)
    assert [p.message for p in report.errors] == ["unknown record type 'snapshot'"]


def test_problem_messages_are_one_printable_line(catalog: Catalog, tmp_path: Path) -> None:
    # A corrupt member quotes decompressed garbage: it must not break the one-line report.
    path = tmp_path / "garbage.warc.gz"
    path.write_bytes(THREE_GZ[: THREE_MEMBERS[1][0] + 30] + THREE_GZ[THREE_MEMBERS[2][0] :])
    (report,) = run(catalog, path)
    assert report.status == "partial" and report.errors
    for problem in report.errors:
        assert problem.message.isprintable() and len(problem.message) <= 300
    assert catalog.errors_of_file(catalog_id(catalog, report)) == [
        (p.offset, p.message) for p in report.errors
    ]


def catalog_id(catalog: Catalog, report: FileReport) -> int:
    file = catalog.file_by_sha256(report.sha256 or "")
    assert file is not None
    return file.id


def test_missing_inputs_are_reported_without_stopping_the_run(
    catalog: Catalog, tmp_path: Path
) -> None:
    good = write_warc(tmp_path / "good.warc.gz", [GOOD])
    missing, report = run(catalog, tmp_path / "nope.warc", good)
    assert missing.status == "failed" and not missing.clean
    assert [(p.offset, p.message) for p in missing.errors] == [(None, "no such file or directory")]
    assert report.status == "complete"


def test_a_file_that_changes_while_read_records_nothing(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(tmp_path / "growing.warc", [GOOD, OTHER, LATE])

    def grow(_done: int) -> None:
        with path.open("ab") as fh:
            fh.write(b"\r\n")

    (report,) = list(ingest(catalog, [str(path)], on_progress=grow))
    assert report.status == "failed"
    assert [(p.offset, p.message) for p in report.errors] == [
        (None, "file changed while it was read: nothing recorded")
    ]
    assert list(catalog.records_of_file(catalog_id(catalog, report))) == []


# -- claims: busy, stale, crashed ------------------------------------------------------------------


def test_a_live_claim_makes_the_file_busy(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc.gz", [GOOD])
    claim = catalog.claim_file(hashlib.sha256(path.read_bytes()).hexdigest(), 1, "/else/a.warc.gz")
    assert claim.granted
    report = ingest_file(catalog, path)
    assert report.status == "busy" and not report.clean
    assert report.message is not None and "/else/a.warc.gz" in report.message


def test_a_dead_writers_claim_is_taken_over(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc.gz", [GOOD, OTHER])
    claim = catalog.claim_file(hashlib.sha256(path.read_bytes()).hexdigest(), 1, "/else/a.warc.gz")
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    with catalog.engine.begin() as connection:
        connection.execute(
            update(WarcFile)
            .where(WarcFile.id == claim.file_id)
            .values(claimed_by=f"{os.uname().nodename}:{pid}")
        )
    report = ingest_file(catalog, path)
    assert report.status == "complete" and report.records == 2
    file = catalog.file_by_sha256(report.sha256 or "")
    assert file is not None and file.id == claim.file_id and file.location == str(path)


def test_a_claim_taken_over_by_another_writer_is_not_granted_twice(catalog: Catalog) -> None:
    claim = catalog.claim_file("d" * 64, 1, "/x/d.warc")
    summary = FileSummary("failed", None, None, None, None, None, 0, 0, None, None, "t")
    catalog.record_file(claim.file_id, summary, [], [(0, "empty file")])
    first = catalog.claim_file("d" * 64, 1, "/x/d.warc")
    second = catalog.claim_file("d" * 64, 1, "/x/d.warc")
    assert first.granted and not second.granted and second.status == "ingesting"


def test_an_ingest_killed_mid_file_leaves_nothing_and_a_rerun_completes(
    db_url: str, tmp_path: Path, large_warc: Path
) -> None:
    catalog = Catalog.open(db_url)
    try:
        sha256 = hashlib.sha256(large_warc.read_bytes()).hexdigest()
        command = [*archivist_command(), "--db", db_url, "ingest", str(large_warc)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            file = catalog.file_by_sha256(sha256)
            if file is not None and file.status == "ingesting":
                break
            time.sleep(0.01)
        time.sleep(0.2)  # well inside the read: ingesting all of it takes seconds
        assert process.poll() is None, "the ingest finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.communicate()  # reaped: a zombie would still look alive to the next claim
        assert process.returncode == -signal.SIGKILL

        file = catalog.file_by_sha256(sha256)
        assert file is not None and file.status == "ingesting"
        assert list(catalog.records_of_file(file.id)) == []
        assert catalog.count_records() == 0

        rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert "complete" in rerun.stdout
        file = catalog.file_by_sha256(sha256)
        assert file is not None and file.status == "complete"
        assert file.record_count == LARGE_RECORDS and file.claimed_by is None
        offsets = [r.offset for r in catalog.records_of_file(file.id)]
        assert offsets == [offset for offset, _ in record_offsets(large_warc.read_bytes())]
        assert catalog.count_records() == LARGE_RECORDS
    finally:
        catalog.close()


# -- parallel ingest -------------------------------------------------------------------------------


def test_jobs_2_gives_the_same_rows_as_jobs_1(catalog: Catalog, tmp_path: Path) -> None:
    paths = [
        write_warc(tmp_path / "a.warc.gz", crawl("http://a.test/")),
        write_warc(tmp_path / "b.warc", crawl("http://b.test/")),
        write_warc(tmp_path / "c.warc.gz", [GOOD, OTHER.cut_short(10)]),
        tmp_path / "d.warc.gz",
    ]
    paths[3].write_bytes(warc_bytes(crawl("http://d.test/"), "whole"))
    serial = run(catalog, *paths, jobs=1)
    rows = table_rows(catalog, keep_ids=False)
    empty(catalog)
    parallel = run(catalog, *paths, jobs=2)
    assert [r.to_dict() for r in parallel] == [r.to_dict() for r in serial]
    assert table_rows(catalog, keep_ids=False) == rows


def test_jobs_2_over_copies_of_one_file_ingests_it_once(catalog: Catalog, tmp_path: Path) -> None:
    first = write_warc(tmp_path / "a.warc.gz", [GOOD, OTHER, LATE] * 200)
    for name in ("b", "c", "d"):
        shutil.copy(first, tmp_path / f"{name}.warc.gz")
    reports = run(catalog, tmp_path, jobs=3)
    assert sorted(r.status for r in reports) == ["complete", "skipped", "skipped", "skipped"]
    assert all(r.clean for r in reports)
    assert catalog.count_records() == 600


# -- the property: ingesting twice is ingesting once -----------------------------------------------

URLS = ["http://a.test/", "http://a.test/x?q=1", "https://www.b.test/y/", "http://c.test:8080/z"]
DATES = [D_PRE, D_POST, "2001-09-11T08:46:00Z", "2022-11-30T00:00:00Z"]


@st.composite
def records_strategy(draw: st.DrawFn, tag: str) -> list[Rec]:
    out: list[Rec] = []
    for i in range(draw(st.integers(1, 6))):
        rid = make_record_id(tag, str(i))
        url, date = draw(st.sampled_from(URLS)), draw(st.sampled_from(DATES))
        body = draw(st.binary(max_size=200))
        kind = draw(
            st.sampled_from(["response", "chunked", "request", "resource", "metadata", "warcinfo"])
        )
        if kind == "response":
            rec = response(url, body, date, record_id=rid)
        elif kind == "chunked":
            rec = response(url, body, date, chunked=True, record_id=rid)
        elif kind == "request":
            rec = request(url, date, record_id=rid)
        elif kind == "resource":
            rec = resource(url, body, date, record_id=rid)
        elif kind == "metadata":
            rec = metadata(url, b"via: " + body.hex().encode() + b"\r\n", date, record_id=rid)
        else:
            rec = warcinfo({"software": "hypothesis"}, date, record_id=rid)
        out.append(rec)
        if kind == "response" and draw(st.booleans()):
            out.append(revisit_of(rec, D_POST, record_id=make_record_id(tag, str(i), "revisit")))
    return out


@st.composite
def file_sets(draw: st.DrawFn) -> list[tuple[str, bytes, list[Rec], Compression]]:
    files = []
    for n in range(draw(st.integers(1, 3))):
        recs = draw(records_strategy(str(n)))
        compression: Compression = draw(st.sampled_from(["record", "none", "whole"]))
        suffix = ".warc" if compression == "none" else ".warc.gz"
        files.append((f"f{n}{suffix}", warc_bytes(recs, compression), recs, compression))
    for copy in draw(st.lists(st.integers(0, len(files) - 1), max_size=2)):
        name, data, recs, compression = files[copy]
        files.append((f"copy-{len(files)}-{name}", data, recs, compression))
    return files


def oracle_offsets(data: bytes, recs: list[Rec], compression: Compression) -> list[tuple[int, int]]:
    # One record in one gzip stream is also one record per gzip member: compressed offsets.
    whole = compression == "whole" and len(recs) > 1
    return record_offsets(gzip.decompress(data) if whole else data)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=file_sets())
def test_ingesting_twice_is_ingesting_once(
    catalog: Catalog, files: list[tuple[str, bytes, list[Rec], Compression]]
) -> None:
    empty(catalog)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data, _, _ in files:
            (Path(tmp) / name).write_bytes(data)
        first = run(catalog, tmp)
        once = table_rows(catalog)
        second = run(catalog, tmp)
        assert table_rows(catalog) == once
    assert all(r.status == "skipped" and r.clean for r in second)
    distinct = {hashlib.sha256(data).hexdigest(): (data, recs, c) for _, data, recs, c in files}
    assert sorted(r.status for r in first) == sorted(
        ["complete"] * len(distinct) + ["skipped"] * (len(files) - len(distinct))
    )
    assert len(once["warc_files"]) == len(distinct)
    for sha256, (data, recs, compression) in distinct.items():
        file = catalog.file_by_sha256(sha256)
        assert file is not None and file.status == "complete"
        rows = list(catalog.records_of_file(file.id))
        assert [(r.offset, r.length) for r in rows] == oracle_offsets(data, recs, compression)
        assert [r.warc_record_id for r in rows] == [rec.id.strip("<>") for rec in recs]
    assert catalog.count_records() == sum(len(recs) for _, recs, _ in distinct.values())


# -- inputs: files, directories, globs -------------------------------------------------------------


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(GOOD_PLAIN)
    return path


def test_directories_are_walked_recursively_for_archive_names(tmp_path: Path) -> None:
    a = _touch(tmp_path / "d" / "a.warc.gz")
    b = _touch(tmp_path / "d" / "sub" / "deeper" / "b.WARC")
    c = _touch(tmp_path / "d" / "sub" / "c.arc")
    _touch(tmp_path / "d" / "notes.txt")
    assert [s.location for s in expand_inputs([str(tmp_path / "d")])] == [str(p) for p in (a, c, b)]


def test_globs_name_files_and_directories(tmp_path: Path) -> None:
    a = _touch(tmp_path / "2020-a" / "x.warc")
    b = _touch(tmp_path / "2020-b.warc")
    _touch(tmp_path / "2021-c.warc")
    (tmp_path / "2020-empty").mkdir()
    got = list(expand_inputs([str(tmp_path / "2020-*")]))
    assert [(s.location, s.problem) for s in got] == [(str(a), None), (str(b), None)]


def test_inputs_that_name_no_file_are_reported_once_each(tmp_path: Path) -> None:
    (tmp_path / "empty-dir").mkdir()
    a = _touch(tmp_path / "a.warc")
    got = list(
        expand_inputs(
            [
                str(a),
                str(tmp_path / "nope.warc"),
                str(tmp_path / "*.none"),
                str(tmp_path / "empty-dir"),
                str(a),
                "https://example.org/a.warc.gz",
                "ftp://user:secret@example.org/a.warc.gz",
                "http://[::1/a.warc.gz",
            ]
        )
    )
    assert [(s.location, s.problem) for s in got] == [
        (str(a), None),
        (str(tmp_path / "nope.warc"), "no such file or directory"),
        (str(tmp_path / "*.none"), "no file matches this pattern"),
        (str(tmp_path / "empty-dir"), "directory holds no .warc/.arc files"),
        ("https://example.org/a.warc.gz", None),
        ("ftp://example.org/a.warc.gz", "only http and https URLs and local paths are accepted"),
        ("http://[::1/a.warc.gz", "not a valid URL"),
    ]


def test_a_writer_stopped_by_an_exception_gives_its_claim_back(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt or a bug mid-file leaves the file failed and empty, never claimed."""
    path = write_warc(tmp_path / "a.warc.gz", crawl())
    seen = 0
    real = archive.ingest.describe_record

    def fails_on_the_third(record: Any) -> Any:
        nonlocal seen
        seen += 1
        if seen == 3:
            raise KeyboardInterrupt
        return real(record)

    monkeypatch.setattr(archive.ingest, "describe_record", fails_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        ingest_file(catalog, path)
    file = catalog.file_by_sha256(hashlib.sha256(path.read_bytes()).hexdigest())
    assert file is not None and (file.status, file.claimed_by) == ("failed", None)
    assert catalog.count_records() == 0
    assert catalog.errors_of_file(file.id) == [(None, "ingest stopped: KeyboardInterrupt: ")]

    monkeypatch.setattr(archive.ingest, "describe_record", real)
    report = ingest_file(catalog, path)
    assert (report.status, report.records) == ("complete", len(crawl()))
    assert catalog.count_records() == len(crawl())
