"""What describe_record finds in a record: digest verdicts, payload hash, HTTP facts, problems."""

from __future__ import annotations

import collections
import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcbuilder import (
    REVISIT_IDENTICAL_1_1,
    Rec,
    arc_bytes,
    arc_response,
    chunk,
    http_head,
    request,
    resource,
    response,
    revisit_of,
    sha1_b32,
    sha256_b32,
    sha256_hex,
    truncate,
    warc_bytes,
    warcinfo,
)

from archive.reader import ArchiveReader
from archive.records import RecordFacts, describe_record

D = "2020-01-02T03:04:05Z"
BODY = b"<html><body>The quick brown fox jumps over the lazy dog.</body></html>" * 7


def describe(recs: list[Rec], tmp_path: Path, compression: Any = "none") -> list[RecordFacts]:
    """The facts of every record of a file holding ``recs``; the reader must see no damage."""
    path = tmp_path / "t.warc"
    path.write_bytes(warc_bytes(recs, compression))
    reader = ArchiveReader(path)
    facts = [describe_record(record) for record in reader]
    assert reader.problems == []
    return facts


def one(rec: Rec, tmp_path: Path) -> RecordFacts:
    (facts,) = describe([rec], tmp_path)
    return facts


def verdicts(facts: RecordFacts) -> tuple[str, str, str | None]:
    return facts.block_digest_status, facts.payload_digest_status, facts.payload_digest_matched


# --- digest verdicts -------------------------------------------------------------------------


def test_computed_digests_verify_on_every_record_type(tmp_path: Path) -> None:
    page = response("http://a.test/", BODY, D)
    recs = [
        warcinfo({"software": "t/1"}, D),
        request("http://a.test/", D, concurrent_to=page.id),
        page,
        resource("http://a.test/log", b"log\n", D),
    ]
    facts = describe(recs, tmp_path)
    assert [verdicts(f) for f in facts] == [
        ("ok", "absent", None),
        ("ok", "absent", None),
        ("ok", "ok", "entity"),
        ("ok", "ok", "entity"),
    ]
    assert all(f.problems == () for f in facts)


def test_a_payload_digest_over_the_chunked_bytes_matches_as_stored(tmp_path: Path) -> None:
    facts = one(
        response("http://a.test/", BODY, D, chunked=[9, 50], payload_digest="stored"), tmp_path
    )
    assert verdicts(facts) == ("ok", "ok", "stored")
    assert facts.payload_sha256 == hashlib.sha256(BODY).hexdigest()
    assert facts.problems == ()


def test_a_payload_digest_over_the_dechunked_entity_matches_as_entity(tmp_path: Path) -> None:
    # WARC 1.1 §6.3.2: the payload digest is over the entity with transfer-encoding removed.
    facts = one(response("http://a.test/", BODY, D, chunked=[9, 50]), tmp_path)
    assert verdicts(facts) == ("ok", "ok", "entity")
    assert facts.payload_length == len(BODY)


def test_a_flipped_body_byte_fails_both_digests(tmp_path: Path) -> None:
    page = response("http://a.test/", BODY, D)
    raw = page.to_bytes()
    at = raw.index(b"lazy dog")
    damaged = raw[:at] + b"L" + raw[at + 1 :]
    path = tmp_path / "flipped.warc"
    path.write_bytes(damaged)
    reader = ArchiveReader(path)
    (facts,) = [describe_record(r) for r in reader]
    assert reader.problems == []
    assert verdicts(facts) == ("mismatch", "mismatch", None)
    assert facts.problems == (
        f"block digest mismatch (declared {page.get('WARC-Block-Digest')})",
        f"payload digest mismatch (declared {page.get('WARC-Payload-Digest')})",
    )
    # The hash the catalog keeps is of the bytes as they are, damage included.
    assert facts.payload_sha256 == hashlib.sha256(BODY.replace(b"lazy", b"Lazy", 1)).hexdigest()


