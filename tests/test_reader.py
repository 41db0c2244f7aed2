"""Reading WARC and ARC files: layouts, versions, damage, and agreement with warcio's offsets."""

from __future__ import annotations

import gzip
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcbuilder import (
    Rec,
    arc_bytes,
    arc_response,
    exchange,
    flip_byte,
    member_offsets,
    metadata,
    record_offsets,
    resource,
    response,
    revisit_of,
    truncate,
    warc_bytes,
    warcinfo,
)
from warcio.archiveiterator import ArchiveIterator

from archive.errors import WarcFormatError
from archive.reader import ArchiveReader, detect_format, open_record, open_records
from archive.records import describe_record

D = "2020-01-02T03:04:05Z"
PAGE = response("http://a.test/", b"<html>hello</html>", D)
CHUNKED = response("http://b.test/x", b"chunked body " * 80, D, chunked=[7, 100])
CRAWL: list[Rec] = [
    warcinfo({"software": "archivist-tests/1", "isPartOf": "t"}, D),
    *exchange(PAGE),
    CHUNKED,
    resource("http://c.test/log.txt", b"a log line\n" * 5, D),
    metadata("http://a.test/", b"outlink: http://b.test/x\r\n", D, concurrent_to=PAGE.id),
    revisit_of(PAGE, "2021-01-01T00:00:00Z"),
]
GOOD = response("http://a.test/good", b"good body", D)
OTHER = response("http://a.test/other", b"other body " * 20, D)
LATE = response("http://a.test/late", b"late body", D)
MIDDLE = response("http://a.test/middle", b"middle body", D)


@dataclass(frozen=True)
class Seen:
    """What the reader gave for one record, its block read to the end."""

    offset: int
    length: int
    record_type: str
    target_uri: str | None
    date_raw: str | None
    block: bytes
    shortfall: int


def read(path: Path) -> tuple[list[Seen], list[tuple[int | None, str]]]:
    """Every record of ``path`` and the problems the reader reported, as (offset, reason)."""
    reader = ArchiveReader(path)
    seen = []
    for record in reader:
        block = record.block.read()
        seen.append(
            Seen(
                record.offset,
                record.length,
                record.record_type,
                record.target_uri,
                record.date_raw,
                block,
                record.block_shortfall,
            )
        )
    return seen, [(p.offset, p.reason) for p in reader.problems]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def expected(recs: list[Rec]) -> list[tuple[str, str | None, str | None, bytes]]:
    return [
        (str(r.get("WARC-Type")), r.get("WARC-Target-URI"), r.get("WARC-Date"), r.block)
        for r in recs
    ]


def facts_of(seen: list[Seen]) -> list[tuple[str, str | None, str | None, bytes]]:
    return [(s.record_type, s.target_uri, s.date_raw, s.block) for s in seen]


def without_length(rec: Rec) -> bytes:
    """``rec`` as written with no Content-Length at all (Rec always writes one otherwise)."""
    head, sep, rest = rec.to_bytes().partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.startswith(b"Content-Length:")]
    return b"\r\n".join(lines) + sep + rest


def plain_offsets(recs: list[Rec]) -> list[int]:
    """Where each record starts in the uncompressed file: after the records before it."""
    out, pos = [], 0
    for rec in recs:
        out.append(pos)
        pos += len(rec.to_bytes())
    return out


# --- layouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("compression", "label"), [("record", "gzip"), ("none", "none"), ("whole", "gzip-stream")]
)
def test_every_layout_gives_the_same_records(tmp_path: Path, compression: Any, label: str) -> None:
    path = write(tmp_path, "crawl.warc", warc_bytes(CRAWL, compression))
    assert detect_format(path).compression == label
    assert detect_format(path).describe() == f"WARC/1.0 {label}"
    seen, problems = read(path)
    assert problems == []
    assert facts_of(seen) == expected(CRAWL)
    assert all(s.shortfall == 0 for s in seen)


