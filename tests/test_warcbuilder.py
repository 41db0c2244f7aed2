"""The WARC fixture builder is a correct oracle: warcio reads what it writes as it means it.

Several tests pin warcio behaviour archivist has to work around (chunked payload digests,
whole-file gzip, silently truncated records); if warcio changes, these say so first.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from warcbuilder import (
    Compression,
    Rec,
    arc_bytes,
    arc_response,
    chunk,
    exchange,
    flip_byte,
    member_offsets,
    metadata,
    record_offsets,
    resource,
    response,
    revisit_of,
    sha1_b32,
    sha256_b32,
    sha256_hex,
    truncate,
    warc_bytes,
    warcinfo,
    write_warc,
)
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

D1 = "2019-03-14T09:00:00Z"
D2 = "2021-06-02T12:30:00Z"
BODY = b"<html><body><p>The river cleanup drew ninety volunteers.</p></body></html>"


def sample_records() -> list[Rec]:
    """One of each record type a crawl holds."""
    page = response("http://news.example.org/a.html", BODY, D1)
    return [
        warcinfo({"software": "archivist-tests/1", "isPartOf": "t"}, D1, "t.warc.gz"),
        *exchange(page),
        metadata("http://news.example.org/a.html", b"outlink: http://x.test/\r\n", D1),
        resource("http://news.example.org/notes.txt", b"plain text\n", D1),
        revisit_of(page, D2),
    ]


def read_all(data: bytes, **options: bool) -> list[tuple[ArcWarcRecord, bytes]]:
    """Every record warcio finds in ``data`` with its content (de-chunked) read to the end."""
    return [(r, r.content_stream().read()) for r in ArchiveIterator(io.BytesIO(data), **options)]


def digest_problems(data: bytes) -> list[list[str]]:
    """warcio's digest problems for each record of ``data``."""
    return [r.digest_checker.problems for r, _ in read_all(data, check_digests=True)]


@pytest.mark.parametrize("compression", ["record", "none"])
def test_warcio_reads_types_urls_and_dates(compression: Compression) -> None:
    recs = sample_records()
    got = read_all(warc_bytes(recs, compression))
    assert [r.rec_type for r, _ in got] == [
        "warcinfo",
        "request",
        "response",
        "metadata",
        "resource",
        "revisit",
    ]
    assert [r.rec_headers.get_header("WARC-Target-URI") for r, _ in got] == [
        rec.get("WARC-Target-URI") for rec in recs
    ]
    assert [r.rec_headers.get_header("WARC-Date") for r, _ in got] == [D1] * 5 + [D2]
    assert got[2][1] == BODY
    assert got[2][0].http_headers.get_statuscode() == "200"


def test_request_and_revisit_point_at_the_response() -> None:
    _, req, resp, *_, rev = sample_records()
    assert req.get("WARC-Concurrent-To") == resp.id
    assert rev.get("WARC-Refers-To") == resp.id
    assert rev.get("WARC-Refers-To-Date") == D1
    assert rev.get("WARC-Payload-Digest") == sha1_b32(BODY)


def test_record_ids_are_deterministic_and_distinct() -> None:
    assert sample_records() == sample_records()
    ids = [rec.id for rec in sample_records()]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("compression", ["record", "none"])
def test_auto_digests_pass_warcio_check(compression: Compression) -> None:
    data = warc_bytes(sample_records(), compression)
    assert digest_problems(data) == [[]] * 6


@given(body=st.binary(max_size=3000))
def test_auto_digests_pass_warcio_for_any_body(body: bytes) -> None:
    recs = [response("http://a.test/", body, D1), resource("http://a.test/r", body, D1)]
    assert digest_problems(warc_bytes(recs)) == [[], []]


def test_wrong_digests_fail_warcio_check() -> None:
    wrong = response("http://a.test/", BODY, D1, payload_digest=sha1_b32(b"other"))
    assert digest_problems(warc_bytes([wrong])) == [[f"payload digest failed {sha1_b32(b'other')}"]]
    flipped = warc_bytes([response("http://a.test/", BODY, D1)], "none")
    assert digest_problems(flip_byte(flipped, len(flipped) - 10))[0] != []


def test_warcio_accepts_sha256_in_hex_and_base32() -> None:
    recs = [
        response("http://a.test/", BODY, D1, payload_digest=sha256_hex(BODY), block_digest=None),
        response("http://a.test/", BODY, D1, payload_digest=sha256_b32(BODY), block_digest=None),
    ]
    assert digest_problems(warc_bytes(recs)) == [[], []]


def test_warcio_checks_chunked_payload_digest_over_stored_bytes() -> None:
    """warcio hashes the payload as stored, chunk framing included, not the entity (§6.3.2)."""
    entity = response("http://a.test/", BODY, D1, chunked=[10, 20])
    stored = response("http://a.test/", BODY, D1, chunked=[10, 20], payload_digest="stored")
    assert entity.get("WARC-Payload-Digest") == sha1_b32(BODY)
    assert stored.get("WARC-Payload-Digest") == sha1_b32(chunk(BODY, [10, 20]))
    problems = digest_problems(warc_bytes([entity, stored]))
    assert problems == [[f"payload digest failed {sha1_b32(BODY)}"], []]
    # Reading the content de-chunks, whichever digest was declared.
    assert [content for _, content in read_all(warc_bytes([entity, stored]))] == [BODY, BODY]


@given(body=st.binary(max_size=2000), sizes=st.lists(st.integers(1, 300), max_size=8))
def test_chunk_round_trips_through_warcio(body: bytes, sizes: list[int]) -> None:
    framed = chunk(body, sizes)
    assert framed.endswith(b"0\r\n\r\n")
    assert ChunkedDataReader(io.BytesIO(framed), raise_exceptions=True).read() == body


