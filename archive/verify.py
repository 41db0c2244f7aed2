"""Where an export is checked: shards against its manifest, rows against the catalog and,
with ``deep``, every source record against its WARC file.

Three levels, each naming what fails (a shard, or a row by shard, index, id and URL):

1. **files**: every shard the manifest lists is there with its size, SHA-256 and row count,
   and no other shard is in ``data/``;
2. **rows** (always): each row's text hashes to its ``text_sha256`` and its id derives from
   it; the catalog still holds its record at (``warc_sha256``, ``offset``) with the same URL,
   capture time, payload and text hashes; the record's label and evidence for the manifest's
   cutoff are those the row carries, and `pre` evidence rests on a capture before the cutoff;
3. **deep**: each row's record (or a sample of them) is read back from its WARC file by offset
   and its payload SHA-256 and re-extracted text hash are checked (a remote file's record is
   fetched alone, by one Range request, unless the cache holds the file). A WARC file that
   moved or changed fails every row it holds: it is never skipped.

Rows are streamed in batches (one catalog query per batch), so memory stays flat.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from archive.catalog import (
    Catalog,
    ExportRef,
    ExportSource,
    catalog_cutoff,
    export_by_manifest,
    sources_at,
)
from archive.dates import format_utc, parse_warc_date
from archive.errors import ArchiveError, SourceChangedError, WarcFormatError
from archive.export import (
    DATA,
    EXPORT_FORMAT,
    FORMATS,
    MANIFEST,
    document_id,
    file_sha256,
    is_remote_location,
    read_shard,
)
from archive.readback import is_arc_file, local_copy_of, reads_whole_file, stored_record
from archive.reader import open_records
from archive.remote import RemoteOptions, TransferError
from archive.textstage import record_text

# Failures kept in the report (all of them go to ``on_failure`` as they are found).
KEPT_FAILURES = 1000
_BATCH_ROWS = 1000


class VerifyError(ArchiveError):
    """An export cannot be verified at all (no manifest, or not an archivist export)."""


@dataclass(frozen=True)
class VerifyFailure:
    """One thing that does not check out: a shard, or a row of a shard."""

    where: str  # "data/train-00000.parquet row 12", "data/train-00000.parquet", "catalog"
    reason: str
    row_id: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        who = ", ".join(x for x in (self.row_id and f"id {self.row_id}", self.url) if x)
        return f"{self.where}{f' ({who})' if who else ''}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerifyReport:
    """What was checked, and what failed."""

    out_dir: Path
    shards: int
    rows: int
    deep_checked: int
    failures: int
    first_failures: tuple[VerifyFailure, ...]
    # The catalog's registrations of this export (by manifest SHA-256); empty if none.
    registered: tuple[ExportRef, ...]

    @property
    def ok(self) -> bool:
        return self.failures == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "ok": self.ok,
            "shards": self.shards,
            "rows": self.rows,
            "deep_checked": self.deep_checked,
            "failures": self.failures,
            "registered": [r.to_dict() for r in self.registered],
        }


@dataclass
class _Row:
    """A row being checked, with where it is."""

    shard: str
    index: int
    number: int  # across the whole export, for sampling
    data: dict[str, Any]
    source: ExportSource | None = None

    @property
    def key(self) -> tuple[str, int] | None:
        sha, offset = self.data.get("warc_sha256"), self.data.get("offset")
        if isinstance(sha, str) and isinstance(offset, int):
            return sha, offset
        return None

    def failure(self, reason: str) -> VerifyFailure:
        row_id, url = self.data.get("id"), self.data.get("url")
        return VerifyFailure(
            f"{self.shard} row {self.index}",
            reason,
            row_id if isinstance(row_id, str) else None,
            url if isinstance(url, str) else None,
        )


class _Failures:
    def __init__(self, on_failure: Callable[[VerifyFailure], None] | None) -> None:
        self.count = 0
        self.kept: list[VerifyFailure] = []
        self._on_failure = on_failure

    def add(self, failure: VerifyFailure) -> None:
        self.count += 1
        if len(self.kept) < KEPT_FAILURES:
            self.kept.append(failure)
        if self._on_failure is not None:
            self._on_failure(failure)


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of the export in ``out_dir``; VerifyError when there is none."""
    path = out_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise VerifyError(f"{out_dir} has no {MANIFEST}: not an archivist export") from exc
    except (OSError, ValueError) as exc:
        raise VerifyError(f"{path}: cannot read the manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise VerifyError(f"{path}: not an archivist export manifest ({EXPORT_FORMAT})")
    if manifest.get("arguments", {}).get("format") not in FORMATS:
        raise VerifyError(f"{path}: unknown shard format")
    return manifest


def verify_export(
    catalog: Catalog,
    out_dir: Path,
    *,
    deep: bool = False,
    sample: int | None = None,
    seed: int = 0,
    on_failure: Callable[[VerifyFailure], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    remote: RemoteOptions | None = None,
) -> VerifyReport:
    """Check the export in ``out_dir`` against its manifest and ``catalog``.

    ``deep`` re-reads every row's record from its WARC file; ``sample`` limits that to so many
    rows, chosen by ``seed``; records of files ingested over HTTP are fetched as ``remote``
    says (one Range request each, or from its cache). ``on_failure`` gets each failure as it
    is found; ``on_progress(done, total)`` follows the rows.
    """
    manifest = read_manifest(out_dir)
    manifest_bytes = (out_dir / MANIFEST).read_bytes()
    failures = _Failures(on_failure)
    export_format = manifest["arguments"]["format"]
    shards = manifest.get("shards", [])
    labels = set(manifest["arguments"]["labels"])
    cutoff = parse_warc_date(manifest["cutoff"]["instant"]).instant
    current = catalog_cutoff(catalog)
    if cutoff is None or current.instant != cutoff:
        failures.add(
            VerifyFailure(
                "catalog",
                f"the catalog's labels are for cutoff {current}, the export was made for "
                f"{manifest['cutoff']['instant']}: run `archivist relabel --cutoff "
                f"{manifest['cutoff']['name']}` to compare them",
            )
        )
    listed = {s["file"] for s in shards}
    data = out_dir / DATA
    if data.is_dir():
        for path in sorted(data.iterdir()):
            name = f"{DATA}/{path.name}"
            if path.name.startswith("train-") and name not in listed:
                failures.add(VerifyFailure(name, "a shard that the manifest does not list"))
    total = sum(int(s.get("rows", 0)) for s in shards)
    chosen: set[int] | None = None
    if deep and sample is not None and sample < total:
        chosen = set(random.Random(seed).sample(range(total), sample))
    checker = _RowChecker(
        catalog, labels, cutoff, failures, deep, chosen, remote or RemoteOptions()
    )
    rows_seen = 0
    for shard in shards:
        name = str(shard.get("file", ""))
        path = out_dir / name
        if not _is_shard_name(name, export_format):
            failures.add(VerifyFailure(name or "manifest", "not a shard name of this export"))
            continue
        if not path.is_file():
            failures.add(VerifyFailure(name, "missing"))
            rows_seen += int(shard.get("rows", 0))
            continue
        size = path.stat().st_size
        if size != shard.get("bytes"):
            failures.add(VerifyFailure(name, f"{size} bytes, the manifest says {shard['bytes']}"))
        digest = file_sha256(path)
        if digest != shard.get("sha256"):
            failures.add(
                VerifyFailure(name, f"SHA-256 is {digest}, the manifest says {shard['sha256']}")
            )
        count = 0
        try:
            for batch in read_shard(path, export_format, batch_rows=_BATCH_ROWS):
                rows = [
                    _Row(name, count + i, rows_seen + count + i, row) for i, row in enumerate(batch)
                ]
                count += len(rows)
                checker.check(rows)
                if on_progress is not None:
                    on_progress(rows_seen + count, total)
        except (OSError, ValueError, EOFError) as exc:
            failures.add(VerifyFailure(name, f"unreadable after row {count}: {exc}"))
        except Exception as exc:  # pyarrow's own errors on a damaged file
            if type(exc).__module__.startswith("pyarrow"):
                failures.add(VerifyFailure(name, f"unreadable after row {count}: {exc}"))
            else:
                raise
        if count != shard.get("rows"):
            failures.add(VerifyFailure(name, f"{count} rows, the manifest says {shard['rows']}"))
        rows_seen += count
    registered = export_by_manifest(catalog, hashlib.sha256(manifest_bytes).hexdigest())
    return VerifyReport(
        out_dir=out_dir,
        shards=len(shards),
        rows=rows_seen,
        deep_checked=checker.deep_checked,
        failures=failures.count,
        first_failures=tuple(failures.kept),
        registered=tuple(registered),
    )


def _is_shard_name(name: str, export_format: str) -> bool:
    """A manifest's shard path is ``data/train-NNNNN.<format>``: nothing else is ever read."""
    prefix, _, rest = name.partition("/")
    stem = f"train-{rest[6:11]}.{export_format}"
    return prefix == DATA and rest == stem and rest[6:11].isdigit()


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return format_utc(value)
    return value if isinstance(value, str) else None


class _RowChecker:
    """Checks batches of rows against the catalog and, when deep, against the WARC files."""

    def __init__(
        self,
        catalog: Catalog,
        labels: set[str],
        cutoff: datetime | None,
        failures: _Failures,
        deep: bool,
        chosen: set[int] | None,
        remote: RemoteOptions,
    ) -> None:
        self.catalog = catalog
        self.remote = remote
        self.labels = labels
        self.cutoff = cutoff
        self.failures = failures
        self.deep = deep
        self.chosen = chosen
        self.deep_checked = 0

    def check(self, rows: Sequence[_Row]) -> None:
        found = sources_at(self.catalog, [k for r in rows if (k := r.key) is not None])
        deep_rows: list[_Row] = []
        for row in rows:
            row.source = found.get(row.key) if row.key is not None else None
            reasons = self._row_reasons(row)
            if reasons:
                self.failures.add(row.failure("; ".join(reasons)))
            if (
                self.deep
                and row.source is not None
                and (self.chosen is None or row.number in self.chosen)
            ):
                deep_rows.append(row)
        for _, run in groupby(deep_rows, key=lambda r: r.source.file_id if r.source else 0):
            self._deep(list(run))

    def _row_reasons(self, row: _Row) -> list[str]:
        data = row.data
        reasons: list[str] = []
        text, text_sha256 = data.get("text"), data.get("text_sha256")
        if not isinstance(text, str) or not text:
            reasons.append("no text")
        elif hashlib.sha256(text.encode("utf-8")).hexdigest() != text_sha256:
            reasons.append("text does not hash to its text_sha256 (the shard was altered)")
        if isinstance(text_sha256, str) and data.get("id") != document_id(text_sha256):
            reasons.append("id is not derived from text_sha256")
        if data.get("label") not in self.labels:
            reasons.append(f"label {data.get('label')!r} is not one the export selected")
        source = row.source
        if source is None:
            reasons.append(
                "the catalog has no record at this warc_sha256 and offset"
                if row.key
                else "no warc_sha256 and offset"
            )
            return reasons
        expected = {
            "url": source.url,
            "capture_time": _iso(source.capture_time),
            "warc_file": source.file_location,
            "length": source.length,
            "warc_record_id": source.warc_record_id,
            "record_id": source.record_id,
            "payload_sha256": source.payload_sha256,
            "text_sha256": source.text_sha256,
            "mime": source.mime,
            "label": source.label,
        }
        for name, value in expected.items():
            given = _iso(data.get(name)) if name == "capture_time" else data.get(name)
            if given != value:
                reasons.append(f"{name} is {value!r} in the catalog, {given!r} in the row")
        reasons += self._evidence_reasons(data.get("evidence"), source)
        return reasons

    def _evidence_reasons(self, evidence: Any, source: ExportSource) -> list[str]:
        if not isinstance(evidence, dict):
            return ["no evidence"]
        reasons = []
        kind = source.evidence_kind or "none"
        if evidence.get("kind") != kind:
            reasons.append(
                f"evidence is {kind!r} in the catalog, {evidence.get('kind')!r} in the row"
            )
        basis = (source.evidence_file_sha256, source.evidence_offset)
        if (evidence.get("warc_sha256"), evidence.get("offset")) != basis:
            reasons.append("evidence rests on another record in the catalog")
        if source.label == "pre":
            when = source.evidence_capture_time
            if kind in ("none", "claimed") or when is None:
                reasons.append(f"labelled pre without evidence ({kind})")
            elif self.cutoff is not None and when >= self.cutoff:
                reasons.append(f"evidence captured {format_utc(when)}, not before the cutoff")
        return reasons

    def _deep(self, rows: list[_Row]) -> None:
        """Read the records of ``rows`` (one WARC file, offset order) and check each one."""
        source = rows[0].source
        assert source is not None
        self.deep_checked += len(rows)
        if is_remote_location(source.file_location):
            self._deep_remote(rows, source)
            return
        path = Path(source.file_location)
        try:
            size = path.stat().st_size
        except OSError as exc:
            reason = (
                f"source WARC {path} cannot be opened ({exc.strerror or exc}): "
                "moved or deleted since it was ingested"
            )
            for row in rows:
                self.failures.add(row.failure(reason))
            return
        if size != source.file_size:
            reason = (
                f"source WARC {path} is {size} bytes, the catalog recorded "
                f"{source.file_size}: it changed since it was ingested"
            )
            for row in rows:
                self.failures.add(row.failure(reason))
            return
        self._read_back(rows, path, str(path))

    def _read_back(self, rows: list[_Row], path: Path, where: str) -> None:
        """Check the records of ``rows`` in the (local) file at ``path``, one read."""
        source = rows[0].source
        assert source is not None
        compression: Any = source.file_compression or "none"
        queue = list(rows)
        while queue:
            try:
                for record in open_records(path, compression, [r.data["offset"] for r in queue]):
                    row = queue.pop(0)
                    self._check_record(row, record)
            except (WarcFormatError, OSError, ValueError) as exc:
                row = queue.pop(0)
                self.failures.add(
                    row.failure(f"source record cannot be read back from {where} ({exc})")
                )

    def _deep_remote(self, rows: list[_Row], source: ExportSource) -> None:
        """`_deep` for a file ingested over HTTP: each record fetched by one Range request,
        or all of them read from the cache's copy or one download of the whole file."""
        where = source.file_location
        is_arc = is_arc_file(self.catalog, source.file_sha256)
        first = stored_record(source, is_arc=is_arc)
        if reads_whole_file(first, self.remote):
            try:
                with local_copy_of(first, self.remote) as (path, _):
                    self._read_back(rows, path, where)
            except ArchiveError as exc:
                for row in rows:
                    self.failures.add(row.failure(f"source WARC cannot be read back: {exc}"))
            return
        for index, row in enumerate(rows):
            assert row.source is not None
            stored = stored_record(row.source, is_arc=is_arc)
            try:
                with local_copy_of(stored, self.remote) as (path, offset):
                    for record in open_records(path, stored.compression, [offset]):  # type: ignore[arg-type]
                        self._check_record(row, record)
            except (WarcFormatError, OSError, ValueError) as exc:
                reason = exc.reason if isinstance(exc, WarcFormatError) else str(exc)
                self.failures.add(
                    row.failure(
                        f"source record cannot be read back from {where} @ {stored.offset} "
                        f"({reason}): the WARC file changed"
                    )
                )
            except SourceChangedError as exc:
                self.failures.add(row.failure(f"source record cannot be read back: {exc}"))
            except TransferError as exc:
                # Unreachable or refusing: the file's other rows would fail the same way.
                for rest in rows[index:]:
                    self.failures.add(rest.failure(f"source record cannot be fetched: {exc}"))
                return

    def _check_record(self, row: _Row, record: Any) -> None:
        text = record_text(record)
        reasons = []
        if text.payload_sha256 != row.data.get("payload_sha256"):
            reasons.append(
                f"source record's payload SHA-256 is {text.payload_sha256}, the row says "
                f"{row.data.get('payload_sha256')}: the WARC file changed"
            )
        elif text.text_sha256 != row.data.get("text_sha256"):
            reasons.append(
                f"source record's text hashes to {text.text_sha256} ({text.status}), the row "
                f"says {row.data.get('text_sha256')}"
            )
        if reasons:
            self.failures.add(row.failure("; ".join(reasons)))


def iter_rows(out_dir: Path) -> Iterator[dict[str, Any]]:
    """Every row of the export in ``out_dir``, in order (for tests and small exports)."""
    manifest = read_manifest(out_dir)
    for shard in manifest["shards"]:
        for batch in read_shard(out_dir / shard["file"], manifest["arguments"]["format"]):
            yield from batch
