"""The `archivist` command through Click's runner, one run of the installed script, real files."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from conftest import archivist_command
from warcbuilder import exchange, resource, response, revisit_of, warc_bytes, write_warc
from warcio.archiveiterator import ArchiveIterator

from archive.catalog import MIGRATIONS, Catalog, head_revision
from archive.readback import read_payload
from cli.main import cli

D_PRE = "2019-03-14T09:00:00Z"
STORY = b"<html><p>The river festival returns on Saturday.</p></html>"
FEED = b"<rss>" + b"<item>festival</item>" * 200 + b"</rss>"
PAGE = response("http://news.example.org/story.html", STORY, D_PRE)
CHUNKED = response("http://news.example.org/feed.xml", FEED, D_PRE, chunked=[50, 500])
CAPTURE_FIELDS = {
    "id",
    "warc_record_id",
    "url",
    "capture_time",
    "record_type",
    "status",
    "mime",
    "warc_file",
    "warc_sha256",
    "offset",
    "length",
    "payload_sha256",
    "digest_status",
}
ERROR_LINE = re.compile(r"^error: (?P<file>\S+)(?: @ (?P<offset>\d+))?: (?P<message>\S.*)$")


def invoke(runner: CliRunner, db: str, *args: str) -> Result:
    return runner.invoke(cli, ["--db", db, *args])


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_one_line_error(result: Result, *words: str) -> None:
    """Exit status 1 with one readable line, never a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def crawl(tmp_path: Path) -> Path:
    folder = tmp_path / "crawl"
    (folder / "sub").mkdir(parents=True)
    write_warc(folder / "a.warc.gz", [*exchange(PAGE), CHUNKED])
    later = [revisit_of(PAGE, "2023-06-01T00:00:00Z"), resource("urn:x:notes", b"notes", D_PRE)]
    write_warc(folder / "sub" / "b.warc", later)
    (folder / "README.txt").write_text("not an archive: a directory walk passes it over\n")
    return folder


# -- ingest ----------------------------------------------------------------------------------------


def test_ingest_clean_files_exits_0_with_a_summary(
    runner: CliRunner, db_url: str, crawl: Path
) -> None:
    result = invoke(runner, db_url, "ingest", str(crawl))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"complete  {crawl / 'a.warc.gz'}  (3 records)"
    assert lines[1] == f"complete  {crawl / 'sub' / 'b.warc'}  (2 records)"
    assert lines[-2] == "2 files (2 complete); 5 records added; 0 problems"
    assert lines[-1] == "text: 2 captures in 1 files (2 ok)"

    again = invoke(runner, db_url, "ingest", str(crawl / "a.warc.gz"), str(crawl / "sub"))
    assert again.exit_code == 0
    assert again.stdout.splitlines()[0].startswith(f"skipped   {crawl / 'a.warc.gz'}  (already")
    assert again.stdout.splitlines()[-1] == "2 files (2 skipped); 0 records added; 0 problems"


