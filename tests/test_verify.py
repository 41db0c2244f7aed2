"""verify-export: a good export passes; an altered shard, an altered or moved source WARC, a
changed catalog each fail, naming the row; the exit status says so.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import update
from test_export import build_catalog, rows_of

from archive.catalog import Catalog
from archive.export import MANIFEST, ExportOptions, export_dataset
from archive.models import Record
from archive.verify import VerifyError, VerifyFailure, verify_export
from cli.main import cli


@pytest.fixture
def exported(catalog: Catalog, tmp_path: Path) -> tuple[dict[str, Path], Path]:
    warcs = build_catalog(catalog, tmp_path / "warcs")
    out = tmp_path / "out"
    export_dataset(catalog, out)
    return warcs, out


def failures_of(catalog: Catalog, out: Path, **options: object) -> list[VerifyFailure]:
    found: list[VerifyFailure] = []
    report = verify_export(catalog, out, on_failure=found.append, **options)  # type: ignore[arg-type]
    assert report.failures == len(found)
    assert report.ok == (not found)
    return found


def row_index(out: Path, start: str) -> int:
    return next(i for i, r in enumerate(rows_of(out)) if r["text"].startswith(start))


def test_a_good_export_passes_deep(catalog: Catalog, exported: tuple[dict, Path]) -> None:
    _, out = exported
    report = verify_export(catalog, out, deep=True)
    assert report.ok and report.rows == 5 and report.deep_checked == 5
    assert len(report.registered) == 1
    sampled = verify_export(catalog, out, deep=True, sample=2)
    assert sampled.ok and sampled.deep_checked == 2


def test_an_altered_parquet_shard_fails_naming_the_row(
    catalog: Catalog, exported: tuple[dict, Path]
) -> None:
    _, out = exported
    shard = out / "data" / "train-00000.parquet"
    table = pq.read_table(shard)
    index = row_index(out, "Garden")
    texts = table.column("text").to_pylist()
    texts[index] = texts[index].replace("shade", "sun")
    table = table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts))
    pq.write_table(table, shard, compression="zstd")
    found = failures_of(catalog, out)
    where = [f.where for f in found]
    assert "data/train-00000.parquet" in where  # its SHA-256 and size
    row = [f for f in found if f.where == f"data/train-00000.parquet row {index}"]
    assert len(row) == 1 and "text does not hash" in row[0].reason
    assert row[0].url == "http://garden.example.com/notes"


def test_an_altered_jsonl_shard_fails_naming_the_row(catalog: Catalog, tmp_path: Path) -> None:
    build_catalog(catalog, tmp_path / "warcs")
    out = tmp_path / "out"
    export_dataset(catalog, out, ExportOptions(format="jsonl.gz"))
    shard = out / "data" / "train-00000.jsonl.gz"
    lines = gzip.decompress(shard.read_bytes()).decode().splitlines()
    row = json.loads(lines[2])
    row["label"] = "post"
    row["evidence"]["kind"] = "captured"
    lines[2] = json.dumps(row, ensure_ascii=False)
    shard.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    found = failures_of(catalog, out)
    named = [f for f in found if f.where == "data/train-00000.jsonl.gz row 2"]
    assert len(named) == 1
    assert "label 'post' is not one the export selected" in named[0].reason
    assert "label is 'pre' in the catalog" in named[0].reason


def test_an_altered_source_warc_fails_deep_naming_the_row(
    catalog: Catalog, exported: tuple[dict, Path]
) -> None:
    warcs, out = exported
    data = bytearray(warcs["2020"].read_bytes())
    data[data.index(b"Three summers")] = ord("t")  # same size, other bytes
    warcs["2020"].write_bytes(bytes(data))
    assert verify_export(catalog, out).ok  # the shards and the catalog still agree
    found = failures_of(catalog, out, deep=True)
    index = row_index(out, "Garden")
    assert [f.where for f in found] == [f"data/train-00000.parquet row {index}"]
    assert "payload SHA-256" in found[0].reason and "changed" in found[0].reason


def test_a_moved_source_warc_fails_every_row_it_holds(
    catalog: Catalog, exported: tuple[dict, Path]
) -> None:
    warcs, out = exported
    warcs["2019"].rename(warcs["2019"].with_name("elsewhere.warc.gz"))
    found = failures_of(catalog, out, deep=True)
    from_2019 = [i for i, r in enumerate(rows_of(out)) if r["warc_file"].endswith("2019.warc.gz")]
    assert [f.where for f in found] == [f"data/train-00000.parquet row {i}" for i in from_2019]
    assert all("moved or deleted" in f.reason for f in found)


def test_a_changed_catalog_fails_the_rows_it_no_longer_backs(
    catalog: Catalog, exported: tuple[dict, Path]
) -> None:
    _, out = exported
    with catalog.engine.begin() as connection:
        connection.execute(
            update(Record)
            .where(Record.target_uri == "http://garden.example.com/notes")
            .values(label="post", evidence_kind="none", evidence_record_id=None)
        )
    found = failures_of(catalog, out)
    index = row_index(out, "Garden")
    assert [f.where for f in found] == [f"data/train-00000.parquet row {index}"]
    assert "label is 'post' in the catalog" in found[0].reason


def test_missing_extra_and_miscounted_shards(catalog: Catalog, tmp_path: Path) -> None:
    build_catalog(catalog, tmp_path / "warcs")
    out = tmp_path / "out"
    export_dataset(catalog, out, ExportOptions(shard_size=600))
    manifest = json.loads((out / MANIFEST).read_text())
    first, second = manifest["shards"][0]["file"], manifest["shards"][1]["file"]
    (out / second).rename(out / "data" / "train-09999.parquet")
    manifest["shards"][0]["rows"] += 1
    (out / MANIFEST).write_text(json.dumps(manifest))
    reasons = {f.where: f.reason for f in failures_of(catalog, out)}
    assert reasons[second] == "missing"
    assert reasons["data/train-09999.parquet"] == "a shard that the manifest does not list"
    assert "rows, the manifest says" in reasons[first]


def test_not_an_export_is_one_error(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(VerifyError, match=r"no manifest\.json"):
        verify_export(catalog, tmp_path)
    (tmp_path / MANIFEST).write_text("{}")
    with pytest.raises(VerifyError, match="not an archivist export"):
        verify_export(catalog, tmp_path)


def test_a_manifest_cannot_point_outside_out_dir(
    catalog: Catalog, exported: tuple[dict, Path]
) -> None:
    _, out = exported
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["shards"][0]["file"] = "../../etc/passwd"
    (out / MANIFEST).write_text(json.dumps(manifest))
    reasons = {f.where: f.reason for f in failures_of(catalog, out)}
    assert reasons == {
        "../../etc/passwd": "not a shard name of this export",
        "data/train-00000.parquet": "a shard that the manifest does not list",
    }


def test_cli_exit_status_and_named_failures(
    db_url: str, catalog: Catalog, exported: tuple[dict, Path]
) -> None:
    warcs, out = exported
    runner = CliRunner()
    ok = runner.invoke(cli, ["--db", db_url, "verify-export", str(out)])
    assert ok.exit_code == 0, ok.output
    warcs["2019"].unlink()
    bad = runner.invoke(cli, ["--db", db_url, "verify-export", "--deep", str(out)])
    assert bad.exit_code == 1
    lines = bad.output.splitlines()
    assert lines[0].startswith("FAIL data/train-00000.parquet row ")
    assert "moved or deleted" in lines[0]
    assert lines[-1].startswith("4 failures: 1 shards, 5 rows checked, 5 against their WARC files")
    as_json = runner.invoke(cli, ["--db", db_url, "verify-export", "--deep", "--json", str(out)])
    objects = [json.loads(line) for line in as_json.output.splitlines()]
    assert objects[-1]["ok"] is False and objects[-1]["failures"] == 4
    assert objects[0]["failure"]["where"].startswith("data/train-00000.parquet row ")
    usage = runner.invoke(cli, ["--db", db_url, "verify-export", "--sample", "3", str(out)])
    assert usage.exit_code == 2
