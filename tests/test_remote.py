"""Remote WARCs over HTTP: a real server on 127.0.0.1, faults injected, the catalog checked.

Each fault is run through the `archivist` command beside a healthy file: the test states the
outcome, what the catalog holds afterwards (exactly the records of complete files, each once)
and the lines the user sees.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_ingest import crawl, empty, table_rows
from warcbuilder import Compression, exchange, resource, response, warc_bytes, warcinfo
from warcserver import Served, WarcServer, running

from archive.catalog import Catalog
from archive.errors import SourceChangedError, SourceError
from archive.ingest import ingest, ingest_url
from archive.models import Record, WarcFile
from archive.readback import read_payload
from archive.remote import RemoteOptions, TransferError, is_remote, redact, url_problem
from archive.verify import iter_rows
from cli.main import cli

D_PRE = "2019-03-14T09:00:00Z"
STORY = b"<html><body><p>The ferry to the island runs again from May.</p></body></html>"
PAGE = response("http://harbour.example.org/ferry.html", STORY, D_PRE)
FAST = RemoteOptions(backoff=0.01, attempts=4, timeout=5)
# Where the text of a response (records of the remote file) says it was: not in the catalog.
REMOTE_ONLY = [
    warcinfo({"software": "tests/remote"}, D_PRE),
    *exchange(PAGE),
    resource("http://harbour.example.org/timetable.txt", b"09:00 10:30 12:00\n", D_PRE),
]


@pytest.fixture
def server() -> Iterator[WarcServer]:
    with running() as started:
        yield started


@pytest.fixture(autouse=True)
def quick_and_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fast retries, and no credentials from the machine running the tests."""
    monkeypatch.setenv("ARCHIVIST_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("ARCHIVIST_HTTP_ATTEMPTS", "4")
    monkeypatch.delenv("ARCHIVIST_HTTP_TOKEN", raising=False)
    monkeypatch.delenv("ARCHIVIST_CACHE", raising=False)
    empty_netrc = tmp_path / "empty.netrc"
    empty_netrc.write_text("")
    monkeypatch.setenv("NETRC", str(empty_netrc))


def invoke(runner: CliRunner, db: str, *args: str, **kwargs: Any) -> Result:
    return runner.invoke(cli, ["--db", db, *args], **kwargs)


def files(catalog: Catalog) -> list[tuple[str, str, int]]:
    """(location, status, record count) of every file row."""
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(WarcFile.location, WarcFile.status, WarcFile.record_count).order_by(WarcFile.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def rows_but_where(catalog: Catalog) -> dict[str, list[tuple[Any, ...]]]:
    """Every catalog row without ids, and without what says where a file came from."""
    where = {"location", "http_etag", "http_last_modified"}
    rows = table_rows(catalog, keep_ids=False)
    rows["warc_files"] = [
        tuple(item for item in row if item[0] not in where) for row in rows["warc_files"]
    ]
    return rows


def stderr_lines(result: Result) -> list[str]:
    return result.stderr.strip().splitlines()


# -- ingest by URL: the same rows as from disk ----------------------------------------------------


@pytest.mark.parametrize("compression", ["record", "none", "whole"])
def test_a_url_gives_the_same_rows_as_the_same_file_on_disk(
    runner: CliRunner,
    db_url: str,
    server: WarcServer,
    tmp_path: Path,
    compression: Compression,
) -> None:
    data = warc_bytes(crawl(), compression)
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(data)
    served = server.serve("/crawl.warc.gz", data)
    url = server.url("/crawl.warc.gz")

    local = invoke(runner, db_url, "ingest", str(path))
    assert local.exit_code == 0, local.output
    catalog = Catalog.open(db_url)
    try:
        from_disk = rows_but_where(catalog)
        empty(catalog)
        remote = invoke(runner, db_url, "ingest", url)
        assert remote.exit_code == 0, remote.output
        assert remote.stderr == ""
        count = len(crawl())
        assert remote.stdout.splitlines()[0] == f"complete  {url}  ({count} records)"
        assert rows_but_where(catalog) == from_disk
        file = catalog.file_by_sha256(hashlib.sha256(data).hexdigest())
        assert file is not None and file.location == url
        assert file.http_etag is not None and file.http_last_modified is not None
    finally:
        catalog.close()
    # One request, the file's bytes once.
    assert served.methods() == ["GET"] and served.body_bytes == len(data)


def test_nothing_is_left_on_disk_without_a_cache(
    catalog: Catalog, server: WarcServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    server.serve("/a.warc.gz", warc_bytes(crawl()))
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    assert report.status == "complete"
    assert list(scratch.iterdir()) == []


def test_a_cache_keeps_the_file_under_its_sha256(
    catalog: Catalog, server: WarcServer, tmp_path: Path
) -> None:
    data = warc_bytes(crawl())
    server.serve("/a.warc.gz", data)
    cache = tmp_path / "cache"
    options = RemoteOptions(backoff=0.01, cache=cache)
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=options)
    assert report.status == "complete"
    sha256 = hashlib.sha256(data).hexdigest()
    assert [p.name for p in cache.iterdir()] == [sha256]
    assert (cache / sha256).read_bytes() == data


# -- skipped before downloading ---------------------------------------------------------------


def test_a_url_ingested_before_is_skipped_without_its_body(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    data = warc_bytes(crawl())
    served = server.serve("/a.warc.gz", data)
    url = server.url("/a.warc.gz")
    assert invoke(runner, db_url, "ingest", url).exit_code == 0
    again = invoke(runner, db_url, "ingest", url)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == (
        f"skipped   {url}  (already in the catalog (complete) as {url}: "
        "same URL, size and ETag and Last-Modified)"
    )
    assert served.methods() == ["GET", "HEAD"]
    assert served.body_bytes == len(data)


@pytest.mark.parametrize(("etag", "last_modified"), [(True, False), (False, True)])
def test_one_validator_is_enough_to_skip(
    catalog: Catalog, server: WarcServer, etag: bool, last_modified: bool
) -> None:
    served = server.serve("/a.warc.gz", warc_bytes(crawl()), etag=etag, last_modified=last_modified)
    url = server.url("/a.warc.gz")
    assert [r.status for r in ingest(catalog, [url, url], remote=FAST)] == ["complete"]
    (again,) = ingest(catalog, [url], remote=FAST)
    assert again.status == "skipped"
    assert served.methods() == ["GET", "HEAD"]


def test_without_validators_the_file_is_downloaded_and_skipped_by_sha256(
    catalog: Catalog, server: WarcServer
) -> None:
    data = warc_bytes(crawl())
    served = server.serve("/a.warc.gz", data, etag=False, last_modified=False)
    url = server.url("/a.warc.gz")
    (first,) = ingest(catalog, [url], remote=FAST)
    (again,) = ingest(catalog, [url], remote=FAST)
    assert (first.status, again.status) == ("complete", "skipped")
    assert again.message == f"already in the catalog (complete) as {url}"
    assert served.body_bytes == 2 * len(data)
    assert catalog.count_records() == len(crawl())


def test_a_server_that_refuses_head_is_asked_with_get(catalog: Catalog, server: WarcServer) -> None:
    data = warc_bytes(crawl())
    served = server.serve("/a.warc.gz", data)
    url = server.url("/a.warc.gz")
    (first,) = ingest(catalog, [url], remote=FAST)
    served.faults.append("403-on-head")
    (again,) = ingest(catalog, [url], remote=FAST)
    assert (first.status, again.status) == ("complete", "skipped")
    # The GET's headers said the same: closed before its body was read.
    assert served.methods() == ["GET", "HEAD", "GET"]


def test_a_redirect_elsewhere_gets_no_credentials_and_says_401(
    catalog: Catalog, server: WarcServer
) -> None:
    served = server.serve("/a.warc.gz", warc_bytes(crawl()), auth=("ann", "secret"))
    with running() as elsewhere:
        elsewhere.serve("/a.warc.gz", b"", redirect=server.url("/a.warc.gz"))
        (report,) = ingest(catalog, [elsewhere.url("/a.warc.gz", "ann:secret@")], remote=FAST)
    # Another port is another origin: the URL's credentials do not follow the redirect.
    assert report.status == "failed" and "HTTP 401" in report.errors[0].message
    assert "authorization" not in served.requests[0]


def test_a_digest_header_skips_the_same_bytes_under_another_url(
    catalog: Catalog, server: WarcServer
) -> None:
    data = warc_bytes(crawl())
    server.serve("/a.warc.gz", data)
    server.serve("/mirror/a.warc.gz", data, digest=True)
    (first,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    (mirror,) = ingest(catalog, [server.url("/mirror/a.warc.gz")], remote=FAST)
    assert first.status == "complete" and mirror.status == "skipped"
    assert mirror.message is not None and "same SHA-256" in mirror.message
    assert files(catalog) == [(server.url("/a.warc.gz"), "complete", len(crawl()))]


def test_a_url_whose_file_changed_is_ingested_again(catalog: Catalog, server: WarcServer) -> None:
    served = server.serve("/a.warc.gz", warc_bytes(crawl()), warc_bytes(REMOTE_ONLY))
    url = server.url("/a.warc.gz")
    (first,) = ingest(catalog, [url], remote=FAST)
    served.version = 1
    (second,) = ingest(catalog, [url], remote=FAST)
    assert (first.status, second.status) == ("complete", "complete")
    assert files(catalog) == [(url, "complete", len(crawl())), (url, "complete", len(REMOTE_ONLY))]


# -- faults: outcome, catalog, message ----------------------------------------------------------


def run_beside_a_healthy_file(
    runner: CliRunner, db_url: str, server: WarcServer, faulty: str, *options: str
) -> Result:
    server.serve("/healthy.warc.gz", warc_bytes(REMOTE_ONLY))
    return invoke(runner, db_url, "ingest", *options, server.url("/healthy.warc.gz"), faulty)


def assert_catalog_holds(db_url: str, expected: list[tuple[str, str, int]]) -> None:
    catalog = Catalog.open(db_url)
    try:
        assert sorted(files(catalog)) == sorted(expected)
        assert catalog.count_records() == sum(n for _, _, n in expected)
        with catalog.engine.connect() as connection:
            offsets = connection.execute(select(Record.file_id, Record.offset)).all()
        assert len(offsets) == len(set(offsets))  # each record once
    finally:
        catalog.close()


@pytest.mark.parametrize("ranges", [True, False], ids=["ranges", "no-ranges"])
def test_a_connection_dropped_mid_body_resumes_or_restarts(
    runner: CliRunner, db_url: str, server: WarcServer, ranges: bool
) -> None:
    data = warc_bytes(crawl())
    served = server.serve("/a.warc.gz", data, ranges=ranges, faults=["drop"])
    url = server.url("/a.warc.gz")
    result = run_beside_a_healthy_file(runner, db_url, server, url)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines()[1] == f"complete  {url}  ({len(crawl())} records)"
    assert_catalog_holds(
        db_url,
        [
            (server.url("/healthy.warc.gz"), "complete", len(REMOTE_ONLY)),
            (url, "complete", len(crawl())),
        ],
    )
    half = len(data) // 2
    if ranges:
        # Resumed from the first missing byte: every byte crossed the wire once.
        assert served.ranges_asked() == [None, f"bytes={half}-"]
        assert served.requests[1]["if-range"].startswith('"')  # the ETag
        assert served.body_bytes == len(data)
    else:
        assert served.ranges_asked() == [None, None]
        assert served.body_bytes == len(data) + half


def test_without_a_validator_a_cut_transfer_starts_again(
    catalog: Catalog, server: WarcServer
) -> None:
    data = warc_bytes(crawl())
    served = server.serve("/a.warc.gz", data, etag=False, last_modified=False, faults=["drop"])
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    assert report.status == "complete"
    # A resumed transfer could stitch two versions of the file together: never without If-Range.
    assert served.ranges_asked() == [None, None]


@pytest.mark.parametrize("fault", ["503", "slowdown"])
def test_a_server_error_then_success(
    runner: CliRunner, db_url: str, server: WarcServer, fault: str
) -> None:
    served = server.serve("/a.warc.gz", warc_bytes(crawl()), faults=[fault, fault])
    url = server.url("/a.warc.gz")
    result = run_beside_a_healthy_file(runner, db_url, server, url)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines()[1] == f"complete  {url}  ({len(crawl())} records)"
    assert len(served.requests) == 3
    assert_catalog_holds(
        db_url,
        [
            (server.url("/healthy.warc.gz"), "complete", len(REMOTE_ONLY)),
            (url, "complete", len(crawl())),
        ],
    )


def test_a_429_waits_as_long_as_retry_after_says(catalog: Catalog, server: WarcServer) -> None:
    served = server.serve("/a.warc.gz", warc_bytes(crawl()), faults=["429"])
    url = server.url("/a.warc.gz")
    began = time.monotonic()
    (report,) = ingest(catalog, [url], remote=FAST)
    assert report.status == "complete" and report.clean
    assert time.monotonic() - began >= 1.0  # Retry-After: 1, though the backoff is 0.01 s
    assert len(served.requests) == 2
    assert files(catalog) == [(url, "complete", len(crawl()))]


def test_retry_after_is_capped(catalog: Catalog, server: WarcServer) -> None:
    server.serve("/a.warc.gz", warc_bytes(crawl()), faults=["429"])
    began = time.monotonic()
    options = RemoteOptions(backoff=0.01, retry_after_cap=0.05)
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=options)
    assert report.status == "complete" and time.monotonic() - began < 1.0


def test_a_server_that_keeps_failing_is_given_up_on(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    served = server.serve("/a.warc.gz", warc_bytes(crawl()), always="503")
    url = server.url("/a.warc.gz")
    result = run_beside_a_healthy_file(runner, db_url, server, url)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"error: {url}: HTTP 503 Service Unavailable (gave up after 4 attempts)"
    ]
    assert result.stdout.splitlines()[1] == f"failed    {url}  (1 problems)"
    assert len(served.requests) == 4
    # A failed transfer leaves no trace: the healthy file alone.
    assert_catalog_holds(db_url, [(server.url("/healthy.warc.gz"), "complete", len(REMOTE_ONLY))])


@pytest.mark.parametrize("ranges", [True, False], ids=["ranges", "no-ranges"])
def test_a_body_shorter_than_its_content_length_is_an_error(
    runner: CliRunner, db_url: str, server: WarcServer, ranges: bool
) -> None:
    data = warc_bytes(crawl())
    served = server.serve("/a.warc.gz", data, ranges=ranges, always="short")
    url = server.url("/a.warc.gz")
    result = run_beside_a_healthy_file(runner, db_url, server, url)
    assert result.exit_code == 1
    got = len(data) - 100
    assert stderr_lines(result) == [
        f"error: {url}: the connection was cut after {got} of {len(data)} bytes "
        "(gave up after 4 attempts)"
    ]
    # With ranges each retry asks for the missing bytes only (and is cut again); without, the
    # whole file again.
    missing = f"bytes={got}-" if ranges else None
    assert served.ranges_asked() == [None, missing, missing, missing]
    assert_catalog_holds(db_url, [(server.url("/healthy.warc.gz"), "complete", len(REMOTE_ONLY))])


@pytest.mark.parametrize("ranges", [True, False], ids=["ranges", "no-ranges"])
def test_a_file_that_changes_between_two_requests_is_an_error(
    runner: CliRunner, db_url: str, server: WarcServer, ranges: bool
) -> None:
    old, new = warc_bytes(crawl()), warc_bytes(crawl("http://other.example.org/"))
    served = server.serve("/a.warc.gz", old, new, ranges=ranges, faults=["change"])
    url = server.url("/a.warc.gz")
    result = run_beside_a_healthy_file(runner, db_url, server, url)
    assert result.exit_code == 1
    (line,) = stderr_lines(result)
    was = f'"{hashlib.sha1(old).hexdigest()[:16]}"'
    now = f'"{hashlib.sha1(new).hexdigest()[:16]}"'
    assert line == (
        f"error: {url}: the file changed while it was downloaded (ETag was {was}, now {now}): "
        "nothing recorded"
    )
    assert served.ranges_asked() == ([None, f"bytes={len(old) // 2}-"] if ranges else [None, None])
    assert_catalog_holds(db_url, [(server.url("/healthy.warc.gz"), "complete", len(REMOTE_ONLY))])


def test_a_redirect_to_a_file_url_is_refused(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    server.serve("/a.warc.gz", b"", redirect="file:///etc/passwd")
    url = server.url("/a.warc.gz")
    result = run_beside_a_healthy_file(runner, db_url, server, url)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"error: {url}: redirected to file:///etc/passwd: only http and https redirects are "
        "followed"
    ]
    assert_catalog_holds(db_url, [(server.url("/healthy.warc.gz"), "complete", len(REMOTE_ONLY))])


def test_a_redirect_to_http_is_followed_and_the_given_url_recorded(
    catalog: Catalog, server: WarcServer
) -> None:
    server.serve("/real.warc.gz", warc_bytes(crawl()))
    server.serve("/a.warc.gz", b"", redirect="/real.warc.gz")
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    assert report.status == "complete"
    assert files(catalog) == [(server.url("/a.warc.gz"), "complete", len(crawl()))]


def test_a_redirect_to_an_invalid_url_is_one_clear_problem(
    catalog: Catalog, server: WarcServer
) -> None:
    server.serve("/a.warc.gz", b"", redirect="http://127.0.0.1:notaport/a.warc.gz")
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    assert [p.message for p in report.errors] == ["redirected to an invalid URL"]


def test_a_cache_that_cannot_be_written_is_one_clear_problem(
    catalog: Catalog, server: WarcServer, tmp_path: Path
) -> None:
    server.serve("/a.warc.gz", warc_bytes(crawl()))
    not_a_directory = tmp_path / "cache"
    not_a_directory.write_text("a file")
    options = RemoteOptions(backoff=0.01, cache=not_a_directory)
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=options)
    assert report.status == "failed"
    assert report.errors[0].message.startswith(f"cannot write to {not_a_directory}: ")
    assert files(catalog) == []


def test_a_file_over_the_maximum_size_is_refused(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    data = warc_bytes(crawl())
    server.serve("/a.warc.gz", data)
    url = server.url("/a.warc.gz")
    assert len(warc_bytes(REMOTE_ONLY)) < 2000 < len(data)
    result = run_beside_a_healthy_file(runner, db_url, server, url, "--max-size", "2000")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"error: {url}: the file is {len(data)} bytes, more than the maximum size of 2000"
    ]
    assert_catalog_holds(db_url, [(server.url("/healthy.warc.gz"), "complete", len(REMOTE_ONLY))])


def test_a_server_that_does_not_answer_in_time(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    server.serve("/a.warc.gz", warc_bytes(crawl()), always="stall")
    url = server.url("/a.warc.gz")
    result = invoke(runner, db_url, "ingest", "--timeout", "0.2", "--attempts", "2", url)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"error: {url}: no answer within 0.2 s (gave up after 2 attempts)"
    ]
    assert_catalog_holds(db_url, [])


def test_nothing_listening_is_a_clear_error(catalog: Catalog) -> None:
    url = "http://127.0.0.1:9/a.warc.gz"  # the discard port: nothing listens there
    options = RemoteOptions(backoff=0.01, attempts=2)
    (report,) = ingest(catalog, [url], remote=options)
    assert report.status == "failed"
    (problem,) = report.errors
    assert problem.message.startswith("cannot connect (") and "gave up after 2 attempts" in (
        problem.message
    )


def test_a_missing_file_is_not_retried(catalog: Catalog, server: WarcServer) -> None:
    (report,) = ingest(catalog, [server.url("/nope.warc.gz")], remote=FAST)
    assert report.status == "failed"
    assert [p.message for p in report.errors] == ["HTTP 404 Not Found"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("ftp://user:secret@example.org/a.warc.gz", "only http and https URLs and local paths"),
        ("s3://bucket/a.warc.gz", "only http and https URLs and local paths"),
        ("http://[::1/a.warc.gz", "not a valid URL"),
        ("http:///a.warc.gz", "not a valid URL: no host"),
    ],
)
def test_only_http_https_and_local_paths_are_accepted(
    catalog: Catalog, given: str, message: str
) -> None:
    (report,) = ingest(catalog, [given], remote=FAST)
    assert report.status == "failed" and "secret" not in report.path
    assert report.errors[0].message.startswith(message)
    assert files(catalog) == []


# -- credentials -----------------------------------------------------------------------------


def everything_said(result: Result, catalog: Catalog) -> str:
    """stdout, stderr and every value in the catalog, as one text to search."""
    values = [result.stdout, result.stderr]
    for rows in table_rows(catalog).values():
        values.extend(repr(row) for row in rows)
    return "\n".join(values)


def test_credentials_in_the_url_are_used_and_never_shown(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    served = server.serve("/private.warc.gz", warc_bytes(crawl()), auth=("ann", "secret"))
    url = server.url("/private.warc.gz", "ann:secret@")
    result = invoke(runner, db_url, "ingest", "--json", url)
    assert result.exit_code == 0, result.output
    assert served.requests[0]["authorization"].startswith("Basic ")
    catalog = Catalog.open(db_url)
    try:
        assert "secret" not in everything_said(result, catalog)
        assert files(catalog) == [(server.url("/private.warc.gz"), "complete", len(crawl()))]
    finally:
        catalog.close()


def test_wrong_credentials_are_a_clear_error_without_the_password(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    server.serve("/private.warc.gz", warc_bytes(crawl()), auth=("ann", "right"))
    url = server.url("/private.warc.gz", "ann:secret@")
    result = invoke(runner, db_url, "ingest", url)
    assert result.exit_code == 1
    shown = server.url("/private.warc.gz")
    assert stderr_lines(result) == [
        f"error: {shown}: HTTP 401 Unauthorized (credentials come from the URL, .netrc or "
        "ARCHIVIST_HTTP_TOKEN)"
    ]
    catalog = Catalog.open(db_url)
    try:
        assert "secret" not in everything_said(result, catalog)
    finally:
        catalog.close()


def test_credentials_come_from_netrc(
    runner: CliRunner,
    db_url: str,
    server: WarcServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ann password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server.serve("/private.warc.gz", warc_bytes(crawl()), auth=("ann", "secret"))
    result = invoke(runner, db_url, "ingest", server.url("/private.warc.gz"))
    assert result.exit_code == 0, result.output
    catalog = Catalog.open(db_url)
    try:
        assert "secret" not in everything_said(result, catalog)
    finally:
        catalog.close()


def test_a_malformed_netrc_is_reported_without_its_content(
    catalog: Catalog, server: WarcServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ann password secret\nbogus secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    server.serve("/a.warc.gz", warc_bytes(crawl()))
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    assert report.status == "failed"
    (problem,) = report.errors
    assert problem.message == f"cannot use {netrc}: malformed at line 2"


def test_a_token_from_the_environment_goes_to_the_urls_own_server_only(
    catalog: Catalog, server: WarcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVIST_HTTP_TOKEN", "secret-token")
    with running() as elsewhere:
        target = elsewhere.serve("/a.warc.gz", warc_bytes(crawl()))
        first = server.serve("/a.warc.gz", b"", redirect=elsewhere.url("/a.warc.gz"))
        (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    assert report.status == "complete"
    assert first.requests[0]["authorization"] == "Bearer secret-token"
    # Another origin (another port) gets no credentials of the first.
    assert "authorization" not in target.requests[0]


def test_credentials_in_the_url_do_not_follow_a_redirect_elsewhere(
    catalog: Catalog, server: WarcServer
) -> None:
    with running() as elsewhere:
        target = elsewhere.serve("/a.warc.gz", warc_bytes(crawl()))
        first = server.serve("/a.warc.gz", b"", redirect=elsewhere.url("/a.warc.gz"))
        (report,) = ingest(catalog, [server.url("/a.warc.gz", "ann:secret@")], remote=FAST)
    assert report.status == "complete"
    assert "authorization" in first.requests[0]
    assert "authorization" not in target.requests[0]


def test_redact_strips_user_info_only() -> None:
    assert redact("https://ann:s3cr%40t@host.test:8443/a?b=c") == "https://host.test:8443/a?b=c"
    assert redact("http://ann@host.test/a") == "http://host.test/a"
    assert redact("http://host.test/a@b") == "http://host.test/a@b"
    assert redact("http://a:b@c@host.test/") == "http://host.test/"
    assert redact("/local/path@x") == "/local/path@x"
    assert is_remote("HTTPS://host.test/") and not is_remote("/data/a.warc")
    assert url_problem("https://host.test/a.warc.gz") is None
    assert url_problem("file:///etc/passwd") == "only http and https URLs are fetched"


# -- lists of inputs and parallel jobs -------------------------------------------------------------


def test_inputs_from_a_list_file_and_stdin(
    runner: CliRunner, db_url: str, server: WarcServer, tmp_path: Path
) -> None:
    local = tmp_path / "local.warc.gz"
    local.write_bytes(warc_bytes(REMOTE_ONLY))
    server.serve("/a.warc.gz", warc_bytes(crawl()))
    listing = tmp_path / "inputs.txt"
    listing.write_text(f"# crawl of March\n\n{server.url('/a.warc.gz')}\n  {local}  \n")
    result = invoke(runner, db_url, "ingest", "--from-list", str(listing))
    assert result.exit_code == 0, result.output
    assert [line.split()[:2] for line in result.stdout.splitlines()[:2]] == [
        ["complete", server.url("/a.warc.gz")],
        ["complete", str(local)],
    ]
    again = invoke(runner, db_url, "ingest", "--from-list", "-", input=listing.read_text())
    assert again.exit_code == 0, again.output
    assert [line.split()[0] for line in again.stdout.splitlines()[:2]] == ["skipped", "skipped"]


def test_ingest_without_inputs_is_a_usage_error(runner: CliRunner, db_url: str) -> None:
    result = invoke(runner, db_url, "ingest")
    assert result.exit_code == 2
    assert "give files, directories, globs or URLs, or --from-list FILE" in result.stderr


def test_jobs_2_fetch_urls_in_parallel(
    runner: CliRunner, db_url: str, server: WarcServer, tmp_path: Path
) -> None:
    server.serve("/a.warc.gz", warc_bytes(crawl()), faults=["503"])
    server.serve("/b.warc", warc_bytes(REMOTE_ONLY, "none"), faults=["drop"])
    local = tmp_path / "c.warc.gz"
    local.write_bytes(warc_bytes(crawl("http://third.example.org/")))
    urls = [server.url("/a.warc.gz"), server.url("/b.warc")]
    result = invoke(runner, db_url, "ingest", "--jobs", "2", *urls, str(local))
    assert result.exit_code == 0, result.output
    assert_catalog_holds(
        db_url,
        [
            (urls[0], "complete", len(crawl())),
            (urls[1], "complete", len(REMOTE_ONLY)),
            (str(local), "complete", len(crawl())),
        ],
    )


# -- reading one record back ---------------------------------------------------------------------


def record_of(catalog: Catalog, target_uri: str) -> Record:
    """The response record of ``target_uri`` (the catalog holds one)."""
    with Session(catalog.engine) as session:
        return session.scalars(
            select(Record).where(Record.target_uri == target_uri, Record.record_type == "response")
        ).one()


def cat(catalog: Catalog, record: Record, options: RemoteOptions = FAST) -> bytes:
    out = io.BytesIO()
    read_payload(catalog, str(record.id), out, remote=options)
    return out.getvalue()


def ingested(catalog: Catalog, server: WarcServer, data: bytes, **plan: Any) -> Served:
    served = server.serve("/a.warc.gz", data, **plan)
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=FAST)
    assert report.status == "complete"
    served.requests.clear()
    served.body_bytes = 0
    return served


@pytest.mark.parametrize("compression", ["record", "none"])
def test_cat_of_a_remote_record_transfers_only_its_bytes(
    runner: CliRunner, db_url: str, server: WarcServer, compression: Compression
) -> None:
    catalog = Catalog.open(db_url)
    try:
        served = ingested(catalog, server, warc_bytes(REMOTE_ONLY, compression))
        record = record_of(catalog, PAGE.get("WARC-Target-URI"))
    finally:
        catalog.close()
    result = invoke(runner, db_url, "cat", str(record.id))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == STORY
    assert served.ranges_asked() == [f"bytes={record.offset}-{record.offset + record.length - 1}"]
    assert served.body_bytes == record.length


def test_cat_of_a_whole_file_gzip_needs_the_whole_file_or_the_cache(
    catalog: Catalog, server: WarcServer, tmp_path: Path
) -> None:
    data = warc_bytes(REMOTE_ONLY, "whole")
    served = ingested(catalog, server, data)
    record = record_of(catalog, PAGE.get("WARC-Target-URI"))
    cached = RemoteOptions(backoff=0.01, cache=tmp_path / "cache")
    assert cat(catalog, record, cached) == STORY
    assert served.ranges_asked() == [None] and served.body_bytes == len(data)
    # The download was checked against the file's SHA-256 and kept: the next read is local.
    assert cat(catalog, record, cached) == STORY
    assert len(served.requests) == 1


def test_cat_reads_from_the_cache_filled_by_ingest(
    catalog: Catalog, server: WarcServer, tmp_path: Path
) -> None:
    options = RemoteOptions(backoff=0.01, cache=tmp_path / "cache")
    served = server.serve("/a.warc.gz", warc_bytes(REMOTE_ONLY))
    (report,) = ingest(catalog, [server.url("/a.warc.gz")], remote=options)
    assert report.status == "complete"
    served.requests.clear()
    assert cat(catalog, record_of(catalog, PAGE.get("WARC-Target-URI")), options) == STORY
    assert served.requests == []


def test_cat_retries_a_failed_range_request(catalog: Catalog, server: WarcServer) -> None:
    served = ingested(catalog, server, warc_bytes(REMOTE_ONLY))
    served.faults.extend(["503", "drop"])
    assert cat(catalog, record_of(catalog, PAGE.get("WARC-Target-URI"))) == STORY
    assert len(served.requests) == 3


def test_cat_refuses_a_server_that_ignores_ranges(
    runner: CliRunner, db_url: str, server: WarcServer
) -> None:
    catalog = Catalog.open(db_url)
    try:
        ingested(catalog, server, warc_bytes(REMOTE_ONLY), ranges=False)
        record = record_of(catalog, PAGE.get("WARC-Target-URI"))
    finally:
        catalog.close()
    result = invoke(runner, db_url, "cat", str(record.id))
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"Error: {server.url('/a.warc.gz')}: the server ignored the Range request (HTTP 200): "
        "reading one record would download the whole file; ingest or read it with --cache DIR "
        "to keep a local copy"
    ]
    assert result.stdout_bytes == b""


def test_cat_of_a_remote_file_that_changed(catalog: Catalog, server: WarcServer) -> None:
    data = warc_bytes(REMOTE_ONLY, "none")
    served = ingested(catalog, server, data)
    record = record_of(catalog, PAGE.get("WARC-Target-URI"))
    # Other bytes of the same size: the range is served, the payload does not verify.
    served.versions = [data.replace(b"the island", b"the isles!")]
    assert len(served.data) == len(data) and served.data != data
    with pytest.raises(SourceChangedError, match="changed since it was ingested"):
        cat(catalog, record)
    # A longer file: the Content-Range total says so before any payload is read.
    served.versions = [data + warc_bytes([PAGE])]
    with pytest.raises(SourceChangedError, match=r"bytes, the catalog recorded \d+"):
        cat(catalog, record)
    served.versions = [data[: record.offset]]
    with pytest.raises(SourceChangedError, match="shorter than it was"):
        cat(catalog, record)


def test_ingest_url_is_the_library_call_behind_the_command(
    catalog: Catalog, server: WarcServer
) -> None:
    server.serve("/a.warc.gz", warc_bytes(crawl()))
    report = ingest_url(catalog, server.url("/a.warc.gz"), FAST)
    assert report.status == "complete" and report.records == len(crawl())
    failed = ingest_url(catalog, server.url("/gone.warc.gz"), FAST)
    assert failed.status == "failed" and not failed.clean
    # Transfer errors are source errors: callers catch them with the rest of archivist's.
    assert issubclass(TransferError, SourceError)


# -- export and verify-export --deep of URL-ingested files: one Range request per record ----------

ALL_LABELS = ("--label", "pre", "--label", "post", "--label", "unverified")


def exported(runner: CliRunner, db_url: str, out: Path, *options: str) -> list[dict[str, Any]]:
    result = invoke(runner, db_url, "export", str(out), *ALL_LABELS, *options)
    assert result.exit_code == 0, result.output
    rows = list(iter_rows(out))
    assert rows and all(is_remote(row["warc_file"]) for row in rows)
    return rows


def range_of(row: dict[str, Any]) -> str:
    return f"bytes={row['offset']}-{row['offset'] + row['length'] - 1}"


@pytest.mark.parametrize("compression", ["record", "none"])
def test_export_and_deep_verify_of_a_url_read_each_record_by_range(
    runner: CliRunner, db_url: str, server: WarcServer, tmp_path: Path, compression: Compression
) -> None:
    catalog = Catalog.open(db_url)
    try:
        served = ingested(catalog, server, warc_bytes(REMOTE_ONLY, compression))
    finally:
        catalog.close()
    out = tmp_path / "out"
    rows = exported(runner, db_url, out)
    assert served.ranges_asked() == [
        range_of(row) for row in sorted(rows, key=lambda r: r["offset"])
    ]
    asked = len(served.requests)
    verified = invoke(runner, db_url, "verify-export", "--deep", "--timeout", "5", str(out))
    assert verified.exit_code == 0, verified.output
    assert f", {len(rows)} against their WARC files" in verified.stdout
    # Only the records' bytes, each fetched once more by its own Range request.
    assert sorted(served.ranges_asked()[asked:]) == sorted(range_of(row) for row in rows)
    assert served.body_bytes == 2 * sum(row["length"] for row in rows)


def test_deep_verify_names_the_row_of_a_remote_file_that_changed(
    runner: CliRunner, db_url: str, server: WarcServer, tmp_path: Path
) -> None:
    data = warc_bytes(REMOTE_ONLY, "none")
    catalog = Catalog.open(db_url)
    try:
        served = ingested(catalog, server, data)
    finally:
        catalog.close()
    out = tmp_path / "out"
    exported(runner, db_url, out)
    # Other bytes of the same size: the ranges are served, one payload does not verify.
    served.versions = [data.replace(b"the island", b"the isles!")]
    result = invoke(runner, db_url, "verify-export", "--deep", str(out))
    assert result.exit_code == 1
    (failure,) = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert failure.startswith("FAIL data/train-00000.parquet row ")
    assert PAGE.get("WARC-Target-URI") in failure and "the WARC file changed" in failure


def test_a_cache_filled_by_ingest_serves_export_and_deep_verify(
    runner: CliRunner, db_url: str, server: WarcServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    served = server.serve("/a.warc.gz", warc_bytes(REMOTE_ONLY))
    ingest_result = invoke(
        runner, db_url, "ingest", "--cache", str(cache), server.url("/a.warc.gz")
    )
    assert ingest_result.exit_code == 0, ingest_result.output
    served.requests.clear()
    out = tmp_path / "out"
    exported(runner, db_url, out, "--cache", str(cache))
    verified = invoke(runner, db_url, "verify-export", "--deep", "--cache", str(cache), str(out))
    assert verified.exit_code == 0, verified.output
    assert served.requests == []


def test_export_and_deep_verify_with_the_server_down(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with running() as server:
        catalog = Catalog.open(db_url)
        try:
            ingested(catalog, server, warc_bytes(REMOTE_ONLY))
        finally:
            catalog.close()
        url = server.url("/a.warc.gz")
        rows = exported(runner, db_url, out)
    again = invoke(
        runner, db_url, "export", str(tmp_path / "again"), *ALL_LABELS, "--attempts", "1"
    )
    assert again.exit_code == 1
    (line,) = stderr_lines(again)
    assert line.startswith(f"Error: {url}: cannot connect (")
    verified = invoke(runner, db_url, "verify-export", "--deep", "--attempts", "1", str(out))
    assert verified.exit_code == 1
    failures = [line for line in verified.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(failures) == len(rows)
    assert all(f"cannot be fetched: {url}: cannot connect (" in line for line in failures)


def test_a_whole_file_gzip_is_downloaded_once_per_export_and_per_verify(
    runner: CliRunner, db_url: str, server: WarcServer, tmp_path: Path
) -> None:
    data = warc_bytes(REMOTE_ONLY, "whole")
    catalog = Catalog.open(db_url)
    try:
        served = ingested(catalog, server, data)
    finally:
        catalog.close()
    out = tmp_path / "out"
    rows = exported(runner, db_url, out)
    assert len(rows) > 1 and served.ranges_asked() == [None]
    verified = invoke(runner, db_url, "verify-export", "--deep", str(out))
    assert verified.exit_code == 0, verified.output
    assert served.ranges_asked() == [None, None] and served.body_bytes == 2 * len(data)
