"""The `archivist` command: each command parses options, calls one library function, prints."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from archive import __version__
from archive.catalog import (
    DEFAULT_DB,
    Catalog,
    catalog_cutoff,
    catalog_stats,
    head_revision,
    relabel_catalog,
)
from archive.cdx import cdxj_lines
from archive.cutoffs import DEFAULT_CUTOFF, Cutoff, parse_cutoff
from archive.dates import parse_warc_date
from archive.errors import ArchiveError
from archive.evidence import KINDS, LABELS
from archive.executors import EXECUTORS
from archive.ingest import FileReport, ingest
from archive.lookup import (
    Capture,
    find_records,
    lookup_as_of,
    lookup_file,
    lookup_payload,
    lookup_text,
    lookup_url,
    read_text_file,
)
from archive.provenance import (
    provenance_of_file,
    provenance_of_payload,
    provenance_of_text,
    provenance_of_url,
)
from archive.readback import read_payload
from archive.remote import RemoteOptions
from archive.sources import read_input_list
from archive.textstage import TextReport, extract_catalog_texts
from cli.remote_options import remote_options

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
@click.argument("inputs", nargs=-1)
@click.option(
    "--from-list",
    metavar="FILE",
    type=click.File("r", encoding="utf-8"),
    help="Also ingest the paths and URLs listed in FILE, one per line ('-': stdin).",
)
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Files ingested in parallel processes (local executor), and text stage processes.",
)
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default="local",
    show_default=True,
    envvar="ARCHIVIST_EXECUTOR",
    help="Where files are ingested: here (--jobs processes) or on a Dask cluster "
    "(--scheduler), whose workers write to the catalog. Env: ARCHIVIST_EXECUTOR.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="ARCHIVIST_DASK_SCHEDULER",
    help="The Dask scheduler for --executor dask (tcp://HOST:PORT). Env: ARCHIVIST_DASK_SCHEDULER.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input file.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: on when stderr is a terminal).",
)
@click.option(
    "--text/--no-text",
    default=True,
    show_default=True,
    help="Run the text stage (same-text evidence) after the byte-level pass.",
)
@remote_options
@click.pass_context
@_fail_cleanly
def ingest_command(
    ctx: click.Context,
    inputs: tuple[str, ...],
    from_list: IO[str] | None,
    jobs: int,
    executor: str,
    scheduler: str | None,
    as_json: bool,
    progress: bool | None,
    text: bool,
    remote: RemoteOptions,
) -> None:
    """Ingest WARC/ARC files, directories (recursively), globs and http(s) URLs.

    Exit status: 0 when every file was clean, 1 when any problem was reported.
    """
    if not inputs and from_list is None:
        raise click.UsageError("give files, directories, globs or URLs, or --from-list FILE")
    named: Iterable[str] = inputs
    if from_list is not None:
        named = itertools.chain(inputs, read_input_list(from_list))
    remote = dataclasses.replace(remote, extract_text=text)
    show_bar = sys.stderr.isatty() if progress is None else progress
    # Counts, not the reports: a list of millions of inputs streams through.
    tally = _Tally()
    with (
        _catalog(ctx) as catalog,
        _progress_bar(inputs, show_bar, sized=from_list is None) as advance,
    ):
        for report in ingest(
            catalog,
            named,
            jobs=jobs,
            on_progress=advance,
            remote=remote,
            executor=executor,
            scheduler=scheduler,
        ):
            tally.add(report)
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
            click.echo(tally.summary())
        if text:
            # Text failures are statuses on captures, not problems with the input files.
            texts = extract_catalog_texts(catalog, jobs=jobs)
            # JSON output stays one object per input file; `archivist text --json` reports.
            if not as_json and (texts.captures or texts.problems):
                click.echo(_text_summary(texts))
    if not tally.clean:
        ctx.exit(1)


def _text_summary(report: TextReport) -> str:
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    statuses = ", ".join(f"{n} {status}" for status, n in report.by_status.items()) or "none"
    return f"text: {report.captures} captures in {report.files} files ({statuses})"


@contextmanager
def _progress_bar(
    inputs: Sequence[str], enabled: bool, *, sized: bool = True
) -> Iterator[Callable[[int], None] | None]:
    """A bar of bytes read; ``sized`` when the inputs can be sized up front (not a list)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    from archive.sources import expand_inputs

    total: int | None = None
    if sized:
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


@dataclasses.dataclass
class _Tally:
    """What the ingest reports add up to, kept as counts."""

    files: int = 0
    records: int = 0
    problems: int = 0
    clean: bool = True
    counts: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, report: FileReport) -> None:
        self.files += 1
        self.records += report.records
        self.problems += len(report.errors)
        self.clean = self.clean and report.clean
        self.counts[report.status] = self.counts.get(report.status, 0) + 1

    def summary(self) -> str:
        by_status = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        return (
            f"{self.files} files ({by_status}); {self.records} records added; "
            f"{self.problems} problems"
        )