@pytest.mark.parametrize("compression", ["record", "none"])
def test_offsets_and_lengths_are_warcios(tmp_path: Path, compression: Any) -> None:
    data = warc_bytes(CRAWL, compression)
    seen, _ = read(write(tmp_path, "crawl.warc", data))
    assert [(s.offset, s.length) for s in seen] == record_offsets(data)
    if compression == "record":
        assert [(s.offset, s.length) for s in seen] == member_offsets(CRAWL)


def test_whole_gzip_offsets_are_decompressed_offsets(tmp_path: Path) -> None:
    path = write(tmp_path, "whole.warc.gz", warc_bytes(CRAWL, "whole"))
    seen, _ = read(path)
    # The same records at the same places as in the uncompressed file.
    plain = record_offsets(warc_bytes(CRAWL, "none"))
    assert [(s.offset, s.length) for s in seen] == plain
    for s in seen:
        (record,) = open_record(path, "gzip-stream", s.offset)
        assert (record.record_type, record.target_uri) == (s.record_type, s.target_uri)
        assert record.block.read() == s.block
        assert record.length == s.length


@pytest.mark.parametrize(("compression", "label"), [("record", "gzip"), ("none", "none")])
def test_open_record_reads_each_record_back(tmp_path: Path, compression: Any, label: Any) -> None:
    data = warc_bytes(CRAWL, compression)
    path = write(tmp_path, "crawl.warc", data)
    for (offset, length), rec in zip(record_offsets(data), CRAWL, strict=True):
        (record,) = open_record(path, label, offset)
        assert record.offset == offset
        assert record.headers.get("WARC-Record-ID") == rec.id
        assert record.block.read() == rec.block
        assert record.length == length


def test_open_record_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    path = write(tmp_path, "crawl.warc.gz", warc_bytes(CRAWL, "record"))
    with pytest.raises(WarcFormatError, match="compression is now gzip, was none"):
        list(open_record(path, "none", 0))
    with pytest.raises(WarcFormatError, match="no readable record here") as caught:
        list(open_record(path, "gzip", 5))
    assert caught.value.offset == 5
    plain = write(tmp_path, "crawl.warc", warc_bytes(CRAWL, "none"))
    with pytest.raises(WarcFormatError, match="not a WARC record"):
        list(open_record(plain, "none", 3))


def test_a_whole_gzip_of_several_members_is_one_stream(tmp_path: Path) -> None:
    # Some tools compress batches of records: a member holding several records is a stream.
    data = gzip.compress(warc_bytes(CRAWL[:3], "none")) + gzip.compress(
        warc_bytes(CRAWL[3:], "none")
    )
    path = write(tmp_path, "batches.warc.gz", data)
    assert detect_format(path).compression == "gzip-stream"
    seen, problems = read(path)
    assert problems == []
    assert facts_of(seen) == expected(CRAWL)
    assert [s.offset for s in seen] == plain_offsets(CRAWL)


@pytest.mark.parametrize("body", ["random", "compressible"])
@pytest.mark.parametrize(("compression", "label"), [("record", "gzip"), ("whole", "gzip-stream")])
def test_layout_is_told_apart_when_the_first_record_is_large(
    tmp_path: Path, body: str, compression: Any, label: str
) -> None:
    # Over 256 KiB decompressed: more than one read of the first member, both when the member
    # stops at the record (per-record gzip) and when it runs on (one stream).
    content = os.urandom(300_000) if body == "random" else b"a" * 1_000_000
    recs = [resource("http://big.test/", content, D), LATE]
    path = write(tmp_path, "big.warc.gz", warc_bytes(recs, compression))
    assert detect_format(path).compression == label
    seen, problems = read(path)
    assert problems == []
    assert facts_of(seen) == expected(recs)


# --- versions and spellings --------------------------------------------------------------------


