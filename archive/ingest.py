"""Where WARC files enter the catalog: one file, one claim, one transaction.

A file is first hashed (its SHA-256 is its identity), then claimed in the catalog in a short
transaction, then read record by record into a spool on local disk without holding any lock,
and finally written in one transaction together with its status. A process killed at any point
leaves either nothing of the file or all of it; its stale claim is taken over by the next run.
A remote file (an http(s) URL) is first downloaded to a local file, hashed on the way
(``archive.remote``), and then takes the same path with its URL as its location.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import ExitStack, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from archive import __version__
from archive.catalog import Catalog, FileSummary, record_texts, text_candidates
from archive.errors import CatalogError, SourceError, WarcFormatError
from archive.executors import (
    WINDOW_PER_WORKER,
    DaskExecutor,
    Executor,
    ExecutorError,
    in_order,
    open_executor,
)
from archive.fastreader import open_reader
from archive.models import WarcFile
from archive.reader import ArchiveFormat, RecordReader, detect_format
from archive.records import RecordFacts, describe_record
from archive.remote import (
    Download,
    RemoteFile,
    RemoteOptions,
    describe,
    downloaded,
    is_remote,
    redact,
)
from archive.sources import Source, expand_inputs
from archive.textstage import texts_of_file

_HASH_CHUNK = 1 << 20
_SPOOL_BATCH = 2000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by byte offset when it has one."""

    offset: int | None
    message: str

    def __post_init__(self) -> None:
        # Messages may quote bytes of a damaged file: keep each one a single printable line.
        object.__setattr__(self, "message", _one_line(self.message))

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "message": self.message}


@dataclass(frozen=True)
class FileReport:
    """The outcome of ingesting one input file."""

    path: str
    status: str  # complete | partial | failed | skipped | busy
    sha256: str | None = None
    size: int | None = None
    records: int = 0
    captures: int = 0
    errors: tuple[Problem, ...] = field(default=())
    message: str | None = None
    format: str | None = None

    @property
    def clean(self) -> bool:
        """True when nothing was reported for this input."""
        return self.status in ("complete", "skipped") and not self.errors

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [problem.to_dict() for problem in self.errors]
        return data


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(
    catalog: Catalog,
    inputs: Iterable[str],
    *,
    jobs: int = 1,
    on_progress: Progress | None = None,
    remote: RemoteOptions | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    window: int | None = None,
) -> Iterator[FileReport]:
    """Ingest every file named by ``inputs`` (files, directories, globs, http(s) URLs).

    One report is yielded per file, in input order, as soon as it and those before it are done.
    ``executor`` says where files are ingested: ``local`` (this process, or ``jobs``
    processes) or ``dask`` (the workers of the cluster at ``scheduler``, which write to the
    catalog themselves), or an ``Executor`` the caller opened (and closes). ``inputs`` is read
    lazily: at most ``window`` files (default: four per worker) are between the oldest one not
    yet reported and the newest one started, so a list of millions of lines streams.
    ``remote`` says how URLs are fetched.
    """
    remote = remote or RemoteOptions()
    dask = executor == "dask" or isinstance(executor, DaskExecutor)
    if dask and catalog.engine.dialect.name == "sqlite":
        raise ExecutorError(
            "the Dask executor needs a catalog every worker can reach (postgresql://...): "
            f"{catalog.engine.url.database} is an SQLite file on this machine; use --jobs N "
            "to ingest here in parallel"
        )
    with ExitStack() as stack:
        if isinstance(executor, Executor):
            runner = executor
        else:
            runner = stack.enter_context(open_executor(executor, jobs=jobs, scheduler=scheduler))
        url = catalog.engine.url.render_as_string(hide_password=False)
        # Remote workers may not see this machine's files after the run: they extract the texts
        # of each file while they have it (a local pool leaves that to the text stage).
        texts = remote.extract_text and dask

        def submit(source: Source) -> Future[FileReport]:
            if source.problem is not None or runner.in_process:
                done: Future[FileReport] = Future()
                done.set_result(_ingest_source(catalog, source, remote, on_progress))
                return done
            return runner.submit(_ingest_in_worker, url, source, remote, texts)

        def failed(source: Source, exc: BaseException) -> FileReport:
            shown = redact(source.location) if is_remote(source.location) else source.location
            return FileReport(shown, "failed", errors=(Problem(None, runner.reason(exc)),))

        def busy(report: FileReport) -> bool:
            # Copies of one file under several names race for one claim; the loser is run again
            # once the tasks running beside it are done, and is then skipped as in a serial run.
            return report.status == "busy" and not runner.in_process

        # In this process a file is done when submitted: reading ahead would only delay reports.
        size = window or (1 if runner.in_process else WINDOW_PER_WORKER * runner.workers)
        for report in in_order(
            expand_inputs(inputs), submit, window=size, failed=failed, again=busy
        ):
            if on_progress is not None and report.size and not runner.in_process:
                on_progress(report.size)
            yield report