# -- lookups -----------------------------------------------------------------------------------

_CAPTURE_COLUMNS = (
    "id",
    "capture_time",
    "record_type",
    "status",
    "mime",
    "digest_status",
    "label",
    "evidence",
    "url",
)


def _print_captures(captures: Sequence[Capture], as_json: bool, cutoff: Cutoff) -> None:
    rows = [c.to_dict() for c in captures]
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("no captures found", err=True)
        return
    click.echo(f"labels for cutoff {cutoff}", err=True)
    cells = [
        [c.evidence_cell() if k == "evidence" else row[k] for k in _CAPTURE_COLUMNS]
        for c, row in zip(captures, rows, strict=True)
    ]
    _table(cells, _CAPTURE_COLUMNS)
    for capture, row in zip(captures, rows, strict=True):
        if capture.first_seen:
            click.echo(
                f"first seen: #{row['id']} {row['capture_time']} "
                "(the earliest verified capture of this payload)",
                err=True,
            )


def _evidence_text(evidence: dict[str, Any]) -> str:
    if evidence["id"] is None:
        return str(evidence["kind"])
    return (
        f"{evidence['kind']}:#{evidence['id']} ({evidence['capture_time']}, "
        f"{evidence['warc_file']} @ {evidence['offset']})"
    )


def _cutoff(value: str | None) -> Cutoff | None:
    """Parse a ``--cutoff`` value; a bad one is a one-line error (ArchiveError)."""
    return parse_cutoff(value) if value is not None else None


def _cutoff_option(default: str | None, help_text: str) -> Callable[[F], F]:
    return click.option(
        "--cutoff",
        "cutoff_text",
        metavar="C",
        envvar="ARCHIVIST_CUTOFF",
        default=default,
        show_default=default is not None,
        help=help_text
        + " A preset (chatgpt, gpt3, gpt2), a date or an ISO instant. Env: ARCHIVIST_CUTOFF.",
    )


def _subject_options(command: F) -> F:
    """The ways to name what is asked about, besides a URL: payload hash, file, text."""
    for option in reversed(
        (
            click.option("--sha256", metavar="HEX", help="The payload with this SHA-256."),
            click.option(
                "--file",
                "file_",
                type=click.Path(dir_okay=False, path_type=Path),
                help="The payload that is exactly this file's bytes.",
            ),
            click.option("--text", metavar="TEXT", help="The main text TEXT (normalised)."),
            click.option(
                "--text-file",
                type=click.Path(dir_okay=False, path_type=Path),
                help="The main text of this UTF-8 file (normalised).",
            ),
        )
    ):
        command = option(command)
    return command


def _require_one_subject(*values: object) -> None:
    if sum(value is not None for value in values) != 1:
        raise click.UsageError("give exactly one of URL, --sha256, --file, --text or --text-file")


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
@click.option(
    "--as-of", "as_of", metavar="T", help="Only the latest capture at or before T (inclusive)."
)
@_subject_options
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
    as_of: str | None,
    sha256: str | None,
    file_: Path | None,
    text: str | None,
    text_file: Path | None,
    limit: int,
    as_json: bool,
) -> None:
    """Which captures does the catalog hold of URL, of a payload hash, of a file's bytes, or
    of a text? Each with its label for the catalog's cutoff and the evidence behind it."""
    _require_one_subject(url, sha256, file_, text, text_file)
    if as_of is not None and (not url or since or until):
        raise click.UsageError("--as-of goes with a URL, and without --from or --to")
    with _catalog(ctx) as catalog:
        if url and as_of is not None:
            when = _instant(as_of, "--as-of")
            assert when is not None
            captures = lookup_as_of(catalog, url, when, match=match)  # type: ignore[arg-type]
        elif url:
            captures = lookup_url(
                catalog,
                url,
                match=match,  # type: ignore[arg-type]
                since=_instant(since, "--from"),
                until=_instant(until, "--to"),
                limit=limit,
            )
        elif sha256 is not None:
            captures = lookup_payload(catalog, sha256, limit=limit)
        elif file_ is not None:
            captures = lookup_file(catalog, file_, limit=limit)
        elif text is not None:
            captures = lookup_text(catalog, text, limit=limit)
        else:
            assert text_file is not None
            captures = lookup_text(catalog, read_text_file(text_file), limit=limit)
        cutoff = catalog_cutoff(catalog)
    _print_captures(captures, as_json, cutoff)


