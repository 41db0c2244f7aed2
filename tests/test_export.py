"""Exports: only `pre` documents with evidence, dedup, byte-identical reruns, resuming, OUT_DIR
safety, filters, failures counted, registration, and shards that other tools load as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import update
from warcbuilder import exchange, response, revisit_of, write_warc

from archive.catalog import Catalog, exports_of_record
from archive.cutoffs import parse_cutoff
from archive.errors import SourceChangedError, SourceError
from archive.export import (
    MANIFEST,
    STATE,
    ExportError,
    ExportOptions,
    document_id,
    export_dataset,
    parse_size,
)
from archive.ingest import ingest_file
from archive.models import Record, WarcFile
from archive.remote import RemoteOptions
from archive.verify import iter_rows, verify_export
from cli.main import cli

CUTOFF = datetime(2022, 11, 30, tzinfo=UTC)
D19, D20, D21, D24 = (
    "2019-05-01T10:00:00Z",
    "2020-03-02T11:00:00Z",
    "2021-07-03T12:00:00Z",
    "2024-02-01T09:00:00Z",
)
ARTICLE_EN = (
    "The river festival returned to the Alder on Saturday. More than four thousand people "
    "lined the banks to watch the raft race, which was won for the third year running by a "
    "crew from the fire station in a craft built from a bathtub and forty plastic drums."
)
ARTICLE_DE = (
    "Das Flussfest kehrte am Samstag an die Alder zurück. Mehr als viertausend Menschen "
    "säumten die Ufer, um das Floßrennen zu sehen, das zum dritten Mal in Folge von einer "
    "Mannschaft der Feuerwache gewonnen wurde, in einem Boot aus einer Badewanne und Fässern."
)
ARTICLE_FR = (
    "La fête de la rivière est revenue samedi sur les bords de l'Alder. Plus de quatre mille "
    "personnes ont regardé la course de radeaux, gagnée pour la troisième année consécutive "
    "par une équipe des pompiers, sur une embarcation faite d'une baignoire et de bidons."
)
GARDEN_EN = (
    "Three summers in, I have stopped fighting the shade. The small yellow tomatoes still "
    "ripen against the back fence, while the big ones sulk until October and split in the rain."
)
NEW_EN = (
    "The ferry timetable adds an early sailing from March: the boat will leave the harbour at "
    "a quarter past six on weekdays, forty-five minutes earlier than it does now."
)


def page(title: str, body: str, *, chrome: str = "") -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body>{chrome}<article><h1>{title}</h1>"
        f"<p>{body}</p></article></body></html>"
    ).encode()


def text_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title} {body}".encode()).hexdigest()


def build_catalog(catalog: Catalog, folder: Path) -> dict[str, Path]:
    """Three crawls, ingested newest first (so ids do not follow capture time).

    - 2024 (gzip): the English article again (post, same text as 2019: pre by same-text), a
      new article (post), a revisit of the German page (pre by revisit);
    - 2020 (plain): the English article in new markup (pre, duplicate), a garden note;
    - 2019 (gzip): English, German and French articles, robots.txt, a blank page, an image
      served as HTML, a PNG, and a page whose digest does not verify (unverified).
    """
    folder.mkdir(parents=True, exist_ok=True)
    en19 = response("http://news.example.org/festival", page("Festival", ARTICLE_EN), D19)
    de19 = response("http://news.example.de/flussfest", page("Flussfest", ARTICLE_DE), D19)
    crawl19 = [
        *exchange(en19),
        de19,
        response("http://news.example.fr/fete", page("Fête", ARTICLE_FR), D19),
        response(
            "http://news.example.org/robots.txt",
            b"User-agent: *\nDisallow: /admin/\n",
            D19,
            content_type="text/plain",
        ),
        response("http://news.example.org/blank", b"<html><body> </body></html>", D19),
        response("http://news.example.org/pic", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), D19),
        response(
            "http://news.example.org/logo.png",
            b"\x89PNG\r\n" + bytes(300),
            D19,
            content_type="image/png",
        ),
        response(
            "http://news.example.org/tampered",
            page("Tampered", GARDEN_EN + " (tampered)"),
            D19,
            payload_digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
    ]
    crawl20 = [
        response(
            "http://www.news.example.org/2020/festival",
            page("Festival", ARTICLE_EN, chrome='<nav><a href="/">Home</a></nav>'),
            D20,
        ),
        response("http://garden.example.com/notes", page("Garden", GARDEN_EN), D20),
    ]
    crawl24 = [
        response(
            "http://news.example.org/festival",
            page("Festival", ARTICLE_EN, chrome="<footer>© 2024</footer>"),
            D24,
        ),
        response("http://news.example.org/ferry", page("Ferry", NEW_EN), D24),
        revisit_of(de19, D24),
    ]
    paths = {
        "2024": write_warc(folder / "2024.warc.gz", crawl24),
        "2020": write_warc(folder / "2020.warc", crawl20),
        "2019": write_warc(folder / "2019.warc.gz", crawl19),
    }
    for path in paths.values():
        ingest_file(catalog, path)
    return paths


def rows_of(out: Path) -> list[dict[str, Any]]:
    return list(iter_rows(out))


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "data").iterdir())}


@pytest.fixture
def built(catalog: Catalog, tmp_path: Path) -> dict[str, Path]:
    return build_catalog(catalog, tmp_path / "warcs")


def test_only_pre_documents_each_with_its_evidence(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    result = export_dataset(catalog, tmp_path / "out")
    rows = rows_of(tmp_path / "out")
    texts = {r["text"].split(" ", 1)[0] for r in rows}
    # The 2024-only article is post; the tampered page is unverified; neither is exported.
    assert texts == {"Festival", "Flussfest", "Fête", "Garden", "User-agent:"}
    for row in rows:
        assert row["label"] == "pre"
        evidence = row["evidence"]
        assert evidence["kind"] in ("captured", "same-payload", "revisit", "same-text")
        assert evidence["capture_time"] < CUTOFF and evidence["warc_sha256"]
        assert row["id"] == document_id(row["text_sha256"])
        assert hashlib.sha256(row["text"].encode()).hexdigest() == row["text_sha256"]
    counts = result.counts
    assert counts["rows"] == 5 and counts["by_label"] == {"pre": 5}
    statuses = counts["selected_by_text_status"]
    # The blank page and the image served as HTML are counted, never exported empty; the
    # revisit of the German page has no payload of its own.
    assert statuses["empty"] == 1 and statuses["error"] == 1 and statuses["revisit"] == 1
    assert all(r["text"] for r in rows)


def test_dedup_keeps_the_earliest_verified_capture(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    result = export_dataset(catalog, tmp_path / "out")
    rows = rows_of(tmp_path / "out")
    festival = [r for r in rows if r["text"].startswith("Festival ")]
    assert len(festival) == 1
    row = festival[0]
    # Captured in 2019, 2020 (other markup) and 2024 (pre by same-text): 2019 wins, although
    # its file was ingested last.
    assert row["capture_time"] == datetime(2019, 5, 1, 10, tzinfo=UTC)
    assert row["warc_file"].endswith("2019.warc.gz")
    assert row["duplicates"] == 2
    assert row["evidence"]["kind"] == "captured"
    assert row["text_sha256"] == text_hash("Festival", ARTICLE_EN)
    assert result.counts["duplicates_dropped"] == 2
    # A revisit is a capture of its original's text too.
    assert next(r for r in rows if r["text"].startswith("Flussfest"))["duplicates"] == 1


def test_rows_are_in_file_and_offset_order_with_the_documented_schema(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    export_dataset(catalog, tmp_path / "out")
    rows = rows_of(tmp_path / "out")
    assert list(rows[0]) == [
        "id",
        "text",
        "url",
        "capture_time",
        "label",
        "evidence",
        "warc_file",
        "warc_sha256",
        "offset",
        "length",
        "warc_record_id",
        "record_id",
        "payload_sha256",
        "text_sha256",
        "language",
        "language_score",
        "mime",
        "duplicates",
    ]
    # Files in catalog order (the 2020 file was ingested before the 2019 one), then offsets.
    keys = [(r["warc_file"].endswith("2019.warc.gz"), r["offset"]) for r in rows]
    assert keys == sorted(keys)
    languages = {r["text"].split(" ", 1)[0]: r["language"] for r in rows}
    assert languages["Festival"] == "en" and languages["Flussfest"] == "de"
    assert languages["Fête"] == "fr"
    assert all(0 < r["language_score"] <= 1 for r in rows)


@pytest.mark.parametrize("export_format", ["parquet", "jsonl.zst", "jsonl.gz"])
def test_same_catalog_and_arguments_give_byte_identical_shards(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path, export_format: str
) -> None:
    options = ExportOptions(format=export_format, shard_size=600)  # type: ignore[arg-type]
    first = export_dataset(catalog, tmp_path / "a", options)
    second = export_dataset(catalog, tmp_path / "b", options)
    assert len(first.manifest["shards"]) > 1
    assert shard_bytes(tmp_path / "a") == shard_bytes(tmp_path / "b")
    assert (tmp_path / "a" / MANIFEST).read_bytes() == (tmp_path / "b" / MANIFEST).read_bytes()
    assert first.manifest_sha256 == second.manifest_sha256
    for shard in first.manifest["shards"]:
        data = (tmp_path / "a" / shard["file"]).read_bytes()
        assert len(data) == shard["bytes"]
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
    assert sum(s["rows"] for s in first.manifest["shards"]) == first.counts["rows"]
    assert verify_export(catalog, tmp_path / "a", deep=True).ok


class Interrupted(Exception):
    pass


def test_an_interrupted_export_resumes_without_redoing_finished_shards(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    options = ExportOptions(shard_size=600)
    clean = export_dataset(catalog, tmp_path / "clean", options)
    assert len(clean.manifest["shards"]) >= 3

    def stop_after_three(done: int, total: int) -> None:
        if done > 3:
            raise Interrupted

    out = tmp_path / "out"
    with pytest.raises(Interrupted):
        export_dataset(catalog, out, options, on_progress=stop_after_three)
    state = json.loads((out / STATE).read_text())
    finished = [s["file"] for s in state["shards"]]
    assert finished and not state["complete"]
    assert not (out / MANIFEST).exists()
    # Only finished shards are in data/: the one being written was dropped.
    assert sorted(f"data/{p.name}" for p in (out / "data").iterdir()) == finished
    inodes = {f: os.stat(out / f).st_ino for f in finished}

    resumed = export_dataset(catalog, out, options)
    assert resumed.resumed_shards == len(finished)
    assert {f: os.stat(out / f).st_ino for f in finished} == inodes
    assert shard_bytes(out) == shard_bytes(tmp_path / "clean")
    assert resumed.manifest == clean.manifest
    # Run again once complete: nothing to do, same bytes.
    again = export_dataset(catalog, out, options)
    assert again.resumed_shards == len(clean.manifest["shards"])
    assert shard_bytes(out) == shard_bytes(tmp_path / "clean")
    # A finished shard that went missing is not silently listed again.
    (out / finished[0]).unlink()
    with pytest.raises(ExportError, match="missing or changed"):
        export_dataset(catalog, out, options)
    export_dataset(catalog, out, options, overwrite=True)
    assert shard_bytes(out) == shard_bytes(tmp_path / "clean")


def test_a_non_empty_out_dir_is_refused_unless_overwrite(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_dataset(catalog, out)
    export_dataset(catalog, out, overwrite=True)
    # Overwrite removes only what an export writes.
    assert (out / "notes.txt").read_text() == "mine"
    # Other arguments over an existing export: refused, then replaced with --overwrite.
    with pytest.raises(ExportError, match="other arguments"):
        export_dataset(catalog, out, ExportOptions(min_chars=50))
    result = export_dataset(catalog, out, ExportOptions(min_chars=200), overwrite=True)
    assert all(len(r["text"]) >= 200 for r in rows_of(out))
    assert result.counts["skipped"]["min_chars"] >= 1
    assert (out / "notes.txt").read_text() == "mine"


def test_never_writes_through_links_out_of_out_dir(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "data").symlink_to(outside)
    with pytest.raises(ExportError, match="link"):
        export_dataset(catalog, out, overwrite=True)
    (out / "data").unlink()
    (out / "data").mkdir()
    # A link planted where a shard's temporary file goes is replaced, never followed.
    (out / "data" / ".train-00000.parquet.tmp").symlink_to(outside / "victim")
    (out / MANIFEST).symlink_to(outside / "manifest")
    export_dataset(catalog, out, overwrite=True)
    assert list(outside.iterdir()) == []
    assert not (out / MANIFEST).is_symlink()


def test_another_cutoff_than_the_catalogs_is_refused(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match="relabel --cutoff gpt3"):
        export_dataset(catalog, tmp_path / "out", ExportOptions(cutoff=parse_cutoff("gpt3")))
    same = ExportOptions(cutoff=parse_cutoff("2022-11-30"))
    assert export_dataset(catalog, tmp_path / "out", same).manifest["cutoff"]["name"] == "chatgpt"


def test_filters(catalog: Catalog, built: dict[str, Path], tmp_path: Path) -> None:
    def firsts(n: int, **options: Any) -> set[str]:
        out = tmp_path / f"out{n}"
        export_dataset(catalog, out, ExportOptions(**options))
        return {r["text"].split(" ", 1)[0] for r in rows_of(out)}

    assert firsts(1, mimes=("text/plain",)) == {"User-agent:"}
    assert firsts(2, languages=("de", "fr")) == {"Flussfest", "Fête"}
    assert firsts(3, hosts=("news.example.org",)) == {"Festival", "User-agent:"}
    assert firsts(4, domains=("example.de",)) == {"Flussfest"}
    assert firsts(5, since=datetime(2020, 1, 1, tzinfo=UTC)) == {"Festival", "Garden"}
    assert firsts(6, until=datetime(2020, 1, 1, tzinfo=UTC)) == {
        "Festival",
        "Flussfest",
        "Fête",
        "User-agent:",
    }
    assert firsts(7, min_chars=100) == {"Festival", "Flussfest", "Fête", "Garden"}
    assert len(firsts(8, limit=2)) == 2
    # Widened labels: the post-only article comes in, and the manifest says so.
    widened = export_dataset(catalog, tmp_path / "w", ExportOptions(labels=("pre", "post")))
    assert "Ferry" in {r["text"].split(" ", 1)[0] for r in rows_of(tmp_path / "w")}
    assert widened.manifest["arguments"]["labels_widened"] is True
    assert widened.counts["by_label"] == {"post": 1, "pre": 5}


def test_sampling_is_deterministic_by_seed(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    def ids(name: str, seed: int) -> list[str]:
        export_dataset(catalog, tmp_path / name, ExportOptions(sample_rate=0.5, seed=seed))
        return [r["id"] for r in rows_of(tmp_path / name)]

    everything = {
        r["id"] for r in (export_dataset(catalog, tmp_path / "all") and rows_of(tmp_path / "all"))
    }
    picks = {seed: ids(f"s{seed}", seed) for seed in range(6)}
    assert ids("again", 3) == picks[3]
    assert all(set(p) <= everything for p in picks.values())
    assert len({tuple(p) for p in picks.values()}) > 1


def test_the_text_stage_runs_first_when_texts_are_missing(catalog: Catalog, tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "a.warc.gz",
        [response("http://a.example/", page("Garden", GARDEN_EN), D21)],
    )
    ingest_file(catalog, path)  # the byte-level pass only: no text hashes yet
    result = export_dataset(catalog, tmp_path / "out")
    assert result.counts["rows"] == 1


def test_a_moved_or_changed_source_stops_the_export_and_a_rerun_finishes_it(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    export_dataset(catalog, tmp_path / "first")  # the text stage has run
    moved = built["2019"].with_name("moved.warc.gz")
    built["2019"].rename(moved)
    with pytest.raises(SourceError, match="moved or deleted"):
        export_dataset(catalog, tmp_path / "out")
    moved.rename(built["2019"])
    # The 2020 file is plain: flip a byte of a payload, keeping the size.
    data = bytearray(built["2020"].read_bytes())
    at = data.index(b"Three summers")
    data[at] = ord("t")
    built["2020"].write_bytes(bytes(data))
    with pytest.raises(SourceChangedError, match="changed since it was ingested"):
        export_dataset(catalog, tmp_path / "out", overwrite=True)


def test_an_export_is_registered_and_show_names_it(
    catalog: Catalog, db_url: str, built: dict[str, Path], tmp_path: Path
) -> None:
    result = export_dataset(catalog, tmp_path / "out")
    rows = rows_of(tmp_path / "out")
    record_id = rows[0]["record_id"]
    refs = exports_of_record(catalog, record_id)
    assert [r.id for r in refs] == [result.registered.id]
    assert refs[0].manifest_sha256 == result.manifest_sha256
    assert refs[0].out_dir == str(tmp_path / "out") and refs[0].rows == len(rows)
    shown = CliRunner().invoke(cli, ["--db", db_url, "show", str(record_id)])
    assert f"#{result.registered.id} {tmp_path / 'out'}" in shown.stdout
    as_json = CliRunner().invoke(cli, ["--db", db_url, "show", str(record_id), "--json"])
    exports = json.loads(as_json.stdout)["exports"]
    assert [e["manifest_sha256"] for e in exports] == [result.manifest_sha256]
    # Exporting again to the same folder replaces the registration, not adds one.
    export_dataset(catalog, tmp_path / "out", ExportOptions(min_chars=1), overwrite=True)
    assert len(exports_of_record(catalog, record_id)) == 1
    export_dataset(catalog, tmp_path / "other")
    assert len(exports_of_record(catalog, record_id)) == 2


def test_labels_stored_for_the_catalog_are_what_is_exported(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    # A capture relabelled `post` (as a stricter cutoff would) is not exported any more.
    export_dataset(catalog, tmp_path / "before")
    with catalog.engine.begin() as connection:
        connection.execute(
            update(Record)
            .where(Record.target_uri == "http://garden.example.com/notes")
            .values(label="post", evidence_kind="none", evidence_record_id=None)
        )
    export_dataset(catalog, tmp_path / "after")
    before = {r["text"].split(" ", 1)[0] for r in rows_of(tmp_path / "before")}
    after = {r["text"].split(" ", 1)[0] for r in rows_of(tmp_path / "after")}
    assert before - after == {"Garden"}


def test_parse_size() -> None:
    assert parse_size("256MB") == 256_000_000
    assert parse_size("1.5GB") == 1_500_000_000
    assert parse_size("64MiB") == 64 << 20
    assert parse_size("500k") == 500_000
    assert parse_size("1000") == 1000
    for bad in ("", "MB", "-1MB", "1 XB", "0"):
        with pytest.raises(ExportError):
            parse_size(bad)


def test_shards_load_as_they_are_in_pyarrow_pandas_duckdb_and_datasets(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    result = export_dataset(catalog, out, ExportOptions(shard_size=600))
    rows = result.counts["rows"]
    table = pq.read_table(out / "data")
    assert table.num_rows == rows
    pandas = pytest.importorskip("pandas")
    assert len(pandas.read_parquet(out / "data")) == rows
    duckdb = pytest.importorskip("duckdb")
    query = f"SELECT count(*), count(DISTINCT id) FROM '{out}/data/*.parquet'"
    assert duckdb.sql(query).fetchall() == [(rows, rows)]
    kinds = duckdb.sql(f"SELECT DISTINCT evidence.kind FROM '{out}/data/*.parquet'").fetchall()
    assert {k for (k,) in kinds} <= {"captured", "same-payload", "revisit", "same-text"}
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    loaded = datasets.load_dataset("parquet", data_dir=str(out), split="train")
    assert loaded.num_rows == rows
    assert sorted(loaded["id"]) == sorted(table.column("id").to_pylist())
    # The card's YAML header makes the folder itself loadable as a dataset repository.
    from_card = datasets.load_dataset(str(out), split="train")
    assert from_card.num_rows == rows


def test_jsonl_shards_load_in_datasets(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    result = export_dataset(catalog, out, ExportOptions(format="jsonl.zst"))
    rows = rows_of(out)
    assert rows[0]["capture_time"].endswith("Z")
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    loaded = datasets.load_dataset("json", data_files=str(out / "data" / "*.jsonl.zst"))
    assert loaded["train"].num_rows == result.counts["rows"]


def test_the_shared_sample_files(catalog: Catalog, shared_warcs: Path, tmp_path: Path) -> None:
    for path in sorted(shared_warcs.rglob("*")):
        if path.is_file() and path.name != "SOURCES.md":
            ingest_file(catalog, path)
    out = tmp_path / "out"
    result = export_dataset(catalog, out)
    rows = rows_of(out)
    assert rows and result.counts["rows"] == len(rows)
    for row in rows:
        assert row["label"] == "pre"
        assert row["evidence"]["capture_time"] < CUTOFF
        # The 2024 crawl (allenai-dolma) is after the cutoff: none of its captures is there
        # on its own date.
        assert not (row["capture_time"] >= CUTOFF and row["evidence"]["kind"] == "captured")
    assert not any("clipped" in row["warc_file"] for row in rows)  # damaged: unverified
    assert verify_export(catalog, out, deep=True).ok
    again = export_dataset(catalog, tmp_path / "again")
    assert shard_bytes(out) == shard_bytes(tmp_path / "again")
    assert again.manifest_sha256 == result.manifest_sha256


def test_cli_export_then_verify(built: dict[str, Path], db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(cli, ["--db", db_url, "export", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("exported 5 documents")
    assert "registered as export" in result.output
    again = runner.invoke(cli, ["--db", db_url, "export", str(out), "--json", "--lang", "xx"])
    assert again.exit_code == 1
    assert again.output.strip().startswith("Error: unknown language code 'xx'")
    assert len(again.output.strip().splitlines()) == 1
    refused = runner.invoke(cli, ["--db", db_url, "export", str(out), "--min-chars", "9"])
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    cutoff = runner.invoke(cli, ["--db", db_url, "export", str(out), "--cutoff", "gpt2"])
    assert cutoff.exit_code == 1 and "archivist relabel --cutoff gpt2" in cutoff.output
    verified = runner.invoke(cli, ["--db", db_url, "verify-export", "--deep", str(out)])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("ok: 1 shards, 5 rows checked, 5 against their WARC files")
    as_json = runner.invoke(
        cli, ["--db", db_url, "export", str(tmp_path / "j"), "--format", "jsonl.gz", "--json"]
    )
    summary = json.loads(as_json.output)
    assert summary["counts"]["rows"] == 5 and summary["shards"][0]["file"].endswith(".jsonl.gz")


def test_a_folder_copy_verifies_and_the_catalog_knows_it(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    export_dataset(catalog, tmp_path / "out")
    shutil.copytree(tmp_path / "out", tmp_path / "copy")
    report = verify_export(catalog, tmp_path / "copy")
    assert report.ok and [r.out_dir for r in report.registered] == [str(tmp_path / "out")]


def test_a_remote_source_that_cannot_be_fetched_is_named(
    catalog: Catalog, built: dict[str, Path], tmp_path: Path
) -> None:
    export_dataset(catalog, tmp_path / "first")  # texts extracted while the file was local
    url = "http://127.0.0.1:9/2019.warc.gz"  # the discard port: nothing listens there
    with catalog.engine.begin() as connection:
        connection.execute(
            update(WarcFile).where(WarcFile.location == str(built["2019"])).values(location=url)
        )
    once = RemoteOptions(attempts=1, backoff=0.01)
    with pytest.raises(SourceError, match=f"^{re.escape(url)}: cannot connect"):
        export_dataset(catalog, tmp_path / "out", remote=once)
    report = verify_export(catalog, tmp_path / "first", deep=True, remote=once)
    assert not report.ok
    assert all(
        f"cannot be fetched: {url}: cannot connect" in f.reason or "warc_file is" in f.reason
        for f in report.first_failures
    )