_worker_catalogs: dict[str, Catalog] = {}
_worker_catalogs_lock = threading.Lock()


def _ingest_in_worker(
    url: str, source: Source, remote: RemoteOptions, texts: bool = False
) -> FileReport:
    """The task an executor runs: one file, into the catalog at ``url`` (opened once a process)."""
    with _worker_catalogs_lock:  # a Dask worker may run several tasks in threads
        catalog = _worker_catalogs.get(url)
        if catalog is None:
            catalog = _worker_catalogs[url] = Catalog.open(url)
    report = _ingest_source(catalog, source, remote, None)
    if texts and not is_remote(source.location) and report.status in ("complete", "partial"):
        _extract_texts(catalog, report, Path(source.location))
    return report


def _ingest_source(
    catalog: Catalog, source: Source, remote: RemoteOptions, on_progress: Progress | None
) -> FileReport:
    if source.problem is not None:
        return FileReport(source.location, "failed", errors=(Problem(None, source.problem),))
    if is_remote(source.location):
        return ingest_url(catalog, source.location, remote, on_progress=on_progress)
    return ingest_file(catalog, Path(source.location), on_progress=on_progress)


def ingest_url(
    catalog: Catalog,
    url: str,
    options: RemoteOptions | None = None,
    *,
    on_progress: Progress | None = None,
) -> FileReport:
    """Ingest one remote WARC/ARC file: downloaded once, hashed on the way, read locally.

    The catalog records the URL (without user info) as the file's location. A URL recorded
    before, whose server still gives the same validators, is skipped before its body is read.
    A failed transfer records nothing.
    """
    options = options or RemoteOptions()
    shown = redact(url)
    skipped: FileReport | None = None

    def wanted(file: RemoteFile) -> bool:
        nonlocal skipped
        known, why = _already_ingested(catalog, file)
        if known is None:
            return True
        message = f"already in the catalog ({known.status}) as {known.location}: {why}"
        skipped = FileReport(shown, "skipped", known.sha256, known.size, message=message)
        return False

    try:
        recorded = catalog.file_by_location(shown)
        if recorded is not None and recorded.status in ("complete", "partial"):
            # A URL seen before is asked with HEAD first: an unchanged file costs no body.
            head = describe(url, options)
            if head is not None and not wanted(head):
                assert skipped is not None
                return skipped
        # The answer to the GET is checked too (a server without HEAD, a digest header).
        with downloaded(url, options, wanted=wanted) as download:
            if download is None:
                assert skipped is not None
                return skipped
            report = ingest_file(catalog, download.path, on_progress=on_progress, origin=download)
            if options.extract_text and report.status in ("complete", "partial"):
                _extract_texts(catalog, report, download.path)
            return report
    except SourceError as exc:
        reason = getattr(exc, "reason", str(exc))
        return FileReport(shown, "failed", errors=(Problem(None, reason),))


def _already_ingested(catalog: Catalog, file: RemoteFile) -> tuple[WarcFile | None, str]:
    """The catalog's row for a remote file the server describes, if it was ingested already."""
    done = ("complete", "partial")
    if file.sha256 is not None:
        known = catalog.file_by_sha256(file.sha256)
        if known is not None and known.status in done:
            return known, "same SHA-256 (from the server's digest header)"
    known = catalog.file_by_location(file.url)
    if known is None or known.status not in done or file.size != known.size:
        return None, ""
    validators = [
        (name, now, then)
        for name, now, then in (
            ("ETag", file.etag, known.http_etag),
            ("Last-Modified", file.last_modified, known.http_last_modified),
        )
        if now is not None
    ]
    # Without a validator, a size alone says too little: the file is downloaded and hashed.
    if validators and all(now == then for _, now, then in validators):
        names = " and ".join(name for name, _, _ in validators)
        return known, f"same URL, size and {names}"
    return None, ""


