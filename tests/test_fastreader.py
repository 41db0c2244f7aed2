"""The FastWARC reader against the careful one: every file gives the same catalog, to the byte.

A differential test: each file is ingested twice, once through `open_reader` (FastWARC where it
can prove its reading, the careful reader from the first doubt on) and once through the careful
`ArchiveReader` alone, into two SQLite catalogs whose rows must be identical. Each case also
says which path it must take, so that agreement is not the trivial agreement of the careful
reader with itself.
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from warcbuilder import (
    Rec,
    arc_bytes,
    arc_response,
    exchange,
    flip_byte,
    member_offsets,
    metadata,
    request,
    resource,
    response,
    revisit,
    revisit_of,
    sha1_b32,
    sha256_b32,
    sha256_hex,
    truncate,
    warc_bytes,
    warcinfo,
)

import archive.fastreader
import archive.ingest
from archive.catalog import Catalog
from archive.fastreader import FastReader, open_reader
from archive.ingest import ingest_file
from archive.models import IngestError, Record, WarcFile
from archive.reader import ArchiveFormat, ArchiveReader, RecordReader, detect_format

D = "2020-01-02T03:04:05Z"
BODY = b"<html><body><p>The river cleanup drew ninety volunteers.</p></body></html>"
PAGE = response("http://a.test/", BODY, D)
CRAWL: list[Rec] = [
    warcinfo({"software": "archivist-tests/1", "isPartOf": "t"}, D),
    *exchange(PAGE),
    response("http://b.test/x", BODY * 9, D, chunked=[7, 100]),
    resource("http://c.test/log.txt", b"a log line\n" * 5, D),
    metadata("http://a.test/", b"outlink: http://b.test/x\r\n", D, concurrent_to=PAGE.id),
    revisit_of(PAGE, "2021-01-01T00:00:00Z"),
]
GOOD = response("http://a.test/good", BODY, D)
OTHER = response("http://a.test/other", b"other body " * 20, D)
MIDDLE = response("http://a.test/middle", b"middle body", D)
LATE = response("http://a.test/late", b"late body", D)
THREE = [GOOD, MIDDLE, LATE]
THREE_GZ = warc_bytes(THREE)
THREE_PLAIN = warc_bytes(THREE, "none")
MEMBERS = member_offsets(THREE)
AT_MIDDLE = MEMBERS[1][0]  # where the middle record's member starts
PLAIN_MIDDLE = len(GOOD.to_bytes())  # where the middle record starts in the plain file
AT_LAST = MEMBERS[2][0]
PLAIN_LAST = PLAIN_MIDDLE + len(MIDDLE.to_bytes())
# Over FastWARC's 64 KiB buffer: its member is inflated while the block is read.
BIG = resource("http://big.test/", os.urandom(150_000), D)
BIG_THREE = [GOOD, BIG, LATE]
BIG_GZ = warc_bytes(BIG_THREE)
BIG_MEMBERS = member_offsets(BIG_THREE)
AT_BIG = BIG_MEMBERS[1][0]

Way = Literal["fast", "handover", "careful"]


@dataclass(frozen=True)
class Case:
    """A file, and the way the fast reader must read it: all FastWARC, hand-over, or careful."""

    name: str
    data: bytes
    way: Way
    handover: int | None = None  # where the careful reader must take over, when known


def joined(*parts: bytes) -> bytes:
    return b"".join(parts)


def gzip_member(data: bytes, name: str | None = None) -> bytes:
    """``data`` as one gzip member; ``name`` is written in its FNAME field (RFC 1952 §2.3.1)."""
    if name is None:
        return gzip.compress(data, mtime=0)
    out = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=out, mtime=0) as member:
        member.write(data)
    return out.getvalue()


def without_length(rec: Rec) -> bytes:
    head, sep, rest = rec.to_bytes().partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.startswith(b"Content-Length:")]
    return b"\r\n".join(lines) + sep + rest


def folded(rec: Rec) -> bytes:
    """``rec`` with its WARC-Target-URI folded over two lines (WARC 1.0 §4 allows LWS)."""
    head, sep, rest = rec.to_bytes().partition(b"\r\n\r\n")
    uri = rec.get("WARC-Target-URI")
    assert uri is not None
    cut = len(uri) // 2
    line = f"WARC-Target-URI: {uri}".encode()
    split = f"WARC-Target-URI: {uri[:cut]}\r\n  {uri[cut:]}".encode()
    return head.replace(line, split) + sep + rest


def edited(rec: Rec, old: bytes, new: bytes) -> bytes:
    """``rec``'s bytes with its header's ``old`` replaced by ``new``."""
    head, sep, rest = rec.to_bytes().partition(b"\r\n\r\n")
    assert old in head
    return head.replace(old, new, 1) + sep + rest


def both_layouts(name: str, recs: list[Rec], way: Way = "fast") -> list[Case]:
    return [
        Case(f"{name}.warc.gz", warc_bytes(recs), way),
        Case(f"{name}.warc", warc_bytes(recs, "none"), way),
    ]


NO_DIGESTS = [
    response("http://a.test/n", BODY, D, payload_digest=None, block_digest=None),
    resource("http://a.test/r", b"resource", D, payload_digest=None, block_digest=None),
]
SHA256_LABELS = [
    response("http://a.test/h", BODY, D, payload_digest=sha256_hex(BODY)),
    response("http://a.test/b", BODY, D, payload_digest=sha256_b32(BODY)),
    response(
        "http://a.test/l",
        BODY,
        D,
        payload_digest="sha-256:" + sha256_b32(BODY).split(":", 1)[1],
        block_digest="SHA-1:" + sha1_b32(b"not the block").split(":", 1)[1],
    ),
]
DIGEST_MISMATCH = [response("http://a.test/m", BODY, D, payload_digest=sha1_b32(b"other"))]
REVISITS = [
    PAGE,
    revisit_of(PAGE, "2021-01-01T00:00:00Z"),
    revisit(
        "http://a.test/gone",
        D,
        refers_to=None,
        refers_to_target_uri=None,
        refers_to_date=None,
        payload_digest=None,
        status=None,
    ),
]
ODD_RECORDS = [
    GOOD.with_field("WARC-Type", "snapshot"),
    GOOD.with_field("WARC-Date", "yesterday"),
    OTHER.without("WARC-Date"),
    response("http://[bad/x", b"x", D),
    response("http://a.test:99999/", b"y", D),
    response("http://a.test/ü", BODY, D),
    request("http://a.test/q", D, method="POST"),
    response("http://a.test/e", b"", D),
    GOOD.without("WARC-Record-ID"),
    response("http://a.test/c", BODY, D, chunked=True, payload_digest="stored"),
]

CASES: list[Case] = [
    # -- clean WARC/1.x files: FastWARC reads them whole --
    *both_layouts("crawl", CRAWL),
    *both_layouts("v1.1", [r.with_version("WARC/1.1") for r in (GOOD, OTHER)]),
    *both_layouts("mixed-versions", [GOOD, OTHER.with_version("WARC/1.1")]),
    *both_layouts("no-digests", NO_DIGESTS),
    *both_layouts("sha256-labels", SHA256_LABELS),
    *both_layouts("digest-mismatch", DIGEST_MISMATCH),
    *both_layouts("revisits", REVISITS),
    *both_layouts("odd-records", ODD_RECORDS),
    *both_layouts("big-record", BIG_THREE),
    Case("one-record.warc.gz", warc_bytes([GOOD]), "fast"),
    Case(
        "named-members.warc.gz",
        joined(*[gzip_member(r.to_bytes(), "record.warc") for r in THREE]),
        "fast",
    ),
    Case(
        "several-files-concatenated.warc.gz",
        warc_bytes(CRAWL) + warc_bytes(THREE) + warc_bytes(CRAWL),
        "fast",
    ),
    # -- what the careful reader reads alone --
    Case("whole-gzip.warc.gz", warc_bytes(CRAWL, "whole"), "careful"),
    Case("v0.18.warc", warc_bytes([r.with_version("WARC/0.18") for r in THREE], "none"), "careful"),
    Case("v0.17.warc.gz", warc_bytes([r.with_version("WARC/0.17") for r in THREE]), "careful"),
    Case(
        "old.arc",
        arc_bytes([arc_response("http://a.test/", b"<p>one</p>", "20010203040506")]),
        "careful",
    ),
    Case(
        "old.arc.gz",
        arc_bytes(
            [arc_response("http://a.test/", b"<p>one</p>", "20010203040506")], compression="record"
        ),
        "careful",
    ),
    # -- odd header syntax: the careful reader takes over at the record --
    *[
        Case(name, data, "handover", handover)
        for name, data, handover in [
            (
                "no-colon.warc.gz",
                warc_bytes([GOOD, MIDDLE.with_line("this line has no colon"), LATE]),
                AT_MIDDLE,
            ),
            (
                "no-colon.warc",
                warc_bytes([GOOD, MIDDLE.with_line("this line has no colon"), LATE], "none"),
                PLAIN_MIDDLE,
            ),
            (
                "empty-name.warc",
                joined(GOOD.to_bytes(), edited(MIDDLE, b"WARC-Date:", b": x\r\nWARC-Date:")),
                PLAIN_MIDDLE,
            ),
            ("folded.warc", joined(GOOD.to_bytes(), folded(MIDDLE)), PLAIN_MIDDLE),
            (
                "folded.warc.gz",
                joined(THREE_GZ[:AT_MIDDLE], gzip_member(folded(MIDDLE))),
                AT_MIDDLE,
            ),
            (
                "extra-spaces.warc",
                joined(GOOD.to_bytes(), edited(MIDDLE, b"WARC-Type: ", b"WARC-Type :   ")),
                PLAIN_MIDDLE,
            ),
            (
                "latin-1-value.warc.gz",
                joined(
                    THREE_GZ[:AT_MIDDLE],
                    gzip_member(edited(MIDDLE, b"WARC-Date:", b"X-Caf\xe9: caf\xe9\r\nWARC-Date:")),
                ),
                AT_MIDDLE,
            ),
            (
                "lf-line-ends.warc",
                joined(GOOD.to_bytes(), MIDDLE.to_bytes().replace(b"\r\n", b"\n")),
                PLAIN_MIDDLE,
            ),
            (
                "two-lengths.warc.gz",
                joined(
                    THREE_GZ[:AT_MIDDLE],
                    gzip_member(edited(MIDDLE, b"WARC-Date:", b"Content-Length: 3\r\nWARC-Date:")),
                ),
                AT_MIDDLE,
            ),
            (
                "plus-length.warc.gz",
                joined(
                    THREE_GZ[:AT_MIDDLE],
                    gzip_member(edited(MIDDLE, b"Content-Length: ", b"Content-Length: +")),
                ),
                AT_MIDDLE,
            ),
            (
                "version-with-space.warc",
                joined(GOOD.to_bytes(), edited(MIDDLE, b"WARC/1.0", b"WARC/1.0 ")),
                PLAIN_MIDDLE,
            ),
            (
                "vertical-tab.warc.gz",
                joined(
                    THREE_GZ[:AT_MIDDLE],
                    gzip_member(edited(MIDDLE, b"WARC-Type: ", b"WARC-Type: \x0b")),
                ),
                AT_MIDDLE,
            ),
        ]
    ],
    # Field names are case-insensitive (WARC 1.1 §4), for FastWARC as for us.
    *both_layouts("lower-case-names", [GOOD, MIDDLE.lowercased(), LATE]),
    Case(
        "utf-8-uri.warc.gz",
        warc_bytes([GOOD, MIDDLE.with_field("WARC-Target-URI", "http://a.test/über\u00a0"), LATE]),
        "fast",
    ),
    # -- framing and damage --
    Case("leading-blank-line.warc", b"\r\n" + THREE_PLAIN, "handover", 0),
    Case("no-crlf-crlf.warc", joined(GOOD.to_bytes()[:-4], MIDDLE.to_bytes()), "handover", 0),
    Case(
        "extra-blank-lines.warc",
        joined(GOOD.to_bytes(), b"\r\n", MIDDLE.to_bytes(), LATE.to_bytes()),
        "handover",
        0,
    ),
    Case(
        "garbage-between-records.warc",
        joined(GOOD.to_bytes(), b"GARBAGE LINE\r\n\r\n", MIDDLE.to_bytes()),
        "handover",
        0,
    ),
    Case(
        "garbage-between-members.warc.gz",
        joined(THREE_GZ[:AT_MIDDLE], b"GARBAGE", THREE_GZ[AT_MIDDLE:]),
        "handover",
        0,
    ),
    Case(
        "non-warc-member.warc.gz",
        joined(THREE_GZ[:AT_MIDDLE], gzip_member(b"NOT A WARC\r\n\r\n"), THREE_GZ[AT_MIDDLE:]),
        "handover",
        0,
    ),
    Case(
        "empty-member.warc.gz",
        joined(THREE_GZ[:AT_MIDDLE], gzip_member(b""), THREE_GZ[AT_MIDDLE:]),
        "handover",
        0,
    ),
    Case(
        "two-records-in-a-member.warc.gz",
        joined(
            THREE_GZ[:AT_MIDDLE],
            gzip_member(MIDDLE.to_bytes() + OTHER.to_bytes()),
            warc_bytes([LATE]),
        ),
        "handover",
        AT_MIDDLE,
    ),
    Case(
        "record-then-junk-in-its-member.warc.gz",
        joined(THREE_GZ[:AT_MIDDLE], gzip_member(MIDDLE.to_bytes() + b"junk"), warc_bytes([LATE])),
        "handover",
        AT_MIDDLE,
    ),
    Case("trailing-junk.warc.gz", THREE_GZ + b"some trailing garbage\n", "handover", AT_LAST),
    Case("trailing-junk.warc", THREE_PLAIN + b"some trailing garbage\n", "handover"),
    Case("trailing-blank-line.warc", THREE_PLAIN + b"\r\n", "handover"),
    Case("damaged-crc.warc.gz", flip_byte(THREE_GZ, AT_MIDDLE + MEMBERS[1][1] - 6), "handover", 0),
    Case("damaged-size.warc.gz", flip_byte(THREE_GZ, AT_MIDDLE + MEMBERS[1][1] - 2), "handover", 0),
    Case("damaged-deflate.warc.gz", flip_byte(THREE_GZ, AT_MIDDLE + 40), "handover", 0),
    Case("damaged-first-member.warc.gz", flip_byte(THREE_GZ, 40), "handover", 0),
    Case(
        "damaged-big-member.warc.gz",
        flip_byte(BIG_GZ, AT_BIG + 100_000),
        "handover",
        AT_BIG,
    ),
    Case(
        "damaged-big-crc.warc.gz",
        flip_byte(BIG_GZ, AT_BIG + BIG_MEMBERS[1][1] - 7),
        "handover",
        AT_BIG,
    ),
    Case("reserved-flag.warc.gz", flip_byte(THREE_GZ, AT_MIDDLE + 3), "handover"),
    *[
        Case(f"cut{cut}.warc.gz", truncate(THREE_GZ, cut), "handover", AT_LAST)
        for cut in (-1, -4, -8, -12, -40)
    ],
    Case("cut-in-big-block.warc.gz", truncate(BIG_GZ, AT_BIG + 70_000), "handover", AT_BIG),
    Case("cut-in-header.warc.gz", truncate(THREE_GZ, AT_LAST + 40), "handover", AT_MIDDLE),
    Case("cut-in-block.warc", THREE_PLAIN[:-20], "handover", PLAIN_LAST),
    Case("cut-in-header.warc", THREE_PLAIN[: PLAIN_MIDDLE + 30], "handover", PLAIN_MIDDLE),
    Case("cut-short.warc.gz", warc_bytes([GOOD, OTHER.cut_short(50)]), "handover", AT_MIDDLE),
    Case(
        "content-length-too-small.warc",
        warc_bytes([GOOD, MIDDLE.with_field("Content-Length", "10"), LATE], "none"),
        "handover",
        PLAIN_MIDDLE,
    ),
    Case(
        "missing-length.warc.gz",
        joined(THREE_GZ[:AT_MIDDLE], gzip_member(without_length(MIDDLE)), warc_bytes([LATE])),
        "handover",
        AT_MIDDLE,
    ),
    Case(
        "missing-length.warc",
        joined(GOOD.to_bytes(), without_length(MIDDLE), LATE.to_bytes()),
        "handover",
        PLAIN_MIDDLE,
    ),
    Case(
        "unsupported-version-inside.warc.gz",
        warc_bytes([GOOD, MIDDLE.with_version("WARC/2.0"), LATE]),
        "handover",
        0,
    ),
    Case(
        "old-version-inside.warc.gz",
        warc_bytes([GOOD, MIDDLE.with_version("WARC/0.18"), LATE]),
        "handover",
        AT_MIDDLE,
    ),
]


def rows(catalog: Catalog) -> dict[str, list[tuple[Any, ...]]]:
    """The rows one file left in ``catalog``, without ids; records named by their offsets."""
    with catalog.engine.connect() as connection:
        offsets = dict(connection.execute(select(Record.id, Record.offset)).all())
        out: dict[str, list[tuple[Any, ...]]] = {}
        skip = {"id", "file_id", "claimed_by", "claimed_at", "ingested_at"}
        for model in (WarcFile, Record, IngestError):
            columns = [c for c in model.__table__.columns if c.name not in skip]
            found = []
            for row in connection.execute(select(*columns).order_by(*model.__table__.primary_key)):
                values = dict(row._mapping)
                for ref in ("original_record_id", "evidence_record_id"):
                    if values.get(ref) is not None:
                        values[ref] = ("record at", offsets[values[ref]])
                found.append(tuple(sorted(values.items())))
            out[model.__tablename__] = found
    return out


def empty(catalog: Catalog) -> None:
    with catalog.engine.begin() as connection:
        for model in (IngestError, Record, WarcFile):
            connection.execute(delete(model))


class Readers:
    """Ingest one file with the chosen reader; remember the fast reader ingest used."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self.used: list[RecordReader] = []

    @property
    def fast_way(self) -> RecordReader | None:
        """The reader the last fast ingest read with (None when the file was refused first)."""
        return self.used[-1] if self.used else None

    def _remember(self, path: Path, archive_format: ArchiveFormat | None = None) -> RecordReader:
        reader = open_reader(path, archive_format)
        self.used.append(reader)
        return reader

    def ingest(self, catalog: Catalog, path: Path, *, careful: bool) -> dict[str, Any]:
        self.used = []
        chosen = ArchiveReader if careful else self._remember
        with self._monkeypatch.context() as patch:
            patch.setattr(archive.ingest, "open_reader", chosen)
            ingest_file(catalog, path)
        return rows(catalog)