def test_ingest_json_reports_each_file_and_each_problem(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    good = write_warc(tmp_path / "good.warc.gz", [PAGE])
    bad = tmp_path / "bad.warc"
    # Per-record gzip under a plain name: the layout is told from the bytes, not the name.
    bad.write_bytes(
        warc_bytes([PAGE.with_field("WARC-Date", "last tuesday"), CHUNKED.without("WARC-Date")])
    )
    empty = tmp_path / "empty.warc"
    empty.write_bytes(b"")
    copy = tmp_path / "copy-of-good.warc.gz"
    shutil.copy(good, copy)
    result = invoke(
        runner, db_url, "ingest", "--json", str(good), str(bad), str(empty), str(copy), "nope.warc"
    )
    assert result.exit_code == 1
    reports = json_lines(result)
    assert [(Path(r["path"]).name, r["status"], r["records"]) for r in reports] == [
        ("good.warc.gz", "complete", 1),
        ("bad.warc", "partial", 2),
        ("empty.warc", "failed", 0),
        ("copy-of-good.warc.gz", "skipped", 0),
        ("nope.warc", "failed", 0),
    ]
    for report in reports:
        assert {"path", "sha256", "status", "records", "errors"} <= report.keys()
    assert (
        reports[0]["sha256"]
        == reports[3]["sha256"]
        == hashlib.sha256(good.read_bytes()).hexdigest()
    )
    assert str(good) in reports[3]["message"]
    assert [e["offset"] for e in reports[1]["errors"]] == [0, _member_end(bad)]
    assert "invalid date 'last tuesday'" in reports[1]["errors"][0]["message"]
    assert "missing WARC-Date" in reports[1]["errors"][1]["message"]
    assert reports[2]["errors"] == [{"offset": 0, "message": "empty file"}]
    assert [e["offset"] for e in reports[4]["errors"]] == [None]
    # stderr: one line per problem, naming file, offset and what is wrong.
    errors = [ERROR_LINE.match(line) for line in result.stderr.splitlines()]
    assert all(errors), result.stderr
    assert [(Path(m["file"]).name, m["offset"]) for m in errors if m] == [
        ("bad.warc", "0"),
        ("bad.warc", str(_member_end(bad))),
        ("empty.warc", "0"),
        ("nope.warc", None),
    ]


def _member_end(path: Path) -> int:
    """Where the second record of a per-record gzip file starts (warcio's index)."""
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        return int([it.get_record_offset() for _ in it][1])


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n",
        warc_bytes([PAGE.with_field("Content-Length", "abc"), CHUNKED], "none"),
        warc_bytes([PAGE.with_line("no colon here"), CHUNKED.cut_short(20)], "none"),
        warc_bytes([PAGE, CHUNKED])[:-30],
    ],
    ids=["not-a-warc", "bad-content-length", "broken-header-and-cut-short", "truncated-gzip"],
)
def test_every_stderr_line_of_an_ingest_is_one_problem(
    runner: CliRunner, db_url: str, tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "input.warc"
    path.write_bytes(data)
    result = invoke(runner, db_url, "ingest", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines and all(ERROR_LINE.match(line) for line in lines), result.stderr
    assert all(str(path) in line for line in lines)


def test_ingest_with_jobs_and_progress(runner: CliRunner, db_url: str, crawl: Path) -> None:
    result = invoke(runner, db_url, "ingest", "--jobs", "2", "--progress", "--json", str(crawl))
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in json_lines(result)] == ["complete", "complete"]
    assert "Traceback" not in result.stderr


# -- lookups ---------------------------------------------------------------------------------------


@pytest.fixture
def filled(runner: CliRunner, db_url: str, crawl: Path) -> str:
    assert invoke(runner, db_url, "ingest", str(crawl)).exit_code == 0
    return db_url


def test_lookup_url_json(runner: CliRunner, filled: str, crawl: Path) -> None:
    result = invoke(runner, filled, "lookup", "https://news.example.org/story.html", "--json")
    assert result.exit_code == 0
    captures = json_lines(result)
    assert [(c["record_type"], c["capture_time"]) for c in captures] == [
        ("response", "2019-03-14T09:00:00Z"),
        ("revisit", "2023-06-01T00:00:00Z"),
    ]
    first = captures[0]
    assert first.keys() >= CAPTURE_FIELDS
    assert first["warc_record_id"] == PAGE.id.strip("<>")
    assert (first["url"], first["status"], first["mime"]) == (
        "http://news.example.org/story.html",
        200,
        "text/html",
    )
    assert first["warc_file"] == str(crawl / "a.warc.gz")
    assert first["warc_sha256"] == hashlib.sha256((crawl / "a.warc.gz").read_bytes()).hexdigest()
    assert first["payload_sha256"] == hashlib.sha256(STORY).hexdigest()
    assert first["digest_status"] == "ok"
    data = (crawl / "a.warc.gz").read_bytes()
    member = gzip.decompress(data[first["offset"] : first["offset"] + first["length"]])
    assert member.startswith(b"WARC/1.0\r\nWARC-Type: response\r\n")
    # Each capture names the record its label rests on: the 2019 response for both.
    evidence = {
        "id": first["id"],
        "warc_file": str(crawl / "a.warc.gz"),
        "offset": first["offset"],
        "capture_time": "2019-03-14T09:00:00Z",
    }
    assert (first["label"], first["evidence"]) == ("pre", {"kind": "captured", **evidence})
    revisit = captures[1]
    assert (revisit["label"], revisit["evidence"]) == ("pre", {"kind": "revisit", **evidence})


def test_lookup_match_and_time_window(runner: CliRunner, filled: str) -> None:
    def found(*args: str) -> list[str]:
        result = invoke(runner, filled, "lookup", *args, "--json")
        assert result.exit_code == 0, result.output
        return [c["url"] for c in json_lines(result)]

    assert found("http://news.example.org/", "--match", "host") == [
        "http://news.example.org/story.html",
        "http://news.example.org/feed.xml",
        "http://news.example.org/story.html",
    ]
    assert found("http://example.org/", "--match", "domain") == found(
        "http://news.example.org/", "--match", "host"
    )
    assert found("http://news.example.org/feed", "--match", "prefix") == [
        "http://news.example.org/feed.xml"
    ]
    assert found("http://news.example.org/story.html", "--from", "2020-01-01") == [
        "http://news.example.org/story.html"
    ]
    assert found("http://news.example.org/story.html", "--to", "2020") == [
        "http://news.example.org/story.html"
    ]
    assert found("http://news.example.org/story.html", "--to", "2019-03-14T09:00:00Z") == []


def test_lookup_table_and_no_captures(runner: CliRunner, filled: str) -> None:
    result = invoke(runner, filled, "lookup", "http://news.example.org/story.html")
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "id",
        "capture_time",
        "record_type",
        "status",
        "mime",
        "digest_status",
        "label",
        "evidence",
        "url",
    ]
    first_id = rows[0].split()[0]
    assert len(rows) == 2 and rows[0].split()[1:] == [
        "2019-03-14T09:00:00Z",
        "response",
        "200",
        "text/html",
        "ok",
        "pre",
        f"captured:#{first_id}",
        "http://news.example.org/story.html",
    ]
    # The revisit of 2023 is `pre` on the evidence of its 2019 original.
    assert rows[1].split()[6:8] == ["pre", f"revisit:#{first_id}"]
    assert result.stderr == "labels for cutoff chatgpt (2022-11-30T00:00:00Z)\n"
    nothing = invoke(runner, filled, "lookup", "http://elsewhere.test/")
    assert nothing.exit_code == 0 and nothing.stdout == ""
    assert nothing.stderr == "no captures found\n"