def test_record_offsets_match_gzip_members() -> None:
    recs = sample_records()
    data = warc_bytes(recs, "record")
    offsets = member_offsets(recs)
    assert record_offsets(data) == offsets
    for (offset, length), rec in zip(offsets, recs, strict=True):
        assert gzip.decompress(data[offset : offset + length]) == rec.to_bytes()


def test_record_offsets_of_plain_file_exclude_the_trailing_blank_lines() -> None:
    recs = sample_records()
    expected, pos = [], 0
    for rec in recs:
        expected.append((pos, len(rec.to_bytes()) - len(b"\r\n\r\n")))
        pos += len(rec.to_bytes())
    assert record_offsets(warc_bytes(recs, "none")) == expected


def test_warcio_refuses_whole_file_gzip() -> None:
    data = warc_bytes(sample_records(), "whole")
    assert gzip.decompress(data) == warc_bytes(sample_records(), "none")
    with pytest.raises(ArchiveLoadFailed, match="non-chunked gzip"):
        read_all(data)


def test_content_length_is_the_exact_block_length() -> None:
    rec = response("http://a.test/", BODY, D1, chunked=True)
    head, _, rest = rec.to_bytes().partition(b"\r\n\r\n")
    assert f"Content-Length: {len(rec.block)}".encode() in head
    assert rest == rec.block + b"\r\n\r\n"


@pytest.mark.parametrize("version", ["WARC/0.17", "WARC/0.18", "WARC/1.1"])
def test_warcio_reads_other_versions(version: str) -> None:
    (got,) = read_all(warc_bytes([response("http://a.test/", BODY, D1).with_version(version)]))
    assert got[0].rec_headers.protocol == version


def test_warcio_refuses_unknown_version() -> None:
    with pytest.raises(ArchiveLoadFailed, match="Unknown archive format"):
        read_all(warc_bytes([response("http://a.test/", BODY, D1).with_version("WARC/2.0")]))


def test_warcio_reads_lower_case_field_names() -> None:
    rec = response("http://a.test/", BODY, D1).lowercased()
    assert b"\r\nwarc-type: response\r\n" in rec.to_bytes()
    ((got, content),) = read_all(warc_bytes([rec]), check_digests=True)
    assert got.rec_type == "response" and content == BODY
    assert got.digest_checker.problems == []


def test_warcio_drops_a_header_line_without_colon() -> None:
    rec = response("http://a.test/", BODY, D1).with_line("this line has no colon")
    ((got, _),) = read_all(warc_bytes([rec]))
    assert all("colon" not in name for name, _ in got.rec_headers.headers)


def test_warcio_passes_odd_values_through() -> None:
    recs = [
        response("http://[::1", BODY, "yesterday"),
        resource("http://a.test/", BODY, D1).with_field("WARC-Type", "bogus"),
        response("http://a.test/", BODY, D1, payload_digest="md7:AAAA"),
    ]
    got = [r for r, _ in read_all(warc_bytes(recs), check_digests=True)]
    assert got[0].rec_headers.get_header("WARC-Target-URI") == "http://[::1"
    assert got[0].rec_headers.get_header("WARC-Date") == "yesterday"
    assert got[1].rec_type == "bogus"
    assert got[2].digest_checker.problems == ["unknown hash algorithm name in payload digest"]


def test_cut_short_record_declares_more_than_it_holds() -> None:
    rec = response("http://a.test/", BODY, D1).cut_short(100)
    assert rec.get("Content-Length") == str(len(rec.block) + 100)
    assert rec.to_bytes().endswith(BODY)


def test_warcio_does_not_flag_a_truncated_last_record() -> None:
    """A block cut short never reaches its declared end, so warcio never compares digests."""
    data = warc_bytes([response("http://a.test/", BODY, D1).cut_short(100)], "none")
    ((got, content),) = read_all(data, check_digests=True)
    assert content == BODY
    assert got.digest_checker.problems == [] and got.digest_checker.passed is None


def test_truncate_cuts_a_gzip_member() -> None:
    data = warc_bytes(sample_records(), "record")
    assert truncate(data, -5) == data[:-5]
    with pytest.raises(EOFError):
        gzip.decompress(truncate(data, -5))


def test_write_warc_infers_compression_from_the_name(tmp_path: Path) -> None:
    recs = sample_records()
    gz = write_warc(tmp_path / "a.warc.gz", recs)
    plain = write_warc(tmp_path / "a.warc", recs)
    assert gz.read_bytes() == warc_bytes(recs, "record")
    assert plain.read_bytes() == warc_bytes(recs, "none")


@pytest.mark.parametrize("compression", ["record", "none"])
def test_warcio_reads_arc_files(compression: Literal["record", "none"]) -> None:
    recs = [
        arc_response("http://a.test/", BODY, "20010203040506"),
        arc_response(
            "http://a.test/logo.gif", b"GIF89a\x01\x00", "20010203040507", mime="image/gif"
        ),
    ]
    data = arc_bytes(recs, compression=compression)
    got = read_all(data, arc2warc=True)
    assert [r.rec_type for r, _ in got] == ["warcinfo", "response", "response"]
    assert got[1][0].rec_headers.get_header("WARC-Target-URI") == "http://a.test/"
    assert got[1][0].rec_headers.get_header("WARC-Date") == "2001-02-03T04:05:06Z"
    assert [content for _, content in got[1:]] == [BODY, b"GIF89a\x01\x00"]
