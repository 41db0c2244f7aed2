"""The text stage: text hashes for captures, same-text evidence, and failures as statuses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from warcbuilder import response, revisit_of, write_warc

from archive.catalog import Catalog
from archive.ingest import ingest_file
from archive.models import Record
from archive.text import normalise_text
from archive.textstage import extract_catalog_texts
from cli.main import cli

ARTICLE = "Tomatoes need warm nights. We planted them out in late May, after the last frost."
OLD = f"""<html><head><title>Notes</title></head><body>
<div id="menu"><a href="/">Home</a> | <a href="/notes">Notes</a></div>
<h1>Tomatoes</h1><p>{ARTICLE}</p></body></html>""".encode()
NEW = f"""<!DOCTYPE html><html><body><header><nav><ul><li><a href="/">Start</a></li>
<li><a href="/n">All notes</a></li></ul></nav></header><main><article>
<h1 class="title">Tomatoes</h1>
<p class="lead">{ARTICLE}</p></article></main>
<footer>© 2024 Garden</footer></body></html>""".encode()


def _rows(catalog: Catalog) -> dict[str, tuple]:
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(
                Record.target_uri,
                Record.date_raw,
                Record.text_status,
                Record.text_sha256,
                Record.label,
                Record.evidence_kind,
            ).where(Record.is_capture.is_(True))
        ).all()
    return {f"{r.target_uri} {r.date_raw}": tuple(r[2:]) for r in rows}


def test_same_article_in_new_markup_is_same_text_evidence_in_either_order(
    catalog: Catalog, tmp_path: Path
) -> None:
    late = write_warc(
        tmp_path / "late.warc.gz", [response("http://g.test/tomatoes", NEW, "2024-02-01T00:00:00Z")]
    )
    early = write_warc(
        tmp_path / "early.warc.gz",
        [response("http://g.test/tomatoes", OLD, "2019-05-01T00:00:00Z")],
    )
    ingest_file(catalog, late)
    report = extract_catalog_texts(catalog)
    assert (report.files, report.captures, report.by_status) == (1, 1, {"ok": 1})
    assert _rows(catalog)["http://g.test/tomatoes 2024-02-01T00:00:00Z"][2:] == ("post", "none")
    ingest_file(catalog, early)
    extract_catalog_texts(catalog)
    rows = _rows(catalog)
    old = rows["http://g.test/tomatoes 2019-05-01T00:00:00Z"]
    new = rows["http://g.test/tomatoes 2024-02-01T00:00:00Z"]
    assert old[0] == new[0] == "ok" and old[1] == new[1]
    assert new[2:] == ("pre", "same-text")
    assert old[2:] == ("pre", "captured")
    # The hash is of the normalised text a user can give to `lookup --text`.
    assert new[1] == hashlib.sha256(normalise_text(f"Tomatoes {ARTICLE}").encode()).hexdigest()


def test_revisit_of_a_capture_promoted_by_same_text_follows_it(
    catalog: Catalog, tmp_path: Path
) -> None:
    new = response("http://g.test/t", NEW, "2024-02-01T00:00:00Z")
    ingest_file(
        catalog, write_warc(tmp_path / "a.warc.gz", [new, revisit_of(new, "2024-06-01T00:00:00Z")])
    )
    ingest_file(
        catalog,
        write_warc(
            tmp_path / "b.warc.gz", [response("http://g.test/old", OLD, "2019-05-01T00:00:00Z")]
        ),
    )
    extract_catalog_texts(catalog)
    assert _rows(catalog)["http://g.test/t 2024-06-01T00:00:00Z"][2:] == ("pre", "revisit")


def test_non_utf8_page_gets_its_text(catalog: Catalog, tmp_path: Path) -> None:
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю."
    page = f"<html><body><p>{text}</p></body></html>".encode("cp1251")
    ingest_file(
        catalog,
        write_warc(
            tmp_path / "ru.warc.gz",
            [
                response(
                    "http://ru.test/",
                    page,
                    "2020-01-01T00:00:00Z",
                    content_type="text/html; charset=windows-1251",
                )
            ],
        ),
    )
    extract_catalog_texts(catalog)
    status, digest, *_ = _rows(catalog)["http://ru.test/ 2020-01-01T00:00:00Z"]
    assert status == "ok"
    assert digest == hashlib.sha256(normalise_text(text).encode()).hexdigest()


def test_failures_are_statuses_and_non_text_is_left_alone(catalog: Catalog, tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    ingest_file(
        catalog,
        write_warc(
            tmp_path / "x.warc.gz",
            [
                response("http://x.test/binary-as-html", png, "2020-01-01T00:00:00Z"),
                response(
                    "http://x.test/blank", b"<html><body>   </body></html>", "2020-01-01T00:00:00Z"
                ),
                response(
                    "http://x.test/logo.png", png, "2020-01-01T00:00:00Z", content_type="image/png"
                ),
            ],
        ),
    )
    report = extract_catalog_texts(catalog)
    assert report.by_status == {"empty": 1, "error": 1}
    rows = _rows(catalog)
    assert rows["http://x.test/binary-as-html 2020-01-01T00:00:00Z"][:2] == ("error", None)
    assert rows["http://x.test/blank 2020-01-01T00:00:00Z"][:2] == ("empty", None)
    assert rows["http://x.test/logo.png 2020-01-01T00:00:00Z"][:2] == (None, None)
    # Byte-level evidence is untouched by a failed extraction.
    assert rows["http://x.test/binary-as-html 2020-01-01T00:00:00Z"][2:] == ("pre", "captured")
    # Nothing is extracted twice.
    assert extract_catalog_texts(catalog).captures == 0


def test_a_moved_file_is_reported_and_its_captures_wait(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "m.warc.gz", [response("http://m.test/", OLD, "2020-01-01T00:00:00Z")]
    )
    ingest_file(catalog, path)
    path.rename(tmp_path / "elsewhere.warc.gz")
    report = extract_catalog_texts(catalog)
    assert report.captures == 0
    assert len(report.problems) == 1 and "m.warc.gz" in report.problems[0]
    assert _rows(catalog)["http://m.test/ 2020-01-01T00:00:00Z"][0] is None


def test_cli_no_text_then_text_with_jobs(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    for n in range(3):
        write_warc(
            tmp_path / "w" / f"{n}.warc.gz",
            [response(f"http://t{n}.test/", OLD, f"201{n}-05-01T00:00:00Z")],
        ) if (tmp_path / "w").mkdir(exist_ok=True) is None else None
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db, "ingest", "--no-text", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert "text:" not in result.output
    result = runner.invoke(cli, ["--db", db, "text", "--jobs", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip())
    assert report["files"] == 3 and report["by_status"] == {"ok": 3}
    assert report["extractor"].startswith("resiliparse ")
    result = runner.invoke(cli, ["--db", db, "ingest", str(tmp_path / "w")])
    # Nothing left to extract: no text line at all.
    assert result.exit_code == 0 and "text:" not in result.output