@cli.command("show")
@click.argument("identifier", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.pass_context
@_fail_cleanly
def show_command(ctx: click.Context, identifier: str, as_json: bool) -> None:
    """Everything the catalog knows of one record (a catalog id or a WARC-Record-ID)."""
    with _catalog(ctx) as catalog:
        details = [c.details(catalog) for c in find_records(catalog, identifier)]
        cutoff = catalog_cutoff(catalog)
    if as_json:
        _emit_json(details)
        return
    click.echo(f"labels for cutoff {cutoff}", err=True)
    for n, data in enumerate(details):
        if n:
            click.echo()
        width = max(len(k) for k in data)
        for key, value in data.items():
            if key == "problems":
                value = "; ".join(value) if value else None
            elif key == "exports":
                value = "; ".join(f"#{e['id']} {e['out_dir']}" for e in value) or None
            elif key == "evidence":
                value = _evidence_text(value)
            if value is not None:
                click.echo(f"{key:<{width}}  {value}")


@cli.command("cat")
@click.argument("identifier", metavar="ID")
@remote_options
@click.pass_context
@_fail_cleanly
def cat_command(ctx: click.Context, identifier: str, remote: RemoteOptions) -> None:
    """Write a record's payload to stdout, read back from its WARC and checked by SHA-256.

    A record of a remote file is fetched alone, with one Range request for its bytes.
    """
    with _catalog(ctx) as catalog:
        read_payload(catalog, identifier, sys.stdout.buffer, remote=remote)
    sys.stdout.buffer.flush()


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option(
    "--top", default=10, show_default=True, type=click.IntRange(1), help="How many hosts to list."
)
@click.pass_context
@_fail_cleanly
def stats_command(ctx: click.Context, as_json: bool, top: int) -> None:
    """Files, records by type, captures by year, label and evidence, digest results, top hosts."""
    with _catalog(ctx) as catalog:
        stats = catalog_stats(catalog, top=top)
    if as_json:
        data = dict(stats.__dict__)
        data["top_hosts"] = [{"host": h, "captures": n} for h, n in stats.top_hosts]
        data["cutoff"] = stats.cutoff.to_dict()
        _emit_json([data])
        return
    click.echo(f"files    {stats.files}  {_counts(stats.files_by_status)}")
    click.echo(f"records  {stats.records}  {_counts(stats.records_by_type)}")
    click.echo(f"captures by year     {_counts(stats.captures_by_year)}")
    click.echo(f"labels for cutoff    {stats.cutoff}")
    click.echo(f"captures by label    {_counts(stats.captures_by_label)}")
    click.echo(f"captures by evidence {_counts(stats.captures_by_evidence)}")
    click.echo(f"dangling revisits    {stats.dangling_revisits}")
    if stats.revisit_loops:
        click.echo(f"revisit loops        {stats.revisit_loops}")
    click.echo(f"block digests        {_counts(stats.block_digests)}")
    click.echo(f"payload digests      {_counts(stats.payload_digests)}")
    click.echo(f"problems recorded    {stats.errors}")
    if stats.top_hosts:
        click.echo("top hosts (captures):")
        for host, n in stats.top_hosts:
            click.echo(f"  {n:>8}  {host}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "-"


# -- provenance ----------------------------------------------------------------------------------


@cli.command("provenance")
@click.argument("url", required=False)
@_subject_options
@_cutoff_option(None, "Refuse to answer unless the catalog is labelled for this cutoff.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
@_fail_cleanly
def provenance_command(
    ctx: click.Context,
    url: str | None,
    sha256: str | None,
    file_: Path | None,
    text: str | None,
    text_file: Path | None,
    cutoff_text: str | None,
    as_json: bool,
) -> None:
    """Was URL (a payload, a file's bytes, a text) on the web before the cutoff? The answer,
    the strongest evidence, the earliest capture and how to re-check them.

    Exit status 0 whatever the answer; 1 only when the question cannot be answered.
    """
    _require_one_subject(url, sha256, file_, text, text_file)
    cutoff = _cutoff(cutoff_text)
    with _catalog(ctx) as catalog:
        if url is not None:
            verdict = provenance_of_url(catalog, url, cutoff=cutoff)
        elif sha256 is not None:
            verdict = provenance_of_payload(catalog, sha256, cutoff=cutoff)
        elif file_ is not None:
            verdict = provenance_of_file(catalog, file_, cutoff=cutoff)
        elif text is not None:
            verdict = provenance_of_text(catalog, text, cutoff=cutoff)
        else:
            assert text_file is not None
            verdict = provenance_of_text(catalog, read_text_file(text_file), cutoff=cutoff)
    if as_json:
        _emit_json([verdict.to_dict()])
    else:
        _print_verdict(verdict.to_dict())


def _print_verdict(data: dict[str, Any]) -> None:
    def line(label: str, text: str) -> None:
        click.echo(f"{label:<11}{text}".rstrip())

    click.echo(data["summary"])
    evidence = data["evidence"]
    if evidence is not None:
        line(
            "evidence",
            f"{evidence['kind']}: record #{evidence['id']}, captured {evidence['capture_time']}, "
            f"digests {evidence['digest_status']}",
        )
        line("", str(evidence["url"]))
        line("", f"{evidence['warc_file']} @ {evidence['offset']}")
        capture = evidence["capture"]
        if capture["id"] != evidence["id"]:
            line("", f"(the evidence of capture #{capture['id']}, {capture['capture_time']})")
        if "claimed_date" in evidence:
            line("", f"a claim only: {evidence['claimed_by']} says {evidence['claimed_date']}")
    for name, key in (("earliest", "earliest"), ("first seen", "first_seen")):
        capture = data.get(key)
        if capture is not None:
            line(
                name,
                f"#{capture['id']} {capture['capture_time']} {capture['label']} "
                f"({capture['evidence']['kind']}) {capture['url']}",
            )
    if data["captures"]:
        line("captures", f"{data['captures']} ({_counts(data['by_label'])})")
    recheck = data["recheck"]
    for n, command in enumerate(recheck["commands"] if recheck else []):
        if command.startswith("archivist cat"):
            command += f"   (its SHA-256 should be {recheck['payload_sha256']})"
        line("" if n else "re-check", command)


# -- labels --------------------------------------------------------------------------------------


@cli.command("relabel")
@_cutoff_option(DEFAULT_CUTOFF, "Label every capture for this cutoff.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
@_fail_cleanly
def relabel_command(ctx: click.Context, cutoff_text: str, as_json: bool) -> None:
    """Make the cutoff the catalog's and recompute every capture's label and evidence."""
    cutoff = parse_cutoff(cutoff_text)
    with _catalog(ctx) as catalog:
        result = relabel_catalog(catalog, cutoff)
    by_label = _ordered(result.by_label, LABELS)
    by_evidence = _ordered(result.by_kind, KINDS)
    if as_json:
        _emit_json(
            [
                {
                    "cutoff": cutoff.to_dict(),
                    "captures": result.captures,
                    "by_label": by_label,
                    "by_evidence": by_evidence,
                }
            ]
        )
        return
    click.echo(f"relabelled {result.captures} captures for cutoff {cutoff}")
    click.echo(f"by label     {_counts(by_label)}")
    click.echo(f"by evidence  {_counts(by_evidence)}")


def _ordered(counts: dict[str, int], order: Sequence[str]) -> dict[str, int]:
    """``counts`` in the ladder's order, with zeros, then any other keys."""
    others = {k: v for k, v in counts.items() if k not in order}
    return {k: counts.get(k, 0) for k in order} | others


@cli.command("cdx")
@click.argument("out", default="-", metavar="[OUT|-]")
@click.option(
    "--label",
    "labels",
    multiple=True,
    type=click.Choice(LABELS),
    help="Only captures with this label (repeatable).",
)
@click.pass_context
@_fail_cleanly
def cdx_command(ctx: click.Context, out: str, labels: tuple[str, ...]) -> None:
    """Write a CDXJ index of the catalog's captures (pywb's format, plus label and evidence),
    sorted by SURT key and time, to OUT (default: stdout)."""
    written = 0
    try:
        with (
            _catalog(ctx) as catalog,
            click.open_file(out, "w", encoding="utf-8", atomic=out != "-") as sink,
        ):
            for line in cdxj_lines(catalog, labels):
                sink.write(line + "\n")
                written += 1
    except BrokenPipeError:
        # The reader went away (`archivist cdx | head`): stop quietly, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- silences the flush at exit
        ctx.exit(0)
    if out != "-":
        click.echo(f"{written} captures written to {out}", err=True)


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


# -- text stage --------------------------------------------------------------------------------


@cli.command("text")
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Files read in parallel processes.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
@_fail_cleanly
def text_command(ctx: click.Context, jobs: int, as_json: bool) -> None:
    """Extract and hash the main text of every capture that lacks it (same-text evidence)."""
    with _catalog(ctx) as catalog:
        report = extract_catalog_texts(catalog, jobs=jobs)
    if as_json:
        _emit_json([report.to_dict()])
    else:
        click.echo(_text_summary(report))


# -- exports (cli/export.py) -------------------------------------------------------------------

from cli.export import export_command, verify_export_command  # noqa: E402

cli.add_command(export_command)
cli.add_command(verify_export_command)
