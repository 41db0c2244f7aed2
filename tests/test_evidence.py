"""The evidence ladder on real WARC bytes: every rung, every trap, both backends."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from warcbuilder import (
    exchange,
    metadata,
    request,
    response,
    revisit,
    revisit_of,
    sha1_b32,
    warcinfo,
    write_warc,
)

from archive.catalog import Catalog, catalog_cutoff, relabel_catalog
from archive.cutoffs import parse_cutoff
from archive.ingest import ingest_file
from archive.models import Record

PAGE = b"<html><body><p>The river festival drew four thousand people.</p></body></html>"
OTHER = b"<html><body><p>The council met on Tuesday about the new road.</p></body></html>"
_names = itertools.count()


def ingest(catalog: Catalog, tmp_path: Path, records: list, *, name: str | None = None) -> None:
    path = tmp_path / (name or f"f{next(_names)}.warc.gz")
    write_warc(path, records)
    report = ingest_file(catalog, path)
    assert report.status in ("complete", "partial"), report


def labels(catalog: Catalog) -> dict[tuple[str, str], tuple[str | None, str | None, str | None]]:
    """(url, date_raw) -> (label, evidence kind, date_raw of the evidence record)."""
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(
                Record.id,
                Record.target_uri,
                Record.date_raw,
                Record.label,
                Record.evidence_kind,
                Record.evidence_record_id,
                Record.record_type,
            )
        ).all()
    by_id = {r.id: r for r in rows}
    out = {}
    for r in rows:
        if r.record_type in ("response", "revisit", "resource"):
            basis = by_id[r.evidence_record_id].date_raw if r.evidence_record_id else None
            out[(r.target_uri, r.date_raw)] = (r.label, r.evidence_kind, basis)
    return out


def test_default_cutoff_is_chatgpt(catalog: Catalog) -> None:
    assert catalog_cutoff(catalog).name == "chatgpt"


def test_capture_at_the_cutoff_is_post_and_one_microsecond_before_is_pre(
    catalog: Catalog, tmp_path: Path
) -> None:
    ingest(
        catalog,
        tmp_path,
        [
            response("http://a.test/at", PAGE, "2022-11-30T00:00:00Z"),
            response("http://a.test/before", OTHER, "2022-11-29T23:59:59.999999Z"),
        ],
    )
    got = labels(catalog)
    assert got[("http://a.test/at", "2022-11-30T00:00:00Z")] == ("post", "none", None)
    before = "2022-11-29T23:59:59.999999Z"
    assert got[("http://a.test/before", before)] == ("pre", "captured", before)


def test_non_capture_records_carry_no_label(catalog: Catalog, tmp_path: Path) -> None:
    resp = response("http://a.test/", PAGE, "2019-01-01T00:00:00Z")
    ingest(
        catalog,
        tmp_path,
        [
            warcinfo({"software": "t"}, "2019-01-01T00:00:00Z"),
            *exchange(resp),
            metadata("http://a.test/", b"outlink: x\r\n", "2019-01-01T00:00:00Z"),
        ],
    )
    with catalog.engine.connect() as connection:
        rows = connection.execute(select(Record.record_type, Record.label)).all()
    assert {t: lbl for t, lbl in rows} == {
        "warcinfo": None,
        "request": None,
        "metadata": None,
        "response": "pre",
    }


def test_post_cutoff_copy_of_pre_payload_is_pre_in_either_order(
    catalog: Catalog, tmp_path: Path
) -> None:
    late = [response("http://mirror.test/copy", PAGE, "2024-03-01T00:00:00Z")]
    early = [response("http://a.test/orig", PAGE, "2019-06-01T00:00:00Z")]
    ingest(catalog, tmp_path, late)
    assert labels(catalog)[("http://mirror.test/copy", "2024-03-01T00:00:00Z")][0] == "post"
    ingest(catalog, tmp_path, early)
    got = labels(catalog)
    assert got[("http://mirror.test/copy", "2024-03-01T00:00:00Z")] == (
        "pre",
        "same-payload",
        "2019-06-01T00:00:00Z",
    )
    assert got[("http://a.test/orig", "2019-06-01T00:00:00Z")][:2] == ("pre", "captured")


def test_empty_payloads_are_never_same_payload_evidence(catalog: Catalog, tmp_path: Path) -> None:
    ingest(catalog, tmp_path, [response("http://a.test/e", b"", "2019-01-01T00:00:00Z")])
    ingest(catalog, tmp_path, [response("http://b.test/e", b"", "2024-01-01T00:00:00Z")])
    assert labels(catalog)[("http://b.test/e", "2024-01-01T00:00:00Z")] == ("post", "none", None)


def test_tampered_capture_is_unverified_and_is_no_evidence(
    catalog: Catalog, tmp_path: Path
) -> None:
    tampered = response(
        "http://a.test/t", PAGE, "2019-01-01T00:00:00Z", payload_digest=sha1_b32(b"not it")
    )
    ingest(catalog, tmp_path, [tampered])
    ingest(catalog, tmp_path, [response("http://b.test/t", PAGE, "2024-01-01T00:00:00Z")])
    got = labels(catalog)
    assert got[("http://a.test/t", "2019-01-01T00:00:00Z")] == ("unverified", "none", None)
    assert got[("http://b.test/t", "2024-01-01T00:00:00Z")] == ("post", "none", None)


def test_revisits_resolved_dangling_and_chained(catalog: Catalog, tmp_path: Path) -> None:
    original = response("http://a.test/r", PAGE, "2019-01-01T00:00:00Z")
    first = revisit_of(original, "2023-05-01T00:00:00Z")
    # A revisit of the revisit: a chain that resolves to the 2019 original.
    second = revisit(
        "http://a.test/r",
        "2024-05-01T00:00:00Z",
        refers_to=first.id,
        refers_to_target_uri=None,
        refers_to_date=None,
        payload_digest=None,
    )
    dangling = revisit(
        "http://a.test/gone",
        "2024-05-01T00:00:00Z",
        refers_to="<urn:uuid:00000000-0000-0000-0000-000000000000>",
        refers_to_target_uri="http://a.test/gone",
        refers_to_date="2018-01-01T00:00:00Z",
        payload_digest=sha1_b32(b"nowhere"),
    )
    ingest(catalog, tmp_path, [first, second, dangling])
    got = labels(catalog)
    assert got[("http://a.test/r", "2023-05-01T00:00:00Z")] == ("unverified", "none", None)
    ingest(catalog, tmp_path, [original])
    got = labels(catalog)
    assert got[("http://a.test/r", "2023-05-01T00:00:00Z")] == (
        "pre",
        "revisit",
        "2019-01-01T00:00:00Z",
    )
    assert got[("http://a.test/r", "2024-05-01T00:00:00Z")] == (
        "pre",
        "revisit",
        "2019-01-01T00:00:00Z",
    )
    assert got[("http://a.test/gone", "2024-05-01T00:00:00Z")] == ("unverified", "none", None)


def test_revisit_resolved_by_url_and_date_or_by_payload_digest(
    catalog: Catalog, tmp_path: Path
) -> None:
    a = response("http://a.test/u", PAGE, "2019-01-01T00:00:00Z")
    b = response("http://a.test/d", OTHER, "2019-02-01T00:00:00Z")
    by_url = revisit(
        "http://a.test/u",
        "2024-01-01T00:00:00Z",
        refers_to=None,
        refers_to_target_uri="http://a.test/u",
        refers_to_date="2019-01-01T00:00:00Z",
        payload_digest=None,
    )
    by_digest = revisit(
        "http://a.test/d",
        "2024-01-01T00:00:00Z",
        refers_to=None,
        refers_to_target_uri=None,
        refers_to_date=None,
        payload_digest=b.get("WARC-Payload-Digest"),
    )
    ingest(catalog, tmp_path, [a, b, by_url, by_digest])
    got = labels(catalog)
    assert got[("http://a.test/u", "2024-01-01T00:00:00Z")][:2] == ("pre", "revisit")
    assert got[("http://a.test/d", "2024-01-01T00:00:00Z")] == (
        "pre",
        "revisit",
        "2019-02-01T00:00:00Z",
    )


def test_revisit_of_a_post_original_is_post(catalog: Catalog, tmp_path: Path) -> None:
    original = response("http://a.test/p", PAGE, "2023-01-01T00:00:00Z")
    ingest(catalog, tmp_path, [original, revisit_of(original, "2024-01-01T00:00:00Z")])
    assert labels(catalog)[("http://a.test/p", "2024-01-01T00:00:00Z")] == ("post", "none", None)


def test_last_modified_is_only_a_claim(catalog: Catalog, tmp_path: Path) -> None:
    page = response(
        "http://a.test/lm",
        PAGE,
        "2024-01-01T00:00:00Z",
        last_modified="Tue, 15 Jan 2019 10:00:00 GMT",
    )
    ingest(catalog, tmp_path, [page])
    assert labels(catalog)[("http://a.test/lm", "2024-01-01T00:00:00Z")] == (
        "unverified",
        "claimed",
        "2024-01-01T00:00:00Z",
    )


def test_dates_that_are_no_evidence(catalog: Catalog, tmp_path: Path) -> None:
    ingest(
        catalog,
        tmp_path,
        [
            response("http://a.test/coarse", PAGE, "2016-01"),
            response("http://a.test/ancient", OTHER, "1985-01-01T00:00:00Z"),
            response("http://a.test/future", b"x" * 10, "2099-01-01T00:00:00Z"),
        ],
    )
    got = labels(catalog)
    assert got[("http://a.test/coarse", "2016-01")][0] == "unverified"
    assert got[("http://a.test/ancient", "1985-01-01T00:00:00Z")][0] == "unverified"
    assert got[("http://a.test/future", "2099-01-01T00:00:00Z")][0] == "unverified"


def test_relabel_changes_labels_and_nothing_else(catalog: Catalog, tmp_path: Path) -> None:
    ingest(
        catalog,
        tmp_path,
        [
            response("http://a.test/2018", PAGE, "2018-06-01T00:00:00Z"),
            response("http://a.test/2020", OTHER, "2020-01-01T00:00:00Z"),
        ],
    )
    columns = [
        c
        for c in Record.__table__.columns
        if c.name not in ("label", "evidence_kind", "evidence_record_id")
    ]
    with catalog.engine.connect() as connection:
        before = connection.execute(select(*columns).order_by(Record.id)).all()
    result = relabel_catalog(catalog, parse_cutoff("gpt2"))
    assert catalog_cutoff(catalog).name == "gpt2"
    got = labels(catalog)
    assert got[("http://a.test/2018", "2018-06-01T00:00:00Z")][0] == "pre"
    assert got[("http://a.test/2020", "2020-01-01T00:00:00Z")][0] == "post"
    assert result.by_label == {"pre": 1, "post": 1}
    with catalog.engine.connect() as connection:
        after = connection.execute(select(*columns).order_by(Record.id)).all()
    assert before == after
    relabel_catalog(catalog, parse_cutoff("chatgpt"))
    assert labels(catalog)[("http://a.test/2020", "2020-01-01T00:00:00Z")][0] == "pre"


# -- the property that matters most: never `pre` without dated evidence before the cutoff ------

DATES = [
    "2018-03-01T00:00:00Z",
    "2022-11-29T23:59:59.999999Z",
    "2022-11-30T00:00:00Z",
    "2024-01-01T00:00:00Z",
    "2016-01",
    "not a date",
]
BODIES = [PAGE, OTHER, b""]


@st.composite
def warc_files(draw: st.DrawFn) -> list[list]:
    files = []
    for f in range(draw(st.integers(1, 3))):
        records: list = []
        for n in range(draw(st.integers(1, 4))):
            url = f"http://h{draw(st.integers(0, 2))}.test/p"
            date = draw(st.sampled_from(DATES))
            body = draw(st.sampled_from(BODIES))
            tamper = draw(st.booleans()) and draw(st.booleans())
            kind = draw(st.sampled_from(["response", "response", "revisit"]))
            if kind == "revisit" and records:
                target = draw(st.sampled_from(records))
                records.append(revisit_of(target, date, record_id=f"<urn:uuid:{f}-{n}>"))
            else:
                records.append(
                    response(
                        url,
                        body,
                        date,
                        payload_digest=sha1_b32(b"tampered") if tamper else "auto",
                        record_id=f"<urn:uuid:{f}-{n}>",
                    )
                )
        files.append(records)
    return files


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=warc_files(), order=st.randoms())
def test_no_pre_without_evidence_before_the_cutoff(
    files: list[list], order: object, tmp_path_factory: object
) -> None:
    tmp = tmp_path_factory.mktemp("prop")  # type: ignore[attr-defined]
    catalog = Catalog.open(str(tmp / "c.db"))
    try:
        order.shuffle(files)  # type: ignore[attr-defined]
        for n, records in enumerate(files):
            path = write_warc(tmp / f"{n}.warc.gz", records)
            ingest_file(catalog, path)
        cutoff = catalog_cutoff(catalog).instant
        with Session(catalog.engine) as session:
            rows = {r.id: r for r in session.scalars(select(Record))}
        for r in rows.values():
            if r.label != "pre":
                continue
            basis = rows[r.evidence_record_id]
            assert basis.capture_time is not None and basis.capture_time < cutoff
            assert basis.date_trusted and not basis.damaged
            assert "mismatch" not in (basis.block_digest_status, basis.payload_digest_status)
            assert basis.record_type != "revisit"
            assert r.evidence_kind in ("captured", "same-payload", "revisit", "same-text")
            assert "mismatch" not in (r.block_digest_status, r.payload_digest_status)
    finally:
        catalog.close()


def test_request_only_file_labels_nothing(catalog: Catalog, tmp_path: Path) -> None:
    ingest(catalog, tmp_path, [request("http://a.test/", "2019-01-01T00:00:00Z")])
    assert labels(catalog) == {}


def test_record_whose_gzip_member_fails_its_crc_is_no_evidence(
    catalog: Catalog, tmp_path: Path
) -> None:
    from warcbuilder import flip_byte, warc_bytes

    # No declared digests: only the gzip CRC-32 can tell that these bytes are damaged.
    record = response(
        "http://a.test/crc", PAGE, "2019-01-01T00:00:00Z", payload_digest=None, block_digest=None
    )
    data = warc_bytes([record])
    path = tmp_path / "crc.warc.gz"
    path.write_bytes(flip_byte(data, len(data) - 8))  # the first byte of the CRC-32 trailer
    report = ingest_file(catalog, path)
    assert report.status == "partial"
    assert any("CRC" in p.message for p in report.errors)
    assert labels(catalog)[("http://a.test/crc", "2019-01-01T00:00:00Z")] == (
        "unverified",
        "none",
        None,
    )


def test_revisit_loop_is_unverified_and_counted(catalog: Catalog, tmp_path: Path) -> None:
    from archive.catalog import catalog_stats

    def looping(name: str, other: str) -> object:
        return revisit(
            "http://a.test/loop",
            "2021-01-01T00:00:00Z" if name == "a" else "2021-02-01T00:00:00Z",
            refers_to=f"<urn:uuid:loop-{other}>",
            refers_to_target_uri=None,
            refers_to_date=None,
            payload_digest=None,
            record_id=f"<urn:uuid:loop-{name}>",
        )

    ingest(catalog, tmp_path, [looping("a", "b"), looping("b", "a")])
    got = labels(catalog)
    assert got[("http://a.test/loop", "2021-01-01T00:00:00Z")] == ("unverified", "none", None)
    assert got[("http://a.test/loop", "2021-02-01T00:00:00Z")] == ("unverified", "none", None)
    stats = catalog_stats(catalog)
    assert (stats.revisit_loops, stats.dangling_revisits) == (2, 0)


@st.composite
def files_with_revisits_across_them(draw: st.DrawFn) -> list[list]:
    """Files whose revisits point at records of other files, by each of the three links."""
    files: list[list] = []
    originals: list = []
    for f in range(draw(st.integers(2, 4))):
        records: list = []
        for n in range(draw(st.integers(1, 4))):
            date = draw(st.sampled_from(DATES[:6]))
            record_id = f"<urn:uuid:{f}-{n}>"
            link = draw(st.sampled_from(["response", "refers-to", "url-date", "digest"]))
            if link == "response" or not originals:
                url = f"http://h{draw(st.integers(0, 2))}.test/p"
                body = draw(st.sampled_from(BODIES))
                made = response(url, body, date, record_id=record_id)
                originals.append(made)
            else:
                target = draw(st.sampled_from(originals))
                url = target.get("WARC-Target-URI")
                made = revisit(
                    url,
                    date,
                    refers_to=target.id if link == "refers-to" else None,
                    refers_to_target_uri=url if link == "url-date" else None,
                    refers_to_date=target.get("WARC-Date") if link == "url-date" else None,
                    payload_digest=target.get("WARC-Payload-Digest") if link == "digest" else None,
                    record_id=record_id,
                )
                if draw(st.booleans()):
                    originals.append(made)  # later revisits may point at this one: chains
            records.append(made)
        files.append(records)
    return files


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=files_with_revisits_across_them(), order=st.randoms())
def test_labelling_file_by_file_equals_relabelling_everything(
    files: list[list], order: object, tmp_path_factory: object
) -> None:
    """What each new file relabels (the captures it can affect) is never too little."""
    tmp = tmp_path_factory.mktemp("incremental")  # type: ignore[attr-defined]
    catalog = Catalog.open(str(tmp / "c.db"))
    try:
        order.shuffle(files)  # type: ignore[attr-defined]
        for n, records in enumerate(files):
            ingest_file(catalog, write_warc(tmp / f"{n}.warc.gz", records))

        def state() -> dict[int, tuple[object, ...]]:
            with catalog.engine.connect() as connection:
                rows = connection.execute(
                    select(
                        Record.id,
                        Record.label,
                        Record.evidence_kind,
                        Record.evidence_record_id,
                        Record.original_record_id,
                    )
                ).all()
            return {row.id: tuple(row[1:]) for row in rows}

        incremental = state()
        assert any(label is not None for label, *_ in incremental.values())
        relabel_catalog(catalog, catalog_cutoff(catalog))
        assert state() == incremental
    finally:
        catalog.close()