@pytest.mark.parametrize("version", ["WARC/1.1", "WARC/0.17", "WARC/0.18"])
@pytest.mark.parametrize("compression", ["record", "none"])
def test_other_warc_versions_are_read(tmp_path: Path, version: str, compression: Any) -> None:
    recs = [r.with_version(version) for r in (GOOD, OTHER)]
    data = warc_bytes(recs, compression)
    path = write(tmp_path, "v.warc", data)
    assert detect_format(path).version == version
    reader = ArchiveReader(path)
    versions = [(r.version, r.record_type, r.target_uri, r.block.read()) for r in reader]
    assert versions == [(version, "response", r.get("WARC-Target-URI"), r.block) for r in recs]
    assert reader.problems == []
    seen, _ = read(path)
    assert [(s.offset, s.length) for s in seen] == record_offsets(data)


def test_lower_case_field_names_are_read(tmp_path: Path) -> None:
    recs = [GOOD.lowercased(), OTHER.lowercased()]
    seen, problems = read(write(tmp_path, "lower.warc", warc_bytes(recs, "none")))
    assert problems == []
    assert facts_of(seen) == expected([GOOD, OTHER])


@pytest.mark.parametrize("compression", ["record", "none"])
def test_arc_files_are_read(tmp_path: Path, compression: Any) -> None:
    recs = [
        arc_response("http://a.test/", b"<p>one</p>", "20010203040506"),
        arc_response("http://b.test/x y", b"<p>two</p>", "20010203040507"),
    ]
    data = arc_bytes(recs, compression=compression)
    path = write(tmp_path, "old.arc", data)
    archive_format = detect_format(path)
    assert (archive_format.kind, archive_format.version) == ("arc", "ARC/1")
    reader = ArchiveReader(path)
    got = [
        (r.format, r.record_type, r.target_uri, r.date_raw, r.content_length, r.block.read())
        for r in reader
    ]
    assert reader.problems == []
    assert got[0][:4] == ("arc", "warcinfo", "filedesc://test.arc", "20010101000000")
    # A URL with a space in it is still one URL: the other fields are counted from the right.
    assert got[1:] == [("arc", "response", r.url, r.date, len(r.block), r.block) for r in recs]
    seen, _ = read(path)
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, arc2warc=False)
        oracle = [(it.get_record_offset(), it.get_record_length()) for _ in it]
    assert [(s.offset, s.length) for s in seen] == oracle


# --- files that are not archives -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"Dear diary,\nno web archive here.\n", "not a WARC or ARC file"),
        (gzip.compress(b"Dear diary,\n"), "not a WARC or ARC file"),
        (
            warc_bytes([GOOD.with_version("WARC/2.0")], "none"),
            "unsupported WARC version 'WARC/2.0'",
        ),
        (warc_bytes([GOOD.with_version("WARC/2.0")], "record"), "unsupported WARC version"),
        (b"\x1f\x8b\x08\x00garbage that is not deflate data", "invalid gzip data"),
    ],
)
def test_a_file_that_is_no_archive_is_refused(tmp_path: Path, data: bytes, reason: str) -> None:
    path = write(tmp_path, "x.warc", data)
    with pytest.raises(WarcFormatError) as caught:
        detect_format(path)
    assert caught.value.offset == 0
    assert reason in caught.value.reason
    with pytest.raises(WarcFormatError):
        ArchiveReader(path)


# --- damage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("compression", "cause"),
    [
        ("none", "the file ends"),
        ("whole", "the file ends"),
        ("record", "its gzip member ends"),
    ],
)
def test_a_record_cut_short_is_reported(tmp_path: Path, compression: Any, cause: str) -> None:
    recs = [GOOD, OTHER.cut_short(50)]
    path = write(tmp_path, "cut.warc", warc_bytes(recs, compression))
    seen, problems = read(path)
    assert facts_of(seen) == expected([GOOD, OTHER])
    assert seen[1].shortfall == 50
    got, declared = len(OTHER.block), len(OTHER.block) + 50
    assert problems == [
        (seen[1].offset, f"record truncated: block has {got} of {declared} bytes ({cause})")
    ]


