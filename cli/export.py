"""`archivist export` and `archivist verify-export`: options in, one library call, a summary out."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from archive.cutoffs import parse_cutoff
from archive.evidence import LABELS
from archive.export import (
    DEFAULT_MIMES,
    FORMATS,
    ExportOptions,
    ExportResult,
    export_dataset,
    parse_size,
)
from archive.remote import RemoteOptions
from archive.verify import VerifyFailure, VerifyReport, verify_export
from cli.main import _catalog, _fail_cleanly, _instant
from cli.remote_options import remote_options


@contextmanager
def _progress(enabled: bool, desc: str, unit: str) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(file=sys.stderr, desc=desc, unit=unit, leave=False) as bar:

        def update(done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        yield update


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeated options and comma-separated lists alike: ``--lang en,de --lang fr``."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@click.command("export")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--cutoff",
    envvar="ARCHIVIST_CUTOFF",
    help="Cutoff the labels are for (default: the catalog's; another one is refused).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    type=click.Choice(LABELS),
    help="Labels to export (repeatable; default pre). Widening is recorded in the manifest.",
)
@click.option(
    "--mime",
    "mimes",
    multiple=True,
    metavar="TYPE",
    help=f"Media types (repeatable; default {', '.join(DEFAULT_MIMES)}).",
)
@click.option(
    "--lang",
    "languages",
    multiple=True,
    metavar="CODE",
    help="Only these languages (repeatable, or comma-separated: en,de).",
)
@click.option("--host", "hosts", multiple=True, help="Only captures of this host (repeatable).")
@click.option(
    "--domain", "domains", multiple=True, help="Only this domain and its subdomains (repeatable)."
)
@click.option("--from", "since", metavar="T", help="Only captures at or after T (ISO 8601).")
@click.option("--to", "until", metavar="T", help="Only captures before T (ISO 8601).")
@click.option(
    "--min-chars", default=0, show_default=True, type=click.IntRange(0), help="Shortest text."
)
@click.option("--limit", type=click.IntRange(1), help="At most this many documents.")
@click.option(
    "--sample-rate",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True),
    help="Keep this fraction of the texts, chosen by their hash and --seed.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of --sample-rate.")
@click.option(
    "--format",
    "export_format",
    default="parquet",
    show_default=True,
    type=click.Choice(FORMATS),
    help="Shard format: Parquet (zstd) or JSON Lines (zstd or gzip).",
)
@click.option(
    "--shard-size",
    default="256MB",
    show_default=True,
    metavar="SIZE",
    help="Target size of a shard (e.g. 256MB, 1GB, 64MiB).",
)
@click.option("--overwrite", is_flag=True, help="Replace an earlier export in OUT_DIR.")
@click.option("--json", "as_json", is_flag=True, help="The manifest's counts as one JSON object.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: on when stderr is a terminal).",
)
@remote_options
@click.pass_context
@_fail_cleanly
def export_command(
    ctx: click.Context,
    out_dir: Path,
    cutoff: str | None,
    labels: tuple[str, ...],
    mimes: tuple[str, ...],
    languages: tuple[str, ...],
    hosts: tuple[str, ...],
    domains: tuple[str, ...],
    since: str | None,
    until: str | None,
    min_chars: int,
    limit: int | None,
    sample_rate: float,
    seed: int,
    export_format: str,
    shard_size: str,
    overwrite: bool,
    as_json: bool,
    progress: bool | None,
    remote: RemoteOptions,
) -> None:
    """Export the catalog's human-era texts to OUT_DIR: shards, manifest.json and README.md.

    By default only `pre` captures (verified before the cutoff), HTML and plain text, one row
    per distinct text (its earliest verified capture). An interrupted export, run again with
    the same arguments, resumes; the same catalog and arguments give byte-identical shards.
    """
    options = ExportOptions(
        cutoff=parse_cutoff(cutoff) if cutoff else None,
        labels=labels or ("pre",),
        mimes=_split(mimes) or DEFAULT_MIMES,
        languages=_split(languages),
        hosts=_split(hosts),
        domains=_split(domains),
        since=_instant(since, "--from"),
        until=_instant(until, "--to"),
        min_chars=min_chars,
        limit=limit,
        sample_rate=sample_rate,
        seed=seed,
        format=export_format,  # type: ignore[arg-type]
        shard_size=parse_size(shard_size),
    )
    show_bar = sys.stderr.isatty() if progress is None else progress
    with _catalog(ctx) as catalog, _progress(show_bar, "export", "doc") as advance:
        result = export_dataset(
            catalog, out_dir, options, overwrite=overwrite, on_progress=advance, remote=remote
        )
    if as_json:
        click.echo(json.dumps(_summary_dict(result), ensure_ascii=False))
    else:
        for line in _summary_lines(result):
            click.echo(line)


def _summary_dict(result: ExportResult) -> dict[str, Any]:
    return {
        "out_dir": str(result.out_dir),
        "manifest_sha256": result.manifest_sha256,
        "export_id": result.registered.id,
        "resumed_shards": result.resumed_shards,
        "shards": result.manifest["shards"],
        "counts": result.counts,
    }


def _summary_lines(result: ExportResult) -> list[str]:
    counts = result.counts
    shards = result.manifest["shards"]
    size = sum(s["bytes"] for s in shards)
    kept = result.resumed_shards
    lines = [
        f"exported {counts['rows']} documents ({counts['text_bytes']:,} bytes of text) "
        f"to {len(shards)} shards ({size:,} bytes) in {result.out_dir}"
        + (f"; {kept} shards kept from an earlier run" if kept else "")
    ]
    lines.append(f"  duplicates dropped  {counts['duplicates_dropped']}")
    for name, key in (
        ("by evidence", "by_evidence"),
        ("by language", "by_language"),
        ("by year", "by_year"),
        ("skipped", "skipped"),
        ("selected captures", "selected_by_text_status"),
    ):
        values = counts[key]
        text = ", ".join(f"{k}: {v}" for k, v in sorted(values.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {name:<18}  {text or '-'}")
    if counts["limit_reached"]:
        lines.append("  limit reached")
    lines.append(
        f"manifest {result.out_dir / 'manifest.json'} (sha256 {result.manifest_sha256[:16]}…); "
        f"registered as export {result.registered.id}"
    )
    return lines


@click.command("verify-export")
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--deep", is_flag=True, help="Re-read every row's record from its WARC file.")
@click.option(
    "--sample",
    type=click.IntRange(1),
    metavar="N",
    help="With --deep: re-read only N rows, chosen by --seed.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of --sample.")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per failure, then a summary."
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: on when stderr is a terminal).",
)
@remote_options
@click.pass_context
@_fail_cleanly
def verify_export_command(
    ctx: click.Context,
    out_dir: Path,
    deep: bool,
    sample: int | None,
    seed: int,
    as_json: bool,
    progress: bool | None,
    remote: RemoteOptions,
) -> None:
    """Check an export: shard hashes and row counts against its manifest, each row's record
    and evidence against the catalog, and with --deep each record against its WARC file.

    Exit status: 0 when everything checks out, 1 when anything fails (each failure named).
    """
    if sample is not None and not deep:
        raise click.UsageError("--sample applies to --deep")

    def report_failure(failure: VerifyFailure) -> None:
        if as_json:
            click.echo(json.dumps({"failure": failure.to_dict()}, ensure_ascii=False))
        else:
            click.echo(f"FAIL {failure}")

    show_bar = sys.stderr.isatty() if progress is None else progress
    with _catalog(ctx) as catalog, _progress(show_bar, "verify", "row") as advance:
        report = verify_export(
            catalog,
            out_dir,
            deep=deep,
            sample=sample,
            seed=seed,
            on_failure=report_failure,
            on_progress=advance,
            remote=remote,
        )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(_verify_line(report))
    if not report.ok:
        ctx.exit(1)


def _verify_line(report: VerifyReport) -> str:
    deep = f", {report.deep_checked} against their WARC files" if report.deep_checked else ""
    registered = (
        f"registered as export {', '.join(str(r.id) for r in report.registered)}"
        if report.registered
        else "not registered in this catalog"
    )
    verdict = "ok" if report.ok else f"{report.failures} failures"
    return f"{verdict}: {report.shards} shards, {report.rows} rows checked{deep}; {registered}"