def _extract_texts(catalog: Catalog, report: FileReport, path: Path) -> None:
    """The text stage for one downloaded file, while its local copy exists."""
    file = catalog.file_by_sha256(report.sha256 or "")
    if file is None or file.compression is None:
        return
    # A file-level failure leaves the captures without text; `archivist text` reports it.
    results, _problem = texts_of_file(
        str(path), file.compression, text_candidates(catalog, file.id)
    )
    record_texts(catalog, file.id, results)


def ingest_file(
    catalog: Catalog,
    path: Path,
    *,
    on_progress: Progress | None = None,
    origin: Download | None = None,
) -> FileReport:
    """Ingest one local WARC/ARC file; problems inside it are reported, not raised.

    ``origin`` is the download ``path`` came from: its URL, SHA-256 and validators are recorded.
    """
    location = origin.file.url if origin is not None else os.path.abspath(path)
    try:
        before = path.stat()
        sha256 = origin.sha256 if origin is not None else file_sha256(path)
    except OSError as exc:
        return FileReport(location, "failed", errors=(Problem(None, _os_reason(exc)),))

    claim = catalog.claim_file(sha256, before.st_size, location)
    if not claim.granted:
        if claim.status == "ingesting":
            message = f"being ingested by another writer (as {claim.location})"
            return FileReport(location, "busy", sha256, before.st_size, message=message)
        message = f"already in the catalog ({claim.status}) as {claim.location}"
        return FileReport(location, "skipped", sha256, before.st_size, message=message)
    try:
        return _ingest_claimed(
            catalog, path, claim.file_id, location, sha256, before, on_progress, origin
        )
    except BaseException as exc:
        # Whatever stopped this writer (an interrupt, a bug, a worker being shut down), the
        # claim is given back at once rather than left for the stale-claim rules: the file is
        # marked failed, holding nothing, and the next run (or a retry) ingests it.
        with suppress(Exception):
            catalog.abandon_claim(claim.file_id, f"ingest stopped: {type(exc).__name__}: {exc}")
        raise


def _ingest_claimed(
    catalog: Catalog,
    path: Path,
    file_id: int,
    location: str,
    sha256: str,
    before: os.stat_result,
    on_progress: Progress | None,
    origin: Download | None,
) -> FileReport:
    """Read a claimed file into a spool and record it in one transaction."""
    problems: list[Problem] = []
    try:
        archive_format = detect_format(path)
    except (WarcFormatError, OSError) as exc:
        if isinstance(exc, WarcFormatError):
            problems.append(Problem(exc.offset, exc.reason))
        else:
            problems.append(Problem(None, _os_reason(exc)))
        return _record(
            catalog,
            file_id,
            location,
            sha256,
            before.st_size,
            None,
            _Spool(),
            problems,
            origin,
        )

    with _Spool() as spool:
        reader = open_reader(path, archive_format)
        try:
            for facts in _read(reader, on_progress):
                spool.add(facts)
                problems.extend(Problem(facts.offset, message) for message in facts.problems)
        except OSError as exc:
            problems.append(Problem(None, f"read failed: {_os_reason(exc)}"))
        problems.extend(Problem(p.offset, p.reason) for p in reader.problems)
        after = _stat_or_none(path)
        if after is None or (after.st_size, after.st_mtime_ns) != (
            before.st_size,
            before.st_mtime_ns,
        ):
            # The bytes read are not the bytes hashed: recording them would break the identity.
            spool.clear()
            problems.append(Problem(None, "file changed while it was read: nothing recorded"))
        return _record(
            catalog,
            file_id,
            location,
            sha256,
            before.st_size,
            archive_format,
            spool,
            problems,
            origin,
        )