def test_an_unknown_algorithm_is_unsupported_and_reported(tmp_path: Path) -> None:
    facts = one(response("http://a.test/", BODY, D, payload_digest="md7:ABCDEF"), tmp_path)
    assert facts.payload_digest_status == "unsupported"
    assert facts.payload_digest == "md7:ABCDEF" and facts.payload_digest_algorithm is None
    assert facts.problems == ("digest not supported: 'md7:ABCDEF'",)


def test_a_value_that_does_not_decode_is_unsupported(tmp_path: Path) -> None:
    facts = one(response("http://a.test/", BODY, D, block_digest="sha1:not-base32!"), tmp_path)
    assert facts.block_digest_status == "unsupported"
    assert facts.block_digest_algorithm == "sha1"
    assert facts.problems == ("digest not supported: 'sha1:not-base32!'",)


def test_absent_digests_are_absent_and_no_problem(tmp_path: Path) -> None:
    facts = one(
        response("http://a.test/", BODY, D, payload_digest=None, block_digest=None), tmp_path
    )
    assert verdicts(facts) == ("absent", "absent", None)
    assert (facts.block_digest, facts.payload_digest) == (None, None)
    assert facts.problems == ()
    assert facts.payload_sha256 == hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize("encode", [sha256_hex, sha256_b32], ids=["base16", "base32"])
def test_sha256_digests_in_base16_and_base32_verify(tmp_path: Path, encode: Any) -> None:
    block = http_head(
        "HTTP/1.1 200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(BODY)))]
    )
    rec = response(
        "http://a.test/",
        BODY,
        D,
        http_headers=[("Content-Type", "text/html"), ("Content-Length", str(len(BODY)))],
        payload_digest=encode(BODY),
        block_digest=encode(block + BODY),
    )
    facts = one(rec, tmp_path)
    assert verdicts(facts) == ("ok", "ok", "entity")
    assert (facts.block_digest_algorithm, facts.payload_digest_algorithm) == ("sha256", "sha256")


def test_a_revisit_has_no_payload_of_its_own(tmp_path: Path) -> None:
    original = response("http://a.test/", BODY, D)
    revisit = revisit_of(original, "2021-06-07T08:09:10Z", profile=REVISIT_IDENTICAL_1_1)
    first, second = describe([original, revisit], tmp_path)
    assert second.record_type == "revisit"
    # WARC 1.1 §6.7.2: its payload digest names the original's payload, not its own block.
    assert (second.block_digest_status, second.payload_digest_status) == ("ok", "not-applicable")
    assert second.payload_digest == original.get("WARC-Payload-Digest")
    assert (second.payload_sha256, second.payload_length, second.payload_digest_matched) == (
        None,
        None,
        None,
    )
    assert second.revisit_profile == REVISIT_IDENTICAL_1_1
    assert second.refers_to == first.warc_record_id == original.id.strip("<>")
    assert second.refers_to_target_uri == "http://a.test/"
    assert second.refers_to_date_raw == D
    assert second.refers_to_date == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert second.http_status == 200 and second.problems == ()


def test_a_revisit_without_a_payload_digest_is_absent(tmp_path: Path) -> None:
    original = response("http://a.test/", BODY, D)
    facts = one(revisit_of(original, D).without("WARC-Payload-Digest"), tmp_path)
    assert facts.payload_digest_status == "absent"


def test_an_unknown_record_type_with_an_http_block_is_one_problem(tmp_path: Path) -> None:
    # WARC 1.1 §5.6: for a type the standard does not name, Content-Type says what the block is.
    facts = one(response("http://a.test/", BODY, D).with_field("WARC-Type", "snapshot"), tmp_path)
    assert facts.record_type == "snapshot"
    assert verdicts(facts) == ("ok", "ok", "entity")
    assert facts.problems == ("unknown record type 'snapshot'",)