@pytest.mark.parametrize("cut", [-12, -40])
def test_a_gzip_file_cut_inside_a_member_is_reported(tmp_path: Path, cut: int) -> None:
    data = warc_bytes([GOOD, OTHER, LATE], "record")
    last = member_offsets([GOOD, OTHER, LATE])[2][0]
    seen, problems = read(write(tmp_path, "cut.warc.gz", truncate(data, cut)))
    assert [s.target_uri for s in seen] == [
        "http://a.test/good",
        "http://a.test/other",
        LATE.get("WARC-Target-URI"),
    ]
    assert seen[2].shortfall > 0 and seen[2].length == len(data) + cut - last
    ((offset, reason),) = problems
    assert offset == last
    assert reason.startswith("record truncated: block has ")
    assert reason.endswith("(the file ends inside its gzip member)")


@pytest.mark.parametrize("cut", [-1, -4, -8])
def test_a_gzip_member_without_its_trailer_is_one_problem(tmp_path: Path, cut: int) -> None:
    data = warc_bytes([GOOD, OTHER, LATE], "record")
    last = member_offsets([GOOD, OTHER, LATE])[2][0]
    seen, problems = read(write(tmp_path, "cut.warc.gz", truncate(data, cut)))
    # The block is whole: only the member's CRC and size (8 bytes) are missing, some or all.
    assert facts_of(seen) == expected([GOOD, OTHER, LATE])
    assert problems == [(last, "gzip member ends without its trailer")]


def test_a_gzip_file_cut_inside_a_record_header_is_reported(tmp_path: Path) -> None:
    data = warc_bytes([GOOD, OTHER, LATE], "record")
    members = member_offsets([GOOD, OTHER, LATE])
    # Cut where the decompressed data ends inside the third record's header.
    cut = members[2][0] + members[2][1] // 2
    seen, problems = read(write(tmp_path, "cut.warc.gz", data[:cut]))
    assert len(seen) == 2
    ((offset, reason),) = problems
    assert offset == members[2][0]
    assert reason.startswith("record truncated")
    assert "the file ends inside its gzip member" in reason


@pytest.mark.parametrize("compression", ["none", "whole"])
def test_a_file_cut_inside_a_record_header_is_reported(tmp_path: Path, compression: Any) -> None:
    plain = warc_bytes([GOOD, OTHER], "none")
    cut = plain[: len(GOOD.to_bytes()) + 60]
    data = gzip.compress(cut) if compression == "whole" else cut
    seen, problems = read(write(tmp_path, "cut.warc", data))
    assert [s.target_uri for s in seen] == ["http://a.test/good"]
    assert problems == [
        (len(GOOD.to_bytes()), "record truncated inside its header (the file ends)")
    ]


def test_a_whole_gzip_stream_cut_short_is_reported(tmp_path: Path) -> None:
    data = warc_bytes([GOOD, OTHER, LATE], "whole")
    seen, problems = read(write(tmp_path, "cut.warc.gz", truncate(data, -30)))
    assert [s.target_uri for s in seen][:2] == ["http://a.test/good", "http://a.test/other"]
    assert len(problems) == 1
    offset, reason = problems[0]
    assert offset is not None and offset >= len(GOOD.to_bytes()) + len(OTHER.to_bytes())
    assert "the file ends inside the gzip stream" in reason


BROKEN_VERSION = MIDDLE.with_version("XARC/1.0")


@pytest.mark.parametrize(
    ("compression", "resume"),
    [("none", "skipped"), ("whole", "skipped"), ("record", "skipped its gzip member")],
)
def test_an_unreadable_header_in_the_middle_is_skipped(
    tmp_path: Path, compression: Any, resume: str
) -> None:
    recs = [GOOD, BROKEN_VERSION, OTHER, LATE]
    seen, problems = read(write(tmp_path, "mid.warc", warc_bytes(recs, compression)))
    assert facts_of(seen) == expected([GOOD, OTHER, LATE])
    starts = (
        [o for o, _ in member_offsets(recs)] if compression == "record" else plain_offsets(recs)
    )
    assert [s.offset for s in seen] == [starts[0], starts[2], starts[3]]
    ((offset, reason),) = problems
    assert offset == starts[1]
    assert reason.startswith("unreadable record: not a WARC record: first line b'XARC/1.0'")
    assert f"{resume} " in reason and reason.endswith(f"to offset {starts[2]}")