def _read(reader: RecordReader, on_progress: Progress | None) -> Iterator[RecordFacts]:
    done = 0
    for record in reader:
        seen = len(reader.problems)
        facts = describe_record(record)
        if not facts.damaged and any(p.offset == facts.offset for p in reader.problems[seen:]):
            # Whatever the reader found wrong with this record's bytes (a gzip member failing
            # its CRC, a header cut short), its own capture is no evidence.
            facts = replace(facts, damaged=True)
        if on_progress is not None and reader.format.compression != "gzip-stream":
            end = facts.offset + facts.length
            on_progress(end - done)
            done = end
        yield facts


def _record(
    catalog: Catalog,
    file_id: int,
    location: str,
    sha256: str,
    size: int,
    archive_format: ArchiveFormat | None,
    spool: _Spool,
    problems: list[Problem],
    origin: Download | None = None,
) -> FileReport:
    problems.sort(key=lambda p: (p.offset is None, p.offset or 0))
    if archive_format is None or spool.count == 0:
        status = "failed"
        if not problems:
            problems.append(Problem(None, "no readable record"))
    else:
        status = "partial" if problems else "complete"
    info = spool.warcinfo or {}
    summary = FileSummary(
        status=status,
        format=archive_format.version if archive_format else None,
        compression=archive_format.compression if archive_format else None,
        software=info.get("software"),
        operator=info.get("operator"),
        is_part_of=info.get("ispartof"),
        record_count=spool.count,
        capture_count=spool.captures,
        first_capture=spool.first_capture,
        last_capture=spool.last_capture,
        archivist_version=__version__,
        http_etag=origin.file.etag if origin is not None else None,
        http_last_modified=origin.file.last_modified if origin is not None else None,
    )
    try:
        catalog.record_file(
            file_id, summary, spool.batches(), [(p.offset, p.message) for p in problems]
        )
    except CatalogError as exc:
        # The file's transaction rolled back (a lost connection, a row the database refused):
        # nothing of it is recorded, the catalog marks it failed, and the next run retries it.
        return FileReport(
            location,
            "failed",
            sha256,
            size,
            errors=(Problem(None, str(exc)),),
            format=archive_format.describe() if archive_format else None,
        )
    return FileReport(
        location,
        status,
        sha256,
        size,
        records=spool.count,
        captures=spool.captures,
        errors=tuple(problems),
        format=archive_format.describe() if archive_format else None,
    )


class _Spool:
    """Catalog rows of one file, kept in a temporary file until its transaction (flat memory)."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._batch: list[dict[str, Any]] = []
        self.count = 0
        self.captures = 0
        self.first_capture: datetime | None = None
        self.last_capture: datetime | None = None
        self.warcinfo: dict[str, str] | None = None

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def add(self, facts: RecordFacts) -> None:
        # A shallow copy of the fields: dataclasses.asdict deep-copies every value, which cost
        # more than reading the record. RecordFacts holds only immutable values.
        row = dict(vars(facts))
        del row["problems"], row["warcinfo"]
        self._batch.append(row)
        self.count += 1
        if facts.warcinfo is not None and self.warcinfo is None:
            self.warcinfo = facts.warcinfo
        if facts.is_capture:
            self.captures += 1
            when = facts.capture_time
            if when is not None:
                if self.first_capture is None or when < self.first_capture:
                    self.first_capture = when
                if self.last_capture is None or when > self.last_capture:
                    self.last_capture = when
        if len(self._batch) >= _SPOOL_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        if self._file is None:
            # Closed in __exit__: the spool lives as long as the file's ingest.
            self._file = tempfile.TemporaryFile(prefix="archivist-spool-")  # noqa: SIM115
        pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._batch = []

    def clear(self) -> None:
        """Forget every row (the file turned out not to be what was hashed)."""
        self.__exit__()
        self.__init__()  # type: ignore[misc]

    def batches(self) -> Iterator[Sequence[dict[str, Any]]]:
        """The rows in the order they were added, in batches."""
        if self._file is not None:
            self._file.seek(0)
            while True:
                try:
                    yield pickle.load(self._file)
                except EOFError:
                    break
        yield self._batch


_MESSAGE_MAX = 300


def _one_line(message: str) -> str:
    """``message`` with control characters escaped and its length bounded."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    return text if len(text) <= _MESSAGE_MAX else text[: _MESSAGE_MAX - 3] + "..."


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