@pytest.fixture
def careful_catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(str(tmp_path / "careful.db"))
    yield opened
    opened.close()


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> Readers:
    return Readers(monkeypatch)


def assert_same_catalog(
    readers: Readers, fast: Catalog, careful: Catalog, path: Path
) -> RecordReader | None:
    """Ingest ``path`` both ways; the rows must be equal. Returns the reader the fast way used."""
    got = readers.ingest(fast, path, careful=False)
    used = readers.fast_way
    want = readers.ingest(careful, path, careful=True)
    assert got == want
    assert got["warc_files"], "the file was not recorded"
    return used


def assert_way(reader: RecordReader | None, case: Case, records: int) -> None:
    if case.way == "careful":
        assert isinstance(reader, ArchiveReader)
        return
    assert isinstance(reader, FastReader)
    if case.way == "fast":
        assert reader.handover is None
        assert reader.fast_records == records > 0
    else:
        assert reader.handover is not None
        if case.handover is not None:
            assert reader.handover == case.handover


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fast_and_careful_readers_fill_the_same_catalog(
    sqlite_catalog: Catalog, careful_catalog: Catalog, readers: Readers, tmp_path: Path, case: Case
) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.data)
    reader = assert_same_catalog(readers, sqlite_catalog, careful_catalog, path)
    records = len(rows(sqlite_catalog)["records"])
    assert_way(reader, case, records)