def test_lookup_by_payload_hash_and_by_file(runner: CliRunner, filled: str, tmp_path: Path) -> None:
    by_hash = invoke(
        runner, filled, "lookup", "--sha256", hashlib.sha256(FEED).hexdigest(), "--json"
    )
    assert by_hash.exit_code == 0
    assert [c["url"] for c in json_lines(by_hash)] == ["http://news.example.org/feed.xml"]
    page = tmp_path / "feed.xml"
    page.write_bytes(FEED)
    by_file = invoke(runner, filled, "lookup", "--file", str(page), "--json")
    assert json_lines(by_file) == json_lines(by_hash)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sha256", "abc"], ["not a SHA-256"]),
        (["--file", "/nonexistent/page.html"], ["cannot read"]),
    ],
)
def test_lookup_errors_are_one_line(
    runner: CliRunner, filled: str, args: list[str], words: list[str]
) -> None:
    assert_one_line_error(invoke(runner, filled, "lookup", *args), *words)


@pytest.mark.parametrize(
    "args",
    [[], ["http://a.test/", "--sha256", "0" * 64], ["http://a.test/", "--from", "soon"]],
)
def test_lookup_usage_errors(runner: CliRunner, filled: str, args: list[str]) -> None:
    result = invoke(runner, filled, "lookup", *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")


def test_show_by_id_and_by_warc_record_id(runner: CliRunner, filled: str) -> None:
    result = invoke(runner, filled, "show", PAGE.id, "--json")
    assert result.exit_code == 0
    (details,) = json_lines(result)
    assert details.keys() >= CAPTURE_FIELDS
    assert details["surt"] == "org,example,news)/story.html"
    assert details["block_digest_status"] == "ok" and details["problems"] == []
    by_id = invoke(runner, filled, "show", str(details["id"]), "--json")
    assert json_lines(by_id) == [details]
    text = invoke(runner, filled, "show", str(details["id"]))
    assert re.search(r"^url +http://news\.example\.org/story\.html$", text.stdout, re.M)
    assert_one_line_error(invoke(runner, filled, "show", "urn:uuid:nothing"), "no record")


def test_cat_writes_the_checked_payload(runner: CliRunner, filled: str, crawl: Path) -> None:
    assert invoke(runner, filled, "cat", PAGE.id).stdout_bytes == STORY
    chunked = invoke(runner, filled, "cat", CHUNKED.id)
    assert chunked.exit_code == 0 and chunked.stdout_bytes == FEED  # de-chunked
    revisit = invoke(runner, filled, "lookup", "http://news.example.org/story.html", "--json")
    revisit_id = str(json_lines(revisit)[-1]["id"])
    assert_one_line_error(invoke(runner, filled, "cat", revisit_id), "no payload of its own")
    (crawl / "a.warc.gz").rename(crawl / "moved.warc.gz")
    assert_one_line_error(invoke(runner, filled, "cat", PAGE.id), "a.warc.gz", "moved")


def test_cat_of_a_whole_gzip_file_and_of_a_changed_one(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(warc_bytes([PAGE, CHUNKED], "whole"))
    assert invoke(runner, db_url, "ingest", str(path)).exit_code == 0
    assert invoke(runner, db_url, "cat", CHUNKED.id).stdout_bytes == FEED
    raw = gzip.decompress(path.read_bytes()).replace(b"river festival", b"liver festival")
    changed = gzip.compress(raw, mtime=0)
    assert len(changed) == path.stat().st_size
    path.write_bytes(changed)
    assert_one_line_error(invoke(runner, db_url, "cat", PAGE.id), "changed since it was ingested")


def test_stats(runner: CliRunner, filled: str) -> None:
    result = invoke(runner, filled, "stats", "--json")
    assert result.exit_code == 0
    (stats,) = json_lines(result)
    assert (stats["files"], stats["records"]) == (2, 5)
    assert stats["records_by_type"] == {"request": 1, "resource": 1, "response": 2, "revisit": 1}
    assert stats["captures_by_year"] == {"2019": 3, "2023": 1}
    assert stats["top_hosts"] == [{"host": "org,example,news", "captures": 3}]
    assert stats["captures_by_label"] == {"pre": 3}
    assert stats["captures_by_evidence"] == {"captured": 2, "revisit": 1}
    assert stats["dangling_revisits"] == 0
    text = invoke(runner, filled, "stats")
    assert text.stdout.splitlines()[0] == "files    2  complete: 2"


# -- the catalog -----------------------------------------------------------------------------------


def test_db_upgrade_current_downgrade(runner: CliRunner, db_url: str) -> None:
    current = invoke(runner, db_url, "db", "current")
    assert current.exit_code == 0 and "schema at none (empty)" in current.stdout
    upgrade = invoke(runner, db_url, "db", "upgrade")
    assert upgrade.exit_code == 0 and upgrade.stdout.endswith(f"schema at {head_revision()}\n")
    current = invoke(runner, db_url, "db", "current")
    assert f"schema at {head_revision()}; newest known {head_revision()}" in current.stdout
    down = invoke(runner, db_url, "db", "downgrade", "base")
    assert down.exit_code == 0 and down.stdout.endswith("schema at base\n")
    assert "schema at none (empty)" in invoke(runner, db_url, "db", "current").stdout


def test_an_unknown_revision_is_one_line(runner: CliRunner, db_url: str) -> None:
    for command in ("upgrade", "downgrade"):
        result = invoke(runner, db_url, "db", command, "f00dfeed")
        assert_one_line_error(result, "cannot migrate", "f00dfeed")


def test_a_catalog_at_an_older_revision_is_refused(runner: CliRunner, db_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    revisions = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()]
    if len(revisions) < 2:
        pytest.skip("one schema revision only: no older catalog to refuse")
    assert invoke(runner, db_url, "db", "upgrade", revisions[-1]).exit_code == 0
    assert_one_line_error(invoke(runner, db_url, "stats"), "run `archivist db upgrade`")
    assert invoke(runner, db_url, "db", "upgrade").exit_code == 0
    assert invoke(runner, db_url, "stats").exit_code == 0


def test_every_command_creates_a_new_catalog(runner: CliRunner, db_url: str) -> None:
    result = invoke(runner, db_url, "stats", "--json")
    assert result.exit_code == 0
    assert json_lines(result)[0]["files"] == 0
    assert f"schema at {head_revision()}" in invoke(runner, db_url, "db", "current").stdout
    invoke(runner, db_url, "db", "downgrade", "base")
    assert invoke(runner, db_url, "lookup", "http://a.test/").exit_code == 0
    assert f"schema at {head_revision()}" in invoke(runner, db_url, "db", "current").stdout


def test_the_catalog_is_read_from_the_environment(tmp_path: Path, crawl: Path) -> None:
    db = tmp_path / "env.db"
    runner = CliRunner(env={"ARCHIVIST_DB": str(db)})
    assert runner.invoke(cli, ["ingest", str(crawl)]).exit_code == 0
    assert db.exists()


@pytest.mark.parametrize(
    ("db", "words"),
    [
        ("{tmp}/missing-dir/catalog.db", ["no such directory"]),
        ("{tmp}", ["cannot open catalog"]),
        ("{tmp}/not-a-db.db", ["not-a-db.db", "file is not a database"]),
        ("postgresql://nobody:secret@127.0.0.1:9/none", ["cannot open catalog"]),
        ("nosuchdialect://x/y", ["cannot use catalog"]),
    ],
    ids=["missing-dir", "directory", "not-sqlite", "unreachable-postgres", "unknown-scheme"],
)
def test_an_unusable_catalog_is_one_line(
    runner: CliRunner, tmp_path: Path, crawl: Path, db: str, words: list[str]
) -> None:
    (tmp_path / "not-a-db.db").write_bytes(b"these are not the tables you are looking for\n" * 50)
    db = db.format(tmp=tmp_path)
    for args in (
        ["ingest", str(crawl)],
        ["stats"],
        ["lookup", "http://a.test/"],
        ["db", "upgrade"],
    ):
        result = invoke(runner, db, *args)
        assert_one_line_error(result, *words)
        assert "secret" not in result.output


def test_a_catalog_damaged_after_it_opened_is_one_line(
    runner: CliRunner, tmp_path: Path, crawl: Path
) -> None:
    db = tmp_path / "catalog.db"
    assert invoke(runner, str(db), "ingest", str(crawl)).exit_code == 0
    # Clobber every page but the first (the schema): the catalog opens, queries fail.
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(page, len(data), page):
        data[start : start + page] = b"\xa5" * page
    db.write_bytes(bytes(data))
    for wal in tmp_path.glob("catalog.db-*"):
        wal.unlink()
    assert_one_line_error(invoke(runner, str(db), "stats"), "catalog")
    assert_one_line_error(invoke(runner, str(db), "lookup", "http://news.example.org/"), "catalog")


# -- the installed command -------------------------------------------------------------------------


def test_the_installed_archivist_runs(tmp_path: Path, crawl: Path) -> None:
    db = tmp_path / "catalog.db"
    result = subprocess.run(
        [*archivist_command(), "--db", str(db), "ingest", "--json", str(crawl)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == [
        "complete",
        "complete",
    ]
    assert result.stderr == ""  # not a terminal: no progress bar


# -- the real sample files -------------------------------------------------------------------------

GOOD_FILES = {
    "sample-0000.warc.gz": 48,
    "issue-493.warc": 32,
    "warcfile.warc.gz": 50,
    "137542-153-20111129020925-00316-kb-prod-har-003.kb.dk_truncated.arc": 4,
}


def warcio_index(path: Path) -> list[tuple[int, int, str]]:
    """(offset, length, WARC-Record-ID or ARC URL) of each record, as warcio reads it."""
    out = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, arc2warc=False)
        for record in it:
            out.append((it.get_record_offset(), it.get_record_length(), record.rec_type))
    return out


@pytest.mark.realdata
def test_the_shared_sample_files(runner: CliRunner, db_url: str, shared_warcs: Path) -> None:
    result = invoke(runner, db_url, "ingest", "--json", str(shared_warcs))
    assert result.exit_code == 1
    reports = {Path(r["path"]).name: r for r in json_lines(result)}
    assert len(reports) == 5
    clipped = reports.pop("clipped.warc.gz")
    assert clipped["status"] == "partial" and clipped["records"] == 1
    assert clipped["errors"] and {e["offset"] for e in clipped["errors"]} == {0}
    assert any("75207 of 88275" in e["message"] for e in clipped["errors"])
    assert result.stderr.splitlines() == [
        f"error: {clipped['path']} @ 0: {e['message']}" for e in clipped["errors"]
    ]
    assert {name: (r["status"], r["records"], r["errors"]) for name, r in reports.items()} == {
        name: ("complete", count, []) for name, count in GOOD_FILES.items()
    }

    catalog = Catalog.open(db_url)
    try:
        for report in reports.values():
            path = Path(report["path"])
            file = catalog.file_by_sha256(report["sha256"])
            assert file is not None and file.status == "complete"
            rows = list(catalog.records_of_file(file.id))
            assert [(r.offset, r.length) for r in rows] == [
                (offset, length) for offset, length, _ in warcio_index(path)
            ]
            _check_payloads(catalog, path, rows)
        total = catalog.count_records()
        assert total == sum(GOOD_FILES.values()) + 1
    finally:
        catalog.close()

    again = invoke(runner, db_url, "ingest", "--json", str(shared_warcs))
    assert again.exit_code == 0, again.stderr
    assert {r["status"] for r in json_lines(again)} == {"skipped"}
    stats = json_lines(invoke(runner, db_url, "stats", "--json"))[0]
    assert (stats["files"], stats["records"]) == (5, total)

    lookup = invoke(runner, db_url, "lookup", "https://soldaini.net/", "--json")
    (capture,) = json_lines(lookup)
    assert (capture["capture_time"], capture["status"]) == ("2024-04-25T16:24:44Z", 200)
    cat = invoke(runner, db_url, "cat", str(capture["id"]))
    assert cat.exit_code == 0
    assert hashlib.sha256(cat.stdout_bytes).hexdigest() == capture["payload_sha256"]
    same = invoke(runner, db_url, "lookup", "--sha256", capture["payload_sha256"], "--json")
    # Payload lookups mark the earliest verified capture of those bytes: this one.
    assert {**capture, "first_seen": True} in json_lines(same)


def _check_payloads(catalog: Catalog, path: Path, rows: list[Any]) -> None:
    """Every payload reads back to its SHA-256; plain ones equal warcio's content stream."""
    by_offset = {r.offset: r for r in rows}
    compared = 0
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, arc2warc=False)
        for record in it:
            content = record.content_stream().read()  # before the offset: that reads to the end
            row = by_offset[it.get_record_offset()]
            if row.payload_sha256 is None:
                continue
            out = io.BytesIO()
            read_payload(catalog, str(row.id), out)
            assert hashlib.sha256(out.getvalue()).hexdigest() == row.payload_sha256
            headers = record.http_headers
            plain = record.format != "arc" and record.rec_type in ("response", "resource")
            if headers is not None:
                plain = plain and not any(
                    headers.get_header(h) for h in ("Content-Encoding", "Transfer-Encoding")
                )
            if plain:
                assert out.getvalue() == content
                compared += 1
    assert compared > 0 or path.suffix == ".arc"