# --- what the catalog keeps -------------------------------------------------------------------


def test_http_facts_dates_and_keys(tmp_path: Path) -> None:
    rec = response(
        "http://www.Example.com:80/a/b?x=1",
        BODY,
        "2020-01-02T03:04:05.123456Z",
        status="404 Not Found",
        content_type="Text/HTML; charset=UTF-8",
        chunked=[10],
        last_modified="Wed, 21 Oct 2015 07:28:00 GMT",
        extra_headers=[("WARC-Truncated", "length")],
    )
    facts = one(rec, tmp_path)
    assert facts.record_type == "response"
    assert facts.warc_record_id == rec.id.strip("<>")
    assert facts.target_uri == "http://www.Example.com:80/a/b?x=1"
    assert facts.surt == "com,example)/a/b?x=1"
    assert facts.http_status == 404
    assert facts.mime == "text/html"
    assert facts.capture_time == datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert facts.date_raw == "2020-01-02T03:04:05.123456Z"
    assert facts.date_precision == "fraction"
    assert facts.last_modified_raw == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert facts.last_modified == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert facts.truncated == "length"
    assert facts.content_length == len(rec.block)
    assert facts.payload_length == len(BODY)
    assert facts.payload_sha256 == hashlib.sha256(BODY).hexdigest()
    assert facts.length == len(rec.to_bytes()) - 4  # warcio's length: the CRLF CRLF apart
    assert facts.offset == 0 and facts.problems == ()


def test_a_date_in_another_zone_becomes_utc(tmp_path: Path) -> None:
    facts = one(response("http://a.test/", BODY, "2020-01-02T03:04:05+02:00"), tmp_path)
    assert facts.capture_time == datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert facts.date_precision == "second"


def test_a_resource_takes_its_mime_from_the_warc_content_type(tmp_path: Path) -> None:
    facts = one(resource("http://a.test/x", b"plain", D, "Text/Plain; charset=ascii"), tmp_path)
    assert (facts.mime, facts.http_status, facts.surt) == ("text/plain", None, "test,a)/x")
    assert facts.payload_sha256 == hashlib.sha256(b"plain").hexdigest()


def test_warcinfo_fields_are_parsed(tmp_path: Path) -> None:
    info = warcinfo(
        {"software": "Heritrix/3.4", "operator": "Archive Team", "isPartOf": "crawl-2020"}, D
    )
    facts = one(info, tmp_path)
    assert facts.record_type == "warcinfo" and facts.target_uri is None and facts.surt is None
    assert facts.warcinfo == {
        "software": "Heritrix/3.4",
        "operator": "Archive Team",
        "ispartof": "crawl-2020",
    }
    assert facts.problems == ()


def test_arc_records_take_their_date_from_the_record_line(tmp_path: Path) -> None:
    path = tmp_path / "old.arc"
    path.write_bytes(arc_bytes([arc_response("http://a.test/", BODY, "20010203040506")]))
    reader = ArchiveReader(path)
    desc, page = [describe_record(r) for r in reader]
    assert reader.problems == []
    assert (desc.record_type, desc.date_raw) == ("warcinfo", "20010101000000")
    assert page.record_type == "response" and page.warc_record_id is None
    assert page.capture_time == datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert page.date_precision == "second"
    assert (page.http_status, page.mime, page.surt) == (200, "text/html", "test,a)/")
    assert page.payload_sha256 == hashlib.sha256(BODY).hexdigest()
    assert page.problems == ()


# --- problems --------------------------------------------------------------------------------


PAGE = response("http://a.test/", BODY, D)