@pytest.mark.parametrize("compression", ["none", "record", "whole"])
def test_an_unsupported_version_in_the_middle_is_skipped(tmp_path: Path, compression: Any) -> None:
    recs = [GOOD, MIDDLE.with_version("WARC/2.0"), OTHER]
    seen, problems = read(write(tmp_path, "mid.warc", warc_bytes(recs, compression)))
    assert facts_of(seen) == expected([GOOD, OTHER])
    ((offset, reason),) = problems
    assert offset == seen[0].offset + (
        member_offsets(recs)[0][1] if compression == "record" else len(GOOD.to_bytes())
    )
    assert "unsupported WARC version 'WARC/2.0'" in reason


def test_a_stray_line_between_records_is_skipped(tmp_path: Path) -> None:
    data = GOOD.to_bytes() + b"GARBAGE LINE\r\n\r\n" + OTHER.to_bytes()
    seen, problems = read(write(tmp_path, "stray.warc", data))
    assert facts_of(seen) == expected([GOOD, OTHER])
    at = len(GOOD.to_bytes())
    assert seen[1].offset == at + 16
    assert problems == [
        (
            at,
            f"unreadable record: not a WARC record: first line b'GARBAGE LINE'; "
            f"skipped 16 bytes to offset {at + 16}",
        )
    ]


@pytest.mark.parametrize("compression", ["none", "record", "whole"])
def test_a_header_line_without_colon_is_reported_and_the_record_kept(
    tmp_path: Path, compression: Any
) -> None:
    recs = [GOOD, MIDDLE.with_line("this line has no colon"), OTHER]
    seen, problems = read(write(tmp_path, "colon.warc", warc_bytes(recs, compression)))
    assert facts_of(seen) == expected(recs)
    assert problems == [
        (seen[1].offset, "malformed header line 'this line has no colon' (no colon): ignored")
    ]


@pytest.mark.parametrize("value", [None, "abc", "-5", "0x10"])
def test_a_plain_record_without_a_valid_length_is_skipped(
    tmp_path: Path, value: str | None
) -> None:
    bad = (
        without_length(MIDDLE)
        if value is None
        else MIDDLE.with_field("Content-Length", value).to_bytes()
    )
    data = GOOD.to_bytes() + bad + OTHER.to_bytes()
    seen, problems = read(write(tmp_path, "cl.warc", data))
    assert facts_of(seen) == expected([GOOD, OTHER])
    at, resume = len(GOOD.to_bytes()), len(GOOD.to_bytes()) + len(bad)
    assert seen[1].offset == resume
    what = "missing Content-Length" if value is None else f"invalid Content-Length {value!r}"
    # WARC 1.1 §5.3: Content-Length is mandatory; without it a stream has no record end.
    assert problems == [
        (at, f"{what}: the record's end is unknown; skipped {resume - at} bytes to offset {resume}")
    ]


@pytest.mark.parametrize("value", [None, "abc", "-5"])
def test_a_gzip_record_without_a_valid_length_runs_to_its_member_end(
    tmp_path: Path, value: str | None
) -> None:
    bad = (
        without_length(MIDDLE)
        if value is None
        else MIDDLE.with_field("Content-Length", value).to_bytes()
    )
    members = [gzip.compress(r, mtime=0) for r in (GOOD.to_bytes(), bad, OTHER.to_bytes())]
    seen, problems = read(write(tmp_path, "cl.warc.gz", b"".join(members)))
    # The member bounds the block; the record's closing CRLF CRLF is not part of it.
    assert facts_of(seen) == expected([GOOD, MIDDLE, OTHER])
    assert [s.length for s in seen] == [len(m) for m in members]
    what = "missing Content-Length" if value is None else f"invalid Content-Length {value!r}"
    assert problems == [(seen[1].offset, f"{what}: block taken to the end of its gzip member")]