def test_a_block_too_big_to_hold_goes_to_the_careful_reader(
    sqlite_catalog: Catalog,
    careful_catalog: Catalog,
    readers: Readers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archive.fastreader, "_MAX_HELD_BLOCK", 100_000)
    path = tmp_path / "big.warc.gz"
    path.write_bytes(BIG_GZ)
    reader = assert_same_catalog(readers, sqlite_catalog, careful_catalog, path)
    assert isinstance(reader, FastReader)
    assert (reader.fast_records, reader.handover) == (1, AT_BIG)


def test_the_fast_reader_is_chosen_only_for_warc_1_in_gzip_or_plain(tmp_path: Path) -> None:
    chosen = {}
    for name, data in [
        ("a.warc.gz", warc_bytes(THREE)),
        ("a.warc", warc_bytes(THREE, "none")),
        ("b.warc.gz", warc_bytes([r.with_version("WARC/1.1") for r in THREE])),
        ("w.warc.gz", warc_bytes(THREE, "whole")),
        ("o.warc", warc_bytes([r.with_version("WARC/0.18") for r in THREE], "none")),
        ("x.arc", arc_bytes([])),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        chosen[name] = type(open_reader(path)).__name__
        assert open_reader(path, detect_format(path)).format == detect_format(path)
    assert chosen == {
        "a.warc.gz": "FastReader",
        "a.warc": "FastReader",
        "b.warc.gz": "FastReader",
        "w.warc.gz": "ArchiveReader",
        "o.warc": "ArchiveReader",
        "x.arc": "ArchiveReader",
    }


# --- the real sample files ----------------------------------------------------------------

# The clean WARC/1.x samples FastWARC must read whole; the others are compared all the same.
FAST_SAMPLES = {
    "sample-0000.warc.gz",
    "warcfile.warc.gz",
    "issue-493.warc",
}


@pytest.mark.realdata
def test_real_files_fill_the_same_catalog(
    sqlite_catalog: Catalog,
    careful_catalog: Catalog,
    readers: Readers,
    shared_warcs: Path,
) -> None:
    paths = sorted(
        p
        for p in shared_warcs.rglob("*")
        if p.is_file() and (".warc" in p.name or ".arc" in p.name)
    )
    assert paths
    seen = set()
    for path in paths:
        empty(sqlite_catalog)
        empty(careful_catalog)
        reader = assert_same_catalog(readers, sqlite_catalog, careful_catalog, path)
        records = len(rows(sqlite_catalog)["records"])
        if path.name in FAST_SAMPLES:
            assert isinstance(reader, FastReader)
            assert (reader.handover, reader.fast_records) == (None, records)
            seen.add(path.name)
    assert seen == FAST_SAMPLES


# --- random damage ------------------------------------------------------------------------

FUZZ_RECORDS = {
    # Small records, so that damage lands in headers and framing as often as in blocks.
    "small": [*CRAWL, *ODD_RECORDS[:4], LATE.with_version("WARC/1.1")],
    # One member larger than FastWARC's buffer, inflated while its block is read.
    "big": [GOOD, BIG, LATE.with_version("WARC/1.1")],
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=st.sampled_from(["record", "none"]),
    records=st.sampled_from(sorted(FUZZ_RECORDS)),
    damage=st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert", "delete"]),
            st.floats(0, 1, exclude_max=True),
            st.sampled_from([b"\r\n", b"junk", b"\x00" * 5, b" ", b":"]),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_randomly_damaged_files_fill_the_same_catalog(
    sqlite_catalog: Catalog,
    careful_catalog: Catalog,
    readers: Readers,
    layout: Any,
    records: str,
    damage: list[tuple[str, float, bytes]],
) -> None:
    data = warc_bytes(FUZZ_RECORDS[records], layout)
    for kind, where, junk in damage:
        at = int(where * len(data))
        if kind == "flip":
            data = flip_byte(data, at)
        elif kind == "cut":
            data = truncate(data, max(1, at))
        elif kind == "insert":
            data = data[:at] + junk + data[at:]
        else:
            data = data[:at] + data[at + len(junk) :]
    empty(sqlite_catalog)
    empty(careful_catalog)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("damaged.warc.gz" if layout == "record" else "damaged.warc")
        path.write_bytes(data)
        assert_same_catalog(readers, sqlite_catalog, careful_catalog, path)
