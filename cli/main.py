"""The `archivist` command: each command parses options, calls one library function, prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from archive import __version__
from archive.catalog import DEFAULT_DB, Catalog, catalog_stats, head_revision
from archive.dates import parse_warc_date
from archive.errors import ArchiveError
from archive.ingest import FileReport, ingest
from archive.lookup import Capture, find_records, lookup_file, lookup_payload, lookup_url
from archive.readback import read_payload

F = TypeVar("F", bound=Callable[..., Any])


def _fail_cleanly(command: F) -> F:
    """Turn library errors into one readable line and exit status 1 (never a traceback)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from exc
        except SQLAlchemyError as exc:
            # A catalog that opened but fails later (a damaged SQLite file, a dropped server).
            raise click.ClickException(f"catalog error: {_first_line(exc)}") from exc

    return wrapper  # type: ignore[return-value]


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _catalog(ctx: click.Context) -> Iterator[Catalog]:
    catalog = Catalog.open(ctx.obj["db"])
    try:
        yield catalog
    finally:
        catalog.close()


def _emit_json(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, sort_keys=False))


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    # The last column (usually a URL or path) is not padded, so long values do not widen others.
    fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {}"
    click.echo(fmt.format(*headers).rstrip())
    for row in cells:
        click.echo(fmt.format(*row).rstrip())


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    parsed = parse_warc_date(value)
    if parsed.instant is None:
        raise click.BadParameter(f"not an ISO 8601 date or time: {value!r}", param_hint=option)
    return parsed.instant