def test_a_content_length_too_small_is_reported(tmp_path: Path) -> None:
    short = MIDDLE.with_field("Content-Length", "10")
    recs = [GOOD, short, OTHER]
    seen, problems = read(write(tmp_path, "short.warc", warc_bytes(recs, "none")))
    assert [s.target_uri for s in seen] == [
        "http://a.test/good",
        "http://a.test/middle",
        "http://a.test/other",
    ]
    assert seen[1].block == MIDDLE.block[:10]
    starts = plain_offsets(recs)
    assert [o for o, _ in problems] == [starts[1], starts[1] + seen[1].length]
    assert "record not followed by CRLF CRLF" in problems[0][1]
    assert problems[1][1].endswith(f"to offset {starts[2]}")


@pytest.mark.parametrize(
    ("compression", "tail", "reason"),
    [
        ("none", b"some trailing garbage\n", "unreadable record: not a WARC record"),
        ("record", b"some trailing garbage\n", "not a gzip member; 22 bytes"),
        ("record", gzip.compress(b"garbage garbage\n"), "unreadable record: not a WARC record"),
        ("whole", b"some trailing garbage\n", "22 bytes after the end of the gzip stream"),
    ],
)
def test_trailing_garbage_is_reported_after_the_last_record(
    tmp_path: Path, compression: Any, tail: bytes, reason: str
) -> None:
    data = warc_bytes([GOOD, OTHER], compression)
    seen, problems = read(write(tmp_path, "tail.warc", data + tail))
    assert facts_of(seen) == expected([GOOD, OTHER])
    end = len(data) if compression == "record" else len(warc_bytes([GOOD, OTHER], "none"))
    ((offset, message),) = problems
    assert offset == end
    assert message.startswith(reason)


def test_a_corrupt_gzip_member_is_skipped(tmp_path: Path) -> None:
    recs = [GOOD, MIDDLE, OTHER]
    members = member_offsets(recs)
    data = flip_byte(warc_bytes(recs, "record"), members[1][0] + 40)
    seen, problems = read(write(tmp_path, "corrupt.warc.gz", data))
    assert facts_of(seen) == expected([GOOD, OTHER])
    ((offset, reason),) = problems
    assert offset == members[1][0]
    assert reason.startswith("unreadable gzip member: corrupt gzip data")
    assert reason.endswith(f"to offset {members[2][0]}")


def test_a_corrupt_first_member_leaves_the_rest_readable(tmp_path: Path) -> None:
    recs = [GOOD, MIDDLE, OTHER]
    path = write(tmp_path, "first.warc.gz", flip_byte(warc_bytes(recs, "record"), 40))
    assert detect_format(path).compression == "gzip"
    seen, problems = read(path)
    assert facts_of(seen) == expected([MIDDLE, OTHER])
    assert [o for o, _ in problems] == [0]


def test_a_failed_crc_in_a_whole_gzip_stream_loses_no_record(tmp_path: Path) -> None:
    # A flipped byte inside stored (incompressible) data passes inflate and fails the CRC-32
    # at the end of the stream: every record is still read, the damage is reported.
    recs = [resource("http://big.test/", os.urandom(100_000), D), MIDDLE, OTHER]
    data = warc_bytes(recs, "whole")
    seen, problems = read(write(tmp_path, "crc.warc.gz", flip_byte(data, 50_000)))
    assert [s.target_uri for s in seen] == [r.get("WARC-Target-URI") for r in recs]
    total = len(warc_bytes(recs, "none"))
    assert problems == [
        (
            total,
            "gzip member fails its CRC-32 or size check: its data is damaged "
            "(the member ending here)",
        )
    ]


def test_record_length_is_refused_once_the_reader_moved_on(tmp_path: Path) -> None:
    path = write(tmp_path, "two.warc", warc_bytes([GOOD, OTHER], "none"))
    records = []
    for record in ArchiveReader(path):
        records.append(record)
    with pytest.raises(RuntimeError, match="moved on"):
        _ = records[0].length