@pytest.mark.parametrize(
    ("rec", "problem"),
    [
        (PAGE.with_field("WARC-Date", "yesterday"), "invalid date 'yesterday': not a W3C-DTF date"),
        (
            PAGE.with_field("WARC-Date", "2020-13-45T00:00:00Z"),
            "invalid date '2020-13-45T00:00:00Z'",
        ),
        (PAGE.without("WARC-Date"), "missing WARC-Date"),
        (PAGE.without("WARC-Record-ID"), "missing WARC-Record-ID"),
        (PAGE.with_field("WARC-Record-ID", "<>"), "missing WARC-Record-ID"),
        (PAGE.without("WARC-Type"), "missing WARC-Type"),
        (
            resource("http://a.test/", b"x", D).with_field("WARC-Type", "snapshot"),
            "unknown record type 'snapshot'",
        ),
        (response("http://[::1", BODY, D), "target URI does not parse: 'http://[::1'"),
        (response("http://a.test:99999/", BODY, D), "target URI does not parse"),
    ],
)
def test_record_problems_are_reported_and_the_record_kept(
    tmp_path: Path, rec: Rec, problem: str
) -> None:
    facts = one(rec, tmp_path)
    (message,) = facts.problems
    assert message.startswith(problem)
    assert facts.block_digest_status == "ok"


def test_an_invalid_date_keeps_the_raw_string(tmp_path: Path) -> None:
    facts = one(PAGE.with_field("WARC-Date", "yesterday"), tmp_path)
    assert (facts.capture_time, facts.date_raw, facts.date_precision) == (
        None,
        "yesterday",
        "invalid",
    )


def test_an_unparsable_uri_has_no_surt_key(tmp_path: Path) -> None:
    facts = one(response("http://[::1", BODY, D), tmp_path)
    assert (facts.target_uri, facts.surt) == ("http://[::1", None)


@pytest.mark.parametrize("size", [b"-5", b"0x5", b"1_0", b"+5"])
def test_an_invalid_chunk_size_takes_the_payload_as_stored(tmp_path: Path, size: bytes) -> None:
    # RFC 9112 §7.1: chunk-size is hex digits only; Python's int(x, 16) would take these.
    stored = size + b"\r\nhello\r\n0\r\n\r\n"
    rec = response(
        "http://a.test/",
        stored,
        D,
        http_headers=[("Transfer-Encoding", "chunked")],
        payload_digest=sha1_b32(stored),
    )
    facts = one(rec, tmp_path)
    assert facts.payload_sha256 == hashlib.sha256(stored).hexdigest()
    assert facts.payload_digest_status == "ok"
    assert facts.problems == (
        f"invalid chunked transfer-encoding (invalid chunk size {size!r}): payload taken as stored",
    )