@click.group()
@click.version_option(__version__, prog_name="archivist")
@click.option(
    "--db",
    envvar="ARCHIVIST_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="Catalog: an SQLite path or an SQLAlchemy URL (postgresql://...). Env: ARCHIVIST_DB.",
)
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """archivist: a provenance registry for web archives (WARC files)."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


# -- ingest ------------------------------------------------------------------------------------


@cli.command("ingest")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Files ingested in parallel processes.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input file.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: on when stderr is a terminal).",
)
@click.pass_context
@_fail_cleanly
def ingest_command(
    ctx: click.Context, inputs: tuple[str, ...], jobs: int, as_json: bool, progress: bool | None
) -> None:
    """Ingest WARC/ARC files, directories (recursively) and globs into the catalog.

    Exit status: 0 when every file was clean, 1 when any problem was reported.
    """
    show_bar = sys.stderr.isatty() if progress is None else progress
    reports: list[FileReport] = []
    with _catalog(ctx) as catalog, _progress_bar(inputs, show_bar) as advance:
        for report in ingest(catalog, inputs, jobs=jobs, on_progress=advance):
            reports.append(report)
            for problem in report.errors:
                where = (
                    report.path if problem.offset is None else f"{report.path} @ {problem.offset}"
                )
                click.echo(f"error: {where}: {problem.message}", err=True)
            if as_json:
                _emit_json([report.to_dict()])
            else:
                click.echo(_report_line(report))
    if not as_json:
        click.echo(_summary(reports))
    if any(not r.clean for r in reports):
        ctx.exit(1)


@contextmanager
def _progress_bar(inputs: Sequence[str], enabled: bool) -> Iterator[Callable[[int], None] | None]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    from archive.sources import expand_inputs

    total = 0
    for source in expand_inputs(inputs):
        if source.problem is None:
            with suppress(OSError):  # a file gone by now is reported by the ingest itself
                total += Path(source.location).stat().st_size
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        desc="ingest",
        leave=False,
    ) as bar:
        yield bar.update


def _report_line(report: FileReport) -> str:
    detail = f"{report.records} records" if report.status in ("complete", "partial") else ""
    if report.errors:
        detail += f"{', ' if detail else ''}{len(report.errors)} problems"
    if report.message:
        detail += f"{'; ' if detail else ''}{report.message}"
    return f"{report.status:<9} {report.path}" + (f"  ({detail})" if detail else "")


def _summary(reports: Sequence[FileReport]) -> str:
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.status] = counts.get(report.status, 0) + 1
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    records = sum(r.records for r in reports)
    problems = sum(len(r.errors) for r in reports)
    return f"{len(reports)} files ({by_status}); {records} records added; {problems} problems"


# -- lookups -----------------------------------------------------------------------------------

_CAPTURE_COLUMNS = ("id", "capture_time", "record_type", "status", "mime", "digest_status", "url")


def _print_captures(captures: Sequence[Capture], as_json: bool) -> None:
    rows = [c.to_dict() for c in captures]
    if as_json:
        _emit_json(rows)
    elif not rows:
        click.echo("no captures found", err=True)
    else:
        _table([[row[k] for k in _CAPTURE_COLUMNS] for row in rows], _CAPTURE_COLUMNS)


@cli.command("lookup")
@click.argument("url", required=False)
@click.option(
    "--match",
    type=click.Choice(["exact", "prefix", "host", "domain"]),
    default="exact",
    show_default=True,
    help="How URL selects captures.",
)
@click.option("--from", "since", metavar="T", help="Only captures at or after T (ISO 8601).")
@click.option("--to", "until", metavar="T", help="Only captures before T (ISO 8601).")
@click.option("--sha256", metavar="HEX", help="Captures whose payload has this SHA-256.")
@click.option(
    "--file",
    "file_",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Captures whose payload is exactly this file's bytes.",
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1),
    help="At most this many captures, oldest first.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per capture.")
@click.pass_context
@_fail_cleanly
def lookup_command(
    ctx: click.Context,
    url: str | None,
    match: str,
    since: str | None,
    until: str | None,
    sha256: str | None,
    file_: Path | None,
    limit: int,
    as_json: bool,
) -> None:
    """Which captures does the catalog hold of URL, of a payload hash, or of a file's bytes?"""
    chosen = [name for name, v in (("URL", url), ("--sha256", sha256), ("--file", file_)) if v]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of URL, --sha256 or --file")
    with _catalog(ctx) as catalog:
        if url:
            captures = lookup_url(
                catalog,
                url,
                match=match,  # type: ignore[arg-type]
                since=_instant(since, "--from"),
                until=_instant(until, "--to"),
                limit=limit,
            )
        elif sha256:
            captures = lookup_payload(catalog, sha256, limit=limit)
        else:
            assert file_ is not None
            captures = lookup_file(catalog, file_, limit=limit)
    _print_captures(captures, as_json)


@cli.command("show")
@click.argument("identifier", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.pass_context
@_fail_cleanly
def show_command(ctx: click.Context, identifier: str, as_json: bool) -> None:
    """Everything the catalog knows of one record (a catalog id or a WARC-Record-ID)."""
    with _catalog(ctx) as catalog:
        details = [c.details(catalog) for c in find_records(catalog, identifier)]
    if as_json:
        _emit_json(details)
        return
    for n, data in enumerate(details):
        if n:
            click.echo()
        width = max(len(k) for k in data)
        for key, value in data.items():
            if key == "problems":
                value = "; ".join(value) if value else None
            if value is not None:
                click.echo(f"{key:<{width}}  {value}")


@cli.command("cat")
@click.argument("identifier", metavar="ID")
@click.pass_context
@_fail_cleanly
def cat_command(ctx: click.Context, identifier: str) -> None:
    """Write a record's payload to stdout, read back from its WARC and checked by SHA-256."""
    with _catalog(ctx) as catalog:
        read_payload(catalog, identifier, sys.stdout.buffer)
    sys.stdout.buffer.flush()


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option(
    "--top", default=10, show_default=True, type=click.IntRange(1), help="How many hosts to list."
)
@click.pass_context
@_fail_cleanly
def stats_command(ctx: click.Context, as_json: bool, top: int) -> None:
    """Files, records by type, captures by year, digest results, top hosts."""
    with _catalog(ctx) as catalog:
        stats = catalog_stats(catalog, top=top)
    if as_json:
        data = dict(stats.__dict__)
        data["top_hosts"] = [{"host": h, "captures": n} for h, n in stats.top_hosts]
        _emit_json([data])
        return
    click.echo(f"files    {stats.files}  {_counts(stats.files_by_status)}")
    click.echo(f"records  {stats.records}  {_counts(stats.records_by_type)}")
    click.echo(f"captures by year     {_counts(stats.captures_by_year)}")
    click.echo(f"block digests        {_counts(stats.block_digests)}")
    click.echo(f"payload digests      {_counts(stats.payload_digests)}")
    click.echo(f"problems recorded    {stats.errors}")
    if stats.top_hosts:
        click.echo("top hosts (captures):")
        for host, n in stats.top_hosts:
            click.echo(f"  {n:>8}  {host}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "-"


# -- catalog administration ----------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Create, upgrade and inspect the catalog schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
@_fail_cleanly
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Upgrade the catalog schema to REVISION (default: the newest)."""
    catalog = Catalog.open(ctx.obj["db"], upgrade=False, check=False)
    try:
        catalog.upgrade(revision)
        click.echo(f"{catalog.url}: schema at {catalog.current_revision()}")
    finally:
        catalog.close()


@db_group.command("downgrade")
@click.argument("revision")
@click.pass_context
@_fail_cleanly
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the catalog schema to REVISION (``base`` drops every table)."""
    catalog = Catalog.open(ctx.obj["db"], upgrade=False, check=False)
    try:
        catalog.downgrade(revision)
        click.echo(f"{catalog.url}: schema at {catalog.current_revision() or 'base'}")
    finally:
        catalog.close()


@db_group.command("current")
@click.pass_context
@_fail_cleanly
def db_current(ctx: click.Context) -> None:
    """Print the catalog's schema revision and the newest this archivist knows."""
    catalog = Catalog.open(ctx.obj["db"], upgrade=False, check=False)
    try:
        current = catalog.current_revision() or "none (empty)"
        click.echo(f"{catalog.url}: schema at {current}; newest known {head_revision()}")
    finally:
        catalog.close()


# -- samples -----------------------------------------------------------------------------------


@cli.command("samples")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@_fail_cleanly
def samples_command(out_dir: Path) -> None:
    """Write archivist's own small sample WARC set (captures on both sides of the cutoff)."""
    from archive.samples import write_samples

    out_dir.mkdir(parents=True, exist_ok=True)
    for path in write_samples(out_dir):
        click.echo(str(path))