DAMAGE_LAYOUTS = ["record", "none", "whole"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    compression=st.sampled_from(DAMAGE_LAYOUTS),
    damage=st.sampled_from(["truncate", "flip", "both"]),
    where=st.floats(0, 1, exclude_max=True),
    also=st.floats(0, 1, exclude_max=True),
)
def test_damaged_files_never_raise_out_of_iteration(
    compression: Any, damage: str, where: float, also: float
) -> None:
    data = warc_bytes(CRAWL, compression)
    if damage in ("flip", "both"):
        data = flip_byte(data, int(where * len(data)))
    if damage in ("truncate", "both"):
        data = truncate(data, max(1, int(also * len(data))))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.warc"
        path.write_bytes(data)
        try:
            reader = ArchiveReader(path)
        except WarcFormatError as exc:
            assert exc.offset == 0  # a file refused as a whole is refused at its start
            return
        facts = [describe_record(record) for record in reader]
    offsets = [f.offset for f in facts]
    assert offsets == sorted(set(offsets))
    for problem in reader.problems:
        assert isinstance(problem.offset, int)
        assert problem.reason.isprintable() and len(problem.reason) <= 300
    for f in facts:
        assert all(message.isprintable() for message in f.problems)


# --- the real sample files ----------------------------------------------------------------


GOOD_SAMPLES = [
    "allenai-dolma/tests/data/warc/sample-0000.warc.gz",
    "archivesunleashed-aut/src/test/resources/warc/issue-493.warc",
    "chatnoir-eu-chatnoir-resiliparse/tests/data/warcfile.warc.gz",
    "iipc-webarchive-commons/src/test/resources/org/archive/format/arc/"
    "137542-153-20111129020925-00316-kb-prod-har-003.kb.dk_truncated.arc",
]


@pytest.mark.realdata
@pytest.mark.parametrize("name", GOOD_SAMPLES, ids=lambda n: n.rsplit("/", 1)[-1])
def test_real_files_match_warcio_record_for_record(shared_warcs: Path, name: str) -> None:
    path = shared_warcs / name
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, arc2warc=False)
        oracle = []
        for record in it:
            uri = record.rec_headers.get_header(
                "uri" if record.format == "arc" else "WARC-Target-URI"
            )
            oracle.append((it.get_record_offset(), it.get_record_length(), uri))
    reader = ArchiveReader(path)
    # wget 1.19+ wrote <...> around WARC-Target-URI; warcio drops them, archive.records too.
    got = [(r.offset, r.length, r.target_uri and r.target_uri.strip("<>")) for r in reader]
    assert got == oracle
    assert reader.problems == []


@pytest.mark.realdata
def test_the_clipped_real_record_is_reported_truncated(shared_warcs: Path) -> None:
    path = shared_warcs / "chatnoir-eu-chatnoir-resiliparse/tests/data/clipped.warc.gz"
    seen, problems = read(path)
    assert len(seen) == 1 and seen[0].shortfall == 88275 - 75207
    assert problems == [
        (
            0,
            "record truncated: block has 75207 of 88275 bytes "
            "(the file ends inside its gzip member)",
        )
    ]


@pytest.mark.parametrize(
    ("compression", "layout"), [("record", "gzip"), ("none", "none"), ("whole", "gzip-stream")]
)
def test_open_records_reads_chosen_records_opening_the_file_once(
    tmp_path: Path, compression: Any, layout: Any
) -> None:
    records = [
        response(f"http://a.test/{n}", f"<p>page {n}</p>".encode() * (n + 1), D) for n in range(6)
    ]
    path = tmp_path / "w.warc"
    path.write_bytes(warc_bytes(records, compression))
    offsets = [r.offset for r in ArchiveReader(path)]
    chosen = offsets[1::2]
    # A block left unread is skipped, in every layout.
    seen = [(r.offset, r.target_uri) for r in open_records(path, layout, chosen)]
    assert seen == [(o, f"http://a.test/{n}") for n, o in enumerate(offsets) if o in chosen]
    blocks = [r.block.read() for r in open_records(path, layout, chosen)]
    assert blocks == [records[n].block for n in range(1, 6, 2)]
    with pytest.raises(WarcFormatError, match="no readable record here"):
        list(open_records(path, layout, [offsets[1] + 3]))
    if layout == "gzip-stream":
        with pytest.raises(ValueError, match="ascend"):
            list(open_records(path, layout, [offsets[3], offsets[1]]))