@pytest.mark.parametrize(("status", "code"), [("²00 OK", None), ("2000 OK", None), ("204", 204)])
def test_a_status_code_is_three_ascii_digits(tmp_path: Path, status: str, code: int | None) -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode("latin-1")
    rec = Rec(
        (
            ("WARC-Type", "response"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-0000-0000-000000000001>"),
            ("WARC-Date", D),
            ("WARC-Target-URI", "http://a.test/"),
            ("Content-Type", "application/http; msgtype=response"),
        ),
        head,
    )
    assert one(rec, tmp_path).http_status == code


def test_a_truncated_record_reports_mismatches_once_through_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "cut.warc"
    path.write_bytes(truncate(warc_bytes([PAGE], "none"), -30))
    reader = ArchiveReader(path)
    (facts,) = [describe_record(r) for r in reader]
    # The digests cannot match bytes that are missing; the reader says why, once.
    assert verdicts(facts) == ("mismatch", "mismatch", None)
    assert facts.problems == ()
    assert [p.reason.split(":")[0] for p in reader.problems] == ["record truncated"]


def test_a_length_declared_too_long_leaves_the_digests_of_the_bytes_there(tmp_path: Path) -> None:
    # Only Content-Length is wrong: the block present is whole and still matches its digests.
    path = tmp_path / "long.warc"
    path.write_bytes(warc_bytes([PAGE.cut_short(30)], "none"))
    reader = ArchiveReader(path)
    (facts,) = [describe_record(r) for r in reader]
    assert verdicts(facts) == ("ok", "ok", "entity")
    assert [p.reason.split(":")[0] for p in reader.problems] == ["record truncated"]


# --- invariants ------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=5000),
    # None: not chunked. warcbuilder takes an empty list as "not chunked" for the HTTP header
    # but still frames the body, so chunked bodies get at least one size.
    sizes=st.one_of(st.none(), st.lists(st.integers(1, 900), min_size=1, max_size=6)),
    compression=st.sampled_from(["record", "none", "whole"]),
    stored_digest=st.booleans(),
)
def test_payload_hash_is_the_body_hash_whatever_the_framing(
    body: bytes, sizes: list[int] | None, compression: str, stored_digest: bool
) -> None:
    chunked: bool | list[int] = False if sizes is None else sizes
    payload_digest = "stored" if stored_digest else "auto"
    rec = response("http://a.test/p", body, D, chunked=chunked, payload_digest=payload_digest)
    with tempfile.TemporaryDirectory() as tmp:
        (facts,) = describe([rec], Path(tmp), compression)
    assert facts.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert facts.payload_length == len(body)
    assert facts.block_digest_status == "ok" and facts.payload_digest_status == "ok"
    stored = chunk(body, sizes) if sizes is not None else body
    # "stored" and "auto" are the same digest unless the chunk framing changed the bytes.
    expected = "stored" if stored_digest and stored != body else "entity"
    assert facts.payload_digest_matched == expected
    assert facts.problems == ()


# --- the real sample files ----------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "block_ok", "payload_ok", "revisits"),
    [
        ("allenai-dolma/tests/data/warc/sample-0000.warc.gz", 48, 22, 0),
        ("archivesunleashed-aut/src/test/resources/warc/issue-493.warc", 30, 25, 5),
        ("chatnoir-eu-chatnoir-resiliparse/tests/data/warcfile.warc.gz", 16, 16, 0),
    ],
)
def test_real_files_verify_as_documented(
    shared_warcs: Path, name: str, block_ok: int, payload_ok: int, revisits: int
) -> None:
    reader = ArchiveReader(shared_warcs / name)
    facts = [describe_record(r) for r in reader]
    assert reader.problems == []
    blocks = collections.Counter(f.block_digest_status for f in facts)
    payloads = collections.Counter(f.payload_digest_status for f in facts)
    assert blocks["ok"] == block_ok and blocks["mismatch"] == 0
    assert payloads["ok"] == payload_ok and payloads["mismatch"] == 0
    assert payloads["not-applicable"] == revisits
    assert all(f.problems == () for f in facts)


@pytest.mark.realdata
def test_the_real_arc_file_has_a_filedesc_and_three_captures(shared_warcs: Path) -> None:
    path = next((shared_warcs / "iipc-webarchive-commons").rglob("*.arc"))
    reader = ArchiveReader(path)
    facts = [describe_record(r) for r in reader]
    assert [f.record_type for f in facts] == ["warcinfo", "response", "response", "response"]
    assert all(f.capture_time and f.capture_time.year == 2011 for f in facts)
    assert reader.problems == []


@pytest.mark.realdata
def test_the_clipped_real_record_mismatches_and_is_truncated(shared_warcs: Path) -> None:
    reader = ArchiveReader(
        shared_warcs / "chatnoir-eu-chatnoir-resiliparse/tests/data/clipped.warc.gz"
    )
    (facts,) = [describe_record(r) for r in reader]
    assert (facts.block_digest_status, facts.payload_digest_status) == ("mismatch", "mismatch")
    assert facts.capture_time == datetime(2016, 10, 17, 14, 57, 38, tzinfo=UTC)
    assert [p.reason for p in reader.problems] == [
        "record truncated: block has 75207 of 88275 bytes (the file ends inside its gzip member)"
    ]
