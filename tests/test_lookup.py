"""Provenance lookups by URL, payload and record id; payloads read back and checked; stats."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcbuilder import (
    Rec,
    exchange,
    metadata,
    resource,
    response,
    revisit_of,
    warc_bytes,
    warcinfo,
    write_warc,
)
from warcio.archiveiterator import ArchiveIterator

from archive.catalog import Catalog, catalog_stats
from archive.errors import ArchiveError, RecordNotFound, SourceChangedError, SourceError
from archive.ingest import ingest
from archive.lookup import (
    Capture,
    digest_status,
    find_records,
    lookup_file,
    lookup_payload,
    lookup_url,
    surt_prefixes,
)
from archive.readback import read_payload

STORY = b"<html><p>The river festival returns on Saturday.</p></html>"
LETTER = b"<html><p>Subscribe to our letter.</p></html>"
FEED = b"<rss>" + b"<item>festival</item>" * 400 + b"</rss>"

ARTICLE = response("http://a.test/news/story", STORY, "2019-05-04T10:00:00Z")
# The same payload captured again, later, and once with no date at all.
AGAIN = response("https://a.test/news/story", STORY, "2023-01-02T03:04:05.5Z")
UNDATED = response("http://b.test/copy", STORY, "2001-01-01T00:00:00Z").without("WARC-Date")
REVISIT = revisit_of(ARTICLE, "2024-02-01T00:00:00Z")
CHUNKED = response("http://a.test/feed.xml", FEED, "2020-07-01T00:00:00Z", chunked=[100, 1000])

FIRST_FILE = [
    warcinfo({"software": "tests/1"}, "2019-05-04T10:00:00Z"),
    *exchange(ARTICLE),
    response("http://a.test/newsletter", LETTER, "2020-01-01T00:00:00Z"),
    response("http://www.a.test/", b"home", "2021-01-01T00:00:00Z"),
    response("http://a.test:8080/admin", b"admin", "2022-01-01T00:00:00Z"),
    response("http://sub.a.test/x", b"sub", "2018-01-01T00:00:00Z"),
    response("http://b.test/", b"bee", "2019-01-01T00:00:00Z"),
    metadata("http://a.test/news/story", b"via: nowhere\r\n", "2019-05-04T10:00:00Z"),
]
SECOND_FILE = [
    UNDATED,
    AGAIN,
    REVISIT,
    CHUNKED,
    resource("urn:x-test:notes", b"notes", "2019-06-01T00:00:00Z"),
]


def urls(captures: list[Capture]) -> list[tuple[str | None, str | None]]:
    return [(c.row.record.target_uri, c.to_dict()["capture_time"]) for c in captures]


@pytest.fixture(scope="module")
def warcs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("warcs")
    return [
        write_warc(folder / "first.warc.gz", FIRST_FILE),
        write_warc(folder / "second.warc", SECOND_FILE),
    ]


@pytest.fixture
def filled(catalog: Catalog, warcs: list[Path]) -> Catalog:
    reports = list(ingest(catalog, [str(p) for p in warcs]))
    assert [r.status for r in reports] == ["complete", "partial"]  # UNDATED is reported
    return catalog


# -- by URL ----------------------------------------------------------------------------------------


def test_exact_url_finds_every_capture_of_it_oldest_first(filled: Catalog) -> None:
    # SURT keys drop the scheme: http and https captures of one URL are one key.
    assert urls(lookup_url(filled, "http://a.test/news/story")) == [
        ("http://a.test/news/story", "2019-05-04T10:00:00Z"),
        ("https://a.test/news/story", "2023-01-02T03:04:05.5Z"),
        ("http://a.test/news/story", "2024-02-01T00:00:00Z"),
    ]
    assert [c.row.record.record_type for c in lookup_url(filled, "HTTPS://A.TEST/news/story")] == [
        "response",
        "response",
        "revisit",
    ]


def test_requests_and_metadata_are_not_captures(filled: Catalog) -> None:
    types = {c.row.record.record_type for c in lookup_url(filled, "a.test", match="domain")}
    assert types == {"response", "revisit"}


def test_prefix_match_respects_a_trailing_slash(filled: Catalog) -> None:
    assert {u for u, _ in urls(lookup_url(filled, "http://a.test/news/", match="prefix"))} == {
        "http://a.test/news/story",
        "https://a.test/news/story",
    }
    assert {u for u, _ in urls(lookup_url(filled, "http://a.test/news", match="prefix"))} == {
        "http://a.test/news/story",
        "https://a.test/news/story",
        "http://a.test/newsletter",
    }


def test_host_match_takes_ports_and_www_but_not_subdomains(filled: Catalog) -> None:
    found = {u for u, _ in urls(lookup_url(filled, "http://a.test/", match="host"))}
    assert found == {
        "http://a.test/news/story",
        "https://a.test/news/story",
        "http://a.test/newsletter",
        "http://www.a.test/",
        "http://a.test:8080/admin",
        "http://a.test/feed.xml",
    }


def test_domain_match_adds_subdomains_only(filled: Catalog) -> None:
    found = {u for u, _ in urls(lookup_url(filled, "https://a.test/anything", match="domain"))}
    assert "http://sub.a.test/x" in found
    assert not any("b.test" in u for u in found if u)
    assert len(found) == 7


def test_time_window_is_from_inclusive_to_exclusive(filled: Catalog) -> None:
    since = datetime(2019, 5, 4, 10, tzinfo=UTC)
    until = datetime(2024, 2, 1, tzinfo=UTC)
    got = lookup_url(filled, "http://a.test/news/story", since=since, until=until)
    assert urls(got) == [
        ("http://a.test/news/story", "2019-05-04T10:00:00Z"),
        ("https://a.test/news/story", "2023-01-02T03:04:05.5Z"),
    ]


def test_limit_keeps_the_oldest(filled: Catalog) -> None:
    got = lookup_url(filled, "a.test", match="domain", limit=2)
    assert [c.to_dict()["capture_time"] for c in got] == [
        "2018-01-01T00:00:00Z",
        "2019-05-04T10:00:00Z",
    ]


def test_surt_prefixes() -> None:
    assert surt_prefixes("http://www.Example.com/A?b=2&a=1", "exact") == ["com,example)/a?a=1&b=2"]
    assert surt_prefixes("http://example.com/news/", "prefix") == ["com,example)/news/"]
    assert surt_prefixes("http://example.com/", "prefix") == ["com,example)/"]
    assert surt_prefixes("http://example.com:81/x", "host") == ["com,example)", "com,example:"]
    assert surt_prefixes("http://example.com/x", "domain") == [
        "com,example)",
        "com,example:",
        "com,example,",
    ]


# -- by payload ------------------------------------------------------------------------------------


def test_payload_lookup_gives_the_earliest_dated_capture_first(filled: Catalog) -> None:
    got = lookup_payload(filled, hashlib.sha256(STORY).hexdigest())
    # Revisits carry no payload of their own; the undated copy comes last on both backends.
    assert urls(got) == [
        ("http://a.test/news/story", "2019-05-04T10:00:00Z"),
        ("https://a.test/news/story", "2023-01-02T03:04:05.5Z"),
        ("http://b.test/copy", None),
    ]
    upper = "SHA256:" + hashlib.sha256(STORY).hexdigest().upper()
    assert [c.to_dict() for c in lookup_payload(filled, upper)] == [c.to_dict() for c in got]


def test_file_lookup_hashes_the_file(filled: Catalog, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(FEED)
    (capture,) = lookup_file(filled, page)
    assert capture.row.record.target_uri == "http://a.test/feed.xml"
    page.write_bytes(b"never captured")
    assert lookup_file(filled, page) == []
    with pytest.raises(ArchiveError, match="cannot read"):
        lookup_file(filled, tmp_path / "missing.html")


@pytest.mark.parametrize("value", ["abc", "z" * 64, hashlib.sha1(b"").hexdigest()])
def test_a_malformed_sha256_is_refused(filled: Catalog, value: str) -> None:
    with pytest.raises(ArchiveError, match="not a SHA-256"):
        lookup_payload(filled, value)


# -- by id, and what a capture says ----------------------------------------------------------------


def test_records_are_found_by_catalog_id_or_warc_record_id(filled: Catalog) -> None:
    (by_warc_id,) = find_records(filled, ARTICLE.id)  # with its angle brackets
    (bare,) = find_records(filled, ARTICLE.id.strip("<>"))
    (by_id,) = find_records(filled, str(bare.row.record.id))
    assert by_warc_id.to_dict() == bare.to_dict() == by_id.to_dict()
    for missing in ("999999", "urn:uuid:nothing", "9" * 30):
        with pytest.raises(RecordNotFound, match="no record"):
            find_records(filled, missing)


def test_a_capture_as_json(filled: Catalog, warcs: list[Path]) -> None:
    (capture,) = find_records(filled, ARTICLE.id)
    data = capture.to_dict()
    offset = [o for o, _ in _warcio_index(warcs[0])][2]
    assert data == {
        "id": capture.row.record.id,
        "warc_record_id": ARTICLE.id.strip("<>"),
        "url": "http://a.test/news/story",
        "capture_time": "2019-05-04T10:00:00Z",
        "record_type": "response",
        "status": 200,
        "mime": "text/html",
        "warc_file": str(warcs[0]),
        "warc_sha256": hashlib.sha256(warcs[0].read_bytes()).hexdigest(),
        "offset": offset,
        "length": dict(_warcio_index(warcs[0]))[offset],
        "payload_sha256": hashlib.sha256(STORY).hexdigest(),
        "payload_length": len(STORY),
        "digest_status": "ok",
        "label": "pre",
        "evidence": {
            "kind": "captured",
            "id": capture.row.record.id,
            "warc_file": str(warcs[0]),
            "offset": offset,
            "capture_time": "2019-05-04T10:00:00Z",
        },
    }
    details = capture.details(filled)
    assert details["surt"] == "test,a)/news/story"
    assert details["block_digest_status"] == details["payload_digest_status"] == "ok"
    assert details["warc_compression"] == "gzip" and details["problems"] == []
    (undated,) = find_records(filled, UNDATED.id)
    assert undated.to_dict()["capture_time"] is None
    assert undated.details(filled)["problems"] == ["missing WARC-Date"]


def _warcio_index(path: Path) -> list[tuple[int, int]]:
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        return [(it.get_record_offset(), it.get_record_length()) for _ in it]


@pytest.mark.parametrize(
    ("block", "payload", "verdict"),
    [
        ("ok", "ok", "ok"),
        ("ok", "mismatch", "mismatch"),
        ("unsupported", "ok", "unsupported"),
        ("absent", "not-applicable", "absent"),
        ("absent", "absent", "absent"),
    ],
)
def test_digest_status_takes_the_worst_verdict(block: str, payload: str, verdict: str) -> None:
    assert digest_status(block, payload) == verdict


# -- reading a payload back ------------------------------------------------------------------------


def cat(catalog: Catalog, identifier: str) -> bytes:
    out = io.BytesIO()
    read_payload(catalog, identifier, out)
    return out.getvalue()


def test_cat_gives_the_payload_and_the_dechunked_body(filled: Catalog) -> None:
    assert cat(filled, ARTICLE.id) == STORY
    assert cat(filled, CHUNKED.id) == FEED
    assert cat(filled, SECOND_FILE[-1].id) == b"notes"


def test_cat_of_a_revisit_names_its_original(filled: Catalog) -> None:
    with pytest.raises(ArchiveError, match=f"original is {ARTICLE.id.strip('<>')}"):
        cat(filled, REVISIT.id)


@pytest.mark.parametrize("compression", ["record", "none", "whole"])
def test_cat_reads_every_layout(catalog: Catalog, tmp_path: Path, compression: str) -> None:
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(warc_bytes(SECOND_FILE[1:], compression))  # type: ignore[arg-type]
    list(ingest(catalog, [str(path)]))
    assert cat(catalog, AGAIN.id) == STORY
    assert cat(catalog, CHUNKED.id) == FEED


def _one_file(catalog: Catalog, tmp_path: Path, recs: list[Rec], name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(
        warc_bytes(recs, "whole" if name.endswith(".gz") and len(recs) > 1 else "none")
    )
    (report,) = ingest(catalog, [str(path)])
    assert report.status == "complete"
    return path


def test_cat_of_a_moved_file_says_so(catalog: Catalog, tmp_path: Path) -> None:
    path = _one_file(catalog, tmp_path, [ARTICLE], "a.warc")
    path.rename(tmp_path / "moved.warc")
    with pytest.raises(SourceError, match=r"a\.warc: cannot open the WARC file .*moved"):
        cat(catalog, ARTICLE.id)


def test_cat_of_a_file_overwritten_with_other_bytes_of_its_size(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = _one_file(catalog, tmp_path, [ARTICLE, CHUNKED], "a.warc")
    other = warc_bytes([ARTICLE.with_field("WARC-Date", "2019-05-04T10:00:01Z")], "none")
    data = path.read_bytes()
    # Same size, same record layout, one payload byte different.
    changed = data.replace(b"river festival", b"river carnival")
    assert len(changed) == len(data) and changed != data and len(other) != len(data)
    path.write_bytes(changed)
    with pytest.raises(SourceChangedError, match="changed since it was ingested"):
        cat(catalog, ARTICLE.id)
    path.write_bytes(bytes(len(data)))
    with pytest.raises(SourceChangedError, match="changed since it was ingested"):
        cat(catalog, ARTICLE.id)
    path.write_bytes(data + b"\r\n")
    with pytest.raises(SourceChangedError, match="the catalog recorded"):
        cat(catalog, ARTICLE.id)


def test_cat_of_a_changed_whole_gzip_file(catalog: Catalog, tmp_path: Path) -> None:
    path = _one_file(catalog, tmp_path, [ARTICLE, CHUNKED], "a.warc.gz")
    raw = gzip.decompress(path.read_bytes()).replace(b"river festival", b"liver festival")
    changed = gzip.compress(raw, mtime=0)  # other bytes, the same size
    assert len(changed) == path.stat().st_size
    path.write_bytes(changed)
    with pytest.raises(SourceChangedError, match="changed since it was ingested"):
        cat(catalog, ARTICLE.id)
    assert cat(catalog, CHUNKED.id) == FEED  # the other record is untouched


def test_nothing_is_written_when_the_check_fails(catalog: Catalog, tmp_path: Path) -> None:
    path = _one_file(catalog, tmp_path, [ARTICLE], "a.warc")
    path.write_bytes(path.read_bytes().replace(b"Saturday", b"Thursday"))
    out = io.BytesIO()
    with pytest.raises(SourceChangedError):
        read_payload(catalog, ARTICLE.id, out)
    assert out.getvalue() == b""


def test_cat_follows_a_copy_only_when_it_is_where_the_catalog_says(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = _one_file(catalog, tmp_path, [ARTICLE], "a.warc")
    shutil.copy(path, tmp_path / "copy.warc")
    path.unlink()
    with pytest.raises(SourceError):
        cat(catalog, ARTICLE.id)


# -- stats -----------------------------------------------------------------------------------------


def test_stats_count_files_records_years_digests_hosts(filled: Catalog) -> None:
    stats = catalog_stats(filled, top=3)
    assert (stats.files, stats.files_by_status) == (2, {"complete": 1, "partial": 1})
    assert stats.records == len(FIRST_FILE) + len(SECOND_FILE)
    assert stats.records_by_type == {
        "metadata": 1,
        "request": 1,
        "resource": 1,
        "response": 9,
        "revisit": 1,
        "warcinfo": 1,
    }
    assert stats.captures_by_year == {
        "2018": 1,
        "2019": 3,
        "2020": 2,
        "2021": 1,
        "2022": 1,
        "2023": 1,
        "2024": 1,
    }
    assert stats.payload_digests["not-applicable"] == 1
    # www. is not part of a SURT host; a port is.
    assert stats.top_hosts == [("test,a", 6), ("test,b", 2), ("test,a,sub", 1)]
    assert stats.errors == 1
    # The undated copy and the 2023 copy of STORY rest on the 2019 capture of the same bytes.
    assert stats.cutoff.name == "chatgpt"
    assert stats.captures_by_label == {"pre": 10}
    assert stats.captures_by_evidence == {"captured": 7, "same-payload": 2, "revisit": 1}
    assert stats.dangling_revisits == 0


def test_stats_of_an_empty_catalog(catalog: Catalog) -> None:
    stats = catalog_stats(catalog)
    assert (stats.files, stats.records, stats.top_hosts, stats.errors) == (0, 0, [], 0)
