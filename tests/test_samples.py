"""The sample WARC set is reproducible, valid, and holds the evidence the demo relies on."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcbuilder import sha1_b32
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from archive.samples import write_samples

CUTOFF = datetime(2022, 11, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def samples(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, list[tuple[ArcWarcRecord, bytes]]]:
    """Every record of every sample file, with its content read (de-chunked), by file name."""
    out: dict[str, list[tuple[ArcWarcRecord, bytes]]] = {}
    for path in write_samples(tmp_path_factory.mktemp("samples")):
        with path.open("rb") as fh:
            it = ArchiveIterator(fh, check_digests=True)
            out[path.name] = [(r, r.content_stream().read()) for r in it]
    return out


def header(record: ArcWarcRecord, name: str) -> str:
    value = record.rec_headers.get_header(name)
    assert isinstance(value, str), name
    return value


def test_write_samples_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first = write_samples(tmp_path / "a")
    second = write_samples(tmp_path / "b")
    assert [p.name for p in first] == [
        "2019-example-news.warc.gz",
        "2021-example-blog.warc",
        "2024-example-recrawl.warc.gz",
    ]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_gzip_files_have_one_member_per_record(tmp_path: Path) -> None:
    for path in write_samples(tmp_path):
        data = path.read_bytes()
        with path.open("rb") as fh:
            count = sum(1 for _ in ArchiveIterator(fh))
        if path.suffix == ".gz":
            assert data.count(b"\x1f\x8b\x08\x00\x00\x00\x00\x00") == count
        else:
            assert data.startswith(b"WARC/1.0\r\n")


def test_sizes_and_shape(samples: dict[str, list[tuple[ArcWarcRecord, bytes]]]) -> None:
    assert 35 <= sum(len(records) for records in samples.values()) <= 50
    for records in samples.values():
        info = records[0][0]
        assert info.rec_type == "warcinfo"
        fields = records[0][1].decode()
        assert "software: archivist-samples/1\r\n" in fields
        assert "operator: " in fields and "isPartOf: " in fields
        types = [r.rec_type for r, _ in records]
        # Every response or revisit follows the request a crawler sent for it.
        for i, kind in enumerate(types):
            if kind in ("response", "revisit"):
                request = records[i - 1][0]
                assert request.rec_type == "request"
                assert header(request, "WARC-Concurrent-To") == header(
                    records[i][0], "WARC-Record-ID"
                )


def test_digests_verify(samples: dict[str, list[tuple[ArcWarcRecord, bytes]]]) -> None:
    """Every digest is right; warcio agrees except where it hashes chunk framing."""
    chunked = 0
    for records in samples.values():
        for record, content in records:
            if record.rec_type != "revisit" and record.rec_headers.get_header(
                "WARC-Payload-Digest"
            ):
                # The payload digest covers the de-chunked entity body (WARC 1.1 §6.3.2).
                assert header(record, "WARC-Payload-Digest") == sha1_b32(content)
            assert record.rec_headers.get_header("WARC-Block-Digest")
            problems = record.digest_checker.problems
            if record.http_headers and record.http_headers.get_header("Transfer-Encoding"):
                # warcio hashes the payload as stored, chunk framing included (see
                # test_warcbuilder), so it flags the spec-correct digest of a chunked body.
                chunked += 1
                assert problems == [f"payload digest failed {sha1_b32(content)}"]
            else:
                assert problems == []
    assert chunked == 1


def test_dates_fall_on_both_sides_of_the_cutoff(
    samples: dict[str, list[tuple[ArcWarcRecord, bytes]]],
) -> None:
    for name, records in samples.items():
        year = int(name[:4])
        for record, _ in records:
            date = datetime.fromisoformat(header(record, "WARC-Date"))
            assert date.year == year
            assert (date < CUTOFF) == (year < 2022)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", header(record, "WARC-Date"))


def payloads(records: list[tuple[ArcWarcRecord, bytes]]) -> dict[str, str]:
    """Payload digest -> target URI of every response."""
    return {
        header(r, "WARC-Payload-Digest"): header(r, "WARC-Target-URI")
        for r, _ in records
        if r.rec_type == "response"
    }


def test_recrawl_repeats_2019_payloads_and_adds_new_pages(
    samples: dict[str, list[tuple[ArcWarcRecord, bytes]]],
) -> None:
    old = payloads(samples["2019-example-news.warc.gz"])
    new = payloads(samples["2024-example-recrawl.warc.gz"])
    same = {old[d] for d in old.keys() & new.keys()}
    assert {
        "http://news.example.org/robots.txt",
        "http://news.example.org/static/logo.png",
        "http://news.example.org/2019/05/library-hours.html",
    } <= same
    assert "http://garden.example.com/notes/tomatoes.html" in old.values()
    assert "http://garden.example.com/notes/tomatoes.html" in new.values()  # restyled
    assert len(set(new.values()) - set(old.values())) >= 2  # pages only seen after the cutoff


def test_restyled_page_changes_markup_not_text(
    samples: dict[str, list[tuple[ArcWarcRecord, bytes]]],
) -> None:
    def page(name: str) -> bytes:
        url = "http://garden.example.com/notes/tomatoes.html"
        (content,) = [
            c
            for r, c in samples[name]
            if r.rec_type == "response" and header(r, "WARC-Target-URI") == url
        ]
        return content

    old, new = page("2019-example-news.warc.gz"), page("2024-example-recrawl.warc.gz")
    assert old != new

    def text(html: bytes) -> list[str]:
        return re.sub(r"<[^>]+>", " ", html.decode()).split()

    assert text(old) == text(new)


@pytest.mark.parametrize("name", ["2021-example-blog.warc", "2024-example-recrawl.warc.gz"])
def test_revisits_refer_to_2019_records(
    samples: dict[str, list[tuple[ArcWarcRecord, bytes]]], name: str
) -> None:
    originals = {header(r, "WARC-Record-ID"): r for r, _ in samples["2019-example-news.warc.gz"]}
    revisits = [r for r, _ in samples[name] if r.rec_type == "revisit"]
    assert revisits
    for revisit in revisits:
        original = originals[header(revisit, "WARC-Refers-To")]
        assert original.rec_type == "response"
        for field in ("Target-URI", "Date", "Payload-Digest"):
            refers = "WARC-Refers-To-" + field if field != "Payload-Digest" else "WARC-" + field
            assert header(revisit, refers) == header(original, "WARC-" + field)
        assert header(revisit, "WARC-Target-URI") == header(original, "WARC-Target-URI")


def test_record_ids_are_unique(samples: dict[str, list[tuple[ArcWarcRecord, bytes]]]) -> None:
    ids = [header(r, "WARC-Record-ID") for records in samples.values() for r, _ in records]
    assert len(ids) == len(set(ids))
