"""Where a verified human-era dataset is written: selection, documents, shards, manifest, card.

An export is a pipeline of generators (datatrove's shape) over the catalog:

1. **select**: the catalog yields one capture per distinct text among the captures that pass
   the filters it can apply itself (label, media type, host, capture time): the earliest
   verified capture of that text wins (`archive.catalog.export_sources`);
2. **sample**: ``--sample-rate`` keeps a text when a hash of (seed, text SHA-256) falls under
   the rate, so the choice is deterministic and independent of the order and of the rest of
   the catalog;
3. **read**: the winners come in (file, offset) order, so each WARC file is opened once and
   its records read front to back; the payload's SHA-256 must be the one the catalog holds
   (else the file changed since it was ingested: the export stops and says so) and the text
   is extracted again (`archive.textstage.record_text`, the text stage's own code) and must
   hash to the stored text hash (else it is counted as ``text_changed``, not exported);
4. **filter**: ``--min-chars``, then language identification and ``--lang``, then ``--limit``;
5. **write**: rows go to shards of about ``--shard-size`` bytes, each written under a
   temporary name and renamed when complete; a small state file in OUT_DIR records the
   finished shards so that an interrupted export resumes where it stopped.

Every byte written is a function of the catalog and the arguments: no clock, no random
state, fixed writer options. The same catalog and arguments give byte-identical shards.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from itertools import chain, groupby
from pathlib import Path
from typing import IO, Any, Literal

from archive import __version__
from archive.catalog import (
    Catalog,
    CatalogIdentity,
    ExportRef,
    ExportSelection,
    ExportSource,
    catalog_cutoff,
    catalog_identity,
    count_export_documents,
    export_sources,
    export_text_statuses,
    register_export,
)
from archive.cutoffs import Cutoff
from archive.dates import format_utc
from archive.errors import ArchiveError, SourceChangedError, SourceError, WarcFormatError
from archive.evidence import LABELS
from archive.language import identify_language, language_labels, language_model
from archive.readback import is_arc_file, local_copy_of, reads_whole_file, stored_record
from archive.reader import ArchiveRecord, open_records
from archive.remote import RemoteOptions
from archive.text import EXTRACTOR, TEXT_MIMES
from archive.textstage import RecordText, extract_catalog_texts, record_text

ExportFormat = Literal["parquet", "jsonl.zst", "jsonl.gz"]
FORMATS: tuple[ExportFormat, ...] = ("parquet", "jsonl.zst", "jsonl.gz")
DEFAULT_MIMES = ("text/html", "application/xhtml+xml", "text/plain")
DEFAULT_SHARD_SIZE = 256_000_000
EXPORT_FORMAT = "archivist-export/1"
STATE_FORMAT = "archivist-export-state/1"
MANIFEST = "manifest.json"
CARD = "README.md"
STATE = ".archivist-export.json"
DATA = "data"
SHARD_NAME = re.compile(r"\.?train-[0-9]{5}\.(parquet|jsonl\.zst|jsonl\.gz)(\.tmp)?")
# A row's id: the first 128 bits of its text's SHA-256, so the same text has the same id in
# every export, and the ids of one export are unique (one row per text).
ID_HEX_CHARS = 32
# A row group (Parquet) or flush block (JSONL) closes at this many rows or text bytes; a shard
# closes after the row group that takes it to the target size. Both are fixed: the group
# boundaries, and so the bytes, depend only on the rows.
GROUP_ROWS = 1000
GROUP_TEXT_BYTES = 32 << 20
ZSTD_LEVEL = 6
GZIP_LEVEL = 6
# Parquet columns with few distinct values: dictionary-encoded, and with statistics.
_DICTIONARY_COLUMNS = ["label", "evidence.kind", "warc_file", "warc_sha256", "language", "mime"]
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]i?b?|b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


class ExportError(ArchiveError):
    """An export cannot be made as asked (arguments, OUT_DIR, or the catalog's state)."""


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how; the defaults give the human-era dataset of the README."""

    # None: the catalog's cutoff. Another cutoff is refused (labels are stored for one).
    cutoff: Cutoff | None = None
    labels: tuple[str, ...] = ("pre",)
    mimes: tuple[str, ...] = DEFAULT_MIMES
    languages: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    min_chars: int = 0
    limit: int | None = None
    sample_rate: float = 1.0
    seed: int = 0
    format: ExportFormat = "parquet"
    shard_size: int = DEFAULT_SHARD_SIZE

    def arguments(self, cutoff: Cutoff) -> dict[str, Any]:
        """The options as the manifest records them (canonical: sorted, no duplicates)."""
        return {
            "cutoff": cutoff.to_dict(),
            "labels": sorted(set(self.labels), key=LABELS.index),
            "labels_widened": set(self.labels) != {"pre"},
            "mimes": sorted(set(self.mimes)),
            "languages": sorted(set(self.languages)),
            "hosts": sorted(set(self.hosts)),
            "domains": sorted(set(self.domains)),
            "from": format_utc(self.since) if self.since else None,
            "to": format_utc(self.until) if self.until else None,
            "min_chars": self.min_chars,
            "limit": self.limit,
            "sample_rate": self.sample_rate,
            "seed": self.seed,
            "format": self.format,
            "shard_size": self.shard_size,
        }


def parse_size(text: str) -> int:
    """Bytes from ``256MB``, ``1.5GB``, ``64MiB``, ``500k`` or ``1000000`` (KB = 1000 bytes)."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ExportError(f"not a size: {text!r} (use e.g. 256MB, 1GB, 64MiB or bytes)")
    unit = (match.group(2) or "").lower()
    binary = "i" in unit
    scale = 1024 ** "bkmgt".index(unit[0]) if binary else _UNITS[unit[:1]]
    size = int(float(match.group(1)) * scale)
    if size < 1:
        raise ExportError(f"not a size: {text!r} (it must be at least one byte)")
    return size


# -- counts ------------------------------------------------------------------------------------


@dataclass
class ExportCounts:
    """What an export has done so far; saved with each finished shard for resuming."""

    consumed: int = 0  # texts taken from the selection (exported or skipped)
    documents: int = 0
    text_bytes: int = 0
    duplicates_dropped: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    by_label: dict[str, int] = field(default_factory=dict)
    by_evidence: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)
    by_year: dict[str, int] = field(default_factory=dict)
    by_mime: dict[str, int] = field(default_factory=dict)
    limit_reached: bool = False

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key, value in data.items():
            if isinstance(value, dict):
                data[key] = dict(sorted(value.items()))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportCounts:
        return cls(**data)


def _tally(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


# -- rows --------------------------------------------------------------------------------------


def _schema() -> Any:
    import pyarrow as pa

    when = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("url", pa.string()),
            ("capture_time", when),
            ("label", pa.string()),
            (
                "evidence",
                pa.struct(
                    [
                        ("kind", pa.string()),
                        ("record_id", pa.int64()),
                        ("warc_record_id", pa.string()),
                        ("url", pa.string()),
                        ("capture_time", when),
                        ("warc_file", pa.string()),
                        ("warc_sha256", pa.string()),
                        ("offset", pa.int64()),
                    ]
                ),
            ),
            ("warc_file", pa.string()),
            ("warc_sha256", pa.string()),
            ("offset", pa.int64()),
            ("length", pa.int64()),
            ("warc_record_id", pa.string()),
            ("record_id", pa.int64()),
            ("payload_sha256", pa.string()),
            ("text_sha256", pa.string()),
            ("language", pa.string()),
            ("language_score", pa.float64()),
            ("mime", pa.string()),
            ("duplicates", pa.int64()),
        ]
    )


def document_id(text_sha256: str) -> str:
    """A row's stable id: derived from the SHA-256 of its normalised text."""
    return text_sha256[:ID_HEX_CHARS]


def evidence_of(source: ExportSource) -> dict[str, Any]:
    """The evidence of a row: its kind and the record it rests on (None fields when none)."""
    return {
        "kind": source.evidence_kind or "none",
        "record_id": source.evidence_id,
        "warc_record_id": source.evidence_warc_record_id,
        "url": source.evidence_url,
        "capture_time": source.evidence_capture_time,
        "warc_file": source.evidence_file_location,
        "warc_sha256": source.evidence_file_sha256,
        "offset": source.evidence_offset,
    }


def _row(source: ExportSource, text: str, language: str, score: float) -> dict[str, Any]:
    assert source.text_sha256 is not None
    return {
        "id": document_id(source.text_sha256),
        "text": text,
        "url": source.url,
        "capture_time": source.capture_time,
        "label": source.label,
        "evidence": evidence_of(source),
        "warc_file": source.file_location,
        "warc_sha256": source.file_sha256,
        "offset": source.offset,
        "length": source.length,
        "warc_record_id": source.warc_record_id,
        "record_id": source.record_id,
        "payload_sha256": source.payload_sha256,
        "text_sha256": source.text_sha256,
        "language": language,
        "language_score": score,
        "mime": source.mime,
        "duplicates": max(0, source.captures_with_text - 1),
    }


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its times as ISO 8601 UTC strings (the JSONL form)."""
    evidence = dict(row["evidence"])
    evidence["capture_time"] = _iso(evidence["capture_time"])
    return dict(row, capture_time=_iso(row["capture_time"]), evidence=evidence)


def _iso(value: datetime | None) -> str | None:
    return format_utc(value) if value is not None else None


# -- shards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardInfo:
    """A finished shard: its path under OUT_DIR, rows, size and SHA-256."""

    file: str
    rows: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def shard_name(index: int, export_format: str) -> str:
    """``data/train-00000.parquet``: Hugging Face's naming, so the split is ``train``."""
    return f"{DATA}/train-{index:05d}.{export_format}"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


class _Shard:
    """One shard being written under a temporary name."""

    def __init__(self, out_dir: Path, index: int, export_format: ExportFormat) -> None:
        self.name = shard_name(index, export_format)
        self.path = out_dir / self.name
        self.temp = self.path.with_name(f".{self.path.name}.tmp")
        self.format = export_format
        self.rows = 0
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()
        # "x": never follow a link or reuse a file someone else put there.
        self._fh: IO[bytes] = self.temp.open("xb")
        self._parquet: Any = None
        self._stream: Any = None
        if export_format == "parquet":
            import pyarrow.parquet as pq

            self._parquet = pq.ParquetWriter(
                self._fh,
                _schema(),
                compression="zstd",
                compression_level=ZSTD_LEVEL,
                use_dictionary=_DICTIONARY_COLUMNS,
                write_statistics=[*_DICTIONARY_COLUMNS, "offset", "record_id", "capture_time"],
                data_page_version="1.0",
                version="2.6",
                write_page_index=False,
                store_schema=True,
            )
        elif export_format == "jsonl.zst":
            import zstandard

            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, threads=0)
            self._stream = compressor.stream_writer(self._fh, closefd=False)
        else:
            self._stream = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._fh, compresslevel=GZIP_LEVEL, mtime=0
            )

    def write_group(self, rows: list[dict[str, Any]]) -> int:
        """Write one row group; return the shard's size so far."""
        if self._parquet is not None:
            import pyarrow as pa

            table = pa.Table.from_pylist(rows, schema=_schema())
            self._parquet.write_table(table, row_group_size=len(rows))
        else:
            lines = b"".join(
                json.dumps(json_row(row), ensure_ascii=False, separators=(",", ":")).encode()
                + b"\n"
                for row in rows
            )
            self._stream.write(lines)
            self._flush_block()
        self.rows += len(rows)
        return self._fh.tell()

    def _flush_block(self) -> None:
        if self.format == "jsonl.zst":
            import zstandard

            self._stream.flush(zstandard.FLUSH_BLOCK)
        else:
            self._stream.flush()  # zlib.Z_SYNC_FLUSH: the bytes so far reach the file

    def finish(self) -> ShardInfo:
        """Close the shard and give it its final name."""
        if self._parquet is not None:
            self._parquet.close()
        else:
            self._stream.close()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        info = ShardInfo(self.name, self.rows, self.temp.stat().st_size, file_sha256(self.temp))
        os.replace(self.temp, self.path)
        return info

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._parquet.close()
            elif self._stream is not None:
                self._stream.close()
        with contextlib.suppress(Exception):
            self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


class ShardWriter:
    """Rows in, shards of about ``shard_size`` bytes out, in row groups of fixed bounds."""

    def __init__(
        self, out_dir: Path, export_format: ExportFormat, shard_size: int, next_index: int
    ) -> None:
        self.out_dir = out_dir
        self.format = export_format
        self.shard_size = shard_size
        self.next_index = next_index
        # Small shards get small groups, so that they close near their target size.
        self.group_bytes = min(GROUP_TEXT_BYTES, max(1, shard_size // 4))
        self._group: list[dict[str, Any]] = []
        self._group_bytes = 0
        self._shard: _Shard | None = None

    def add(self, row: dict[str, Any], text_bytes: int) -> ShardInfo | None:
        """Add a row; return the shard it completed, if it completed one."""
        self._group.append(row)
        self._group_bytes += text_bytes
        if len(self._group) < GROUP_ROWS and self._group_bytes < self.group_bytes:
            return None
        size = self._write_group()
        return self._finish() if size >= self.shard_size else None

    def close(self) -> ShardInfo | None:
        """Write what is pending and finish the last shard, if there is one."""
        if self._group:
            self._write_group()
        return self._finish() if self._shard is not None else None

    def abandon(self) -> None:
        """Drop the shard being written (an interrupted export keeps only finished shards)."""
        if self._shard is not None:
            self._shard.abandon()
            self._shard = None

    def _write_group(self) -> int:
        if self._shard is None:
            self._shard = _Shard(self.out_dir, self.next_index, self.format)
            self.next_index += 1
        size = self._shard.write_group(self._group)
        self._group, self._group_bytes = [], 0
        return size

    def _finish(self) -> ShardInfo:
        assert self._shard is not None
        info = self._shard.finish()
        self._shard = None
        return info


# -- OUT_DIR and its state ---------------------------------------------------------------------


@dataclass
class ExportState:
    """What is finished in OUT_DIR: the resume key, the shards, and where the selection is."""

    key: str
    arguments: dict[str, Any]
    shards: list[ShardInfo] = field(default_factory=list)
    # (file id, offset) of the last capture consumed when the last shard was finished.
    position: tuple[int, int] | None = None
    counts: ExportCounts = field(default_factory=ExportCounts)
    complete: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "key": self.key,
            "arguments": self.arguments,
            "shards": [s.to_dict() for s in self.shards],
            "position": list(self.position) if self.position else None,
            "counts": self.counts.to_dict(),
            "complete": self.complete,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportState:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unknown state format {data.get('format')!r}")
        position = data["position"]
        return cls(
            key=data["key"],
            arguments=data["arguments"],
            shards=[ShardInfo(**s) for s in data["shards"]],
            position=(int(position[0]), int(position[1])) if position else None,
            counts=ExportCounts.from_dict(data["counts"]),
            complete=bool(data["complete"]),
        )


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    temp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    with temp.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)


def _load_state(out_dir: Path) -> ExportState | None:
    path = out_dir / STATE
    if not path.is_file() or path.is_symlink():
        return None
    try:
        return ExportState.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, OSError):
        return None


def _save_state(out_dir: Path, state: ExportState) -> None:
    write_atomically(out_dir / STATE, _json_bytes(state.to_dict()))


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _export_files(out_dir: Path) -> list[Path]:
    """The files in OUT_DIR that an export writes (and only those)."""
    found = [
        out_dir / name
        for name in (MANIFEST, CARD, STATE, f".{MANIFEST}.tmp", f".{CARD}.tmp", f".{STATE}.tmp")
        if (out_dir / name).is_file() or (out_dir / name).is_symlink()
    ]
    data = out_dir / DATA
    if data.is_dir() and not data.is_symlink():
        found += [p for p in sorted(data.iterdir()) if SHARD_NAME.fullmatch(p.name)]
    return found


def prepare_out_dir(
    out_dir: Path, key: str, arguments: dict[str, Any], overwrite: bool
) -> ExportState:
    """Make OUT_DIR ready: resume the export of the same key, or start one in an empty folder.

    A non-empty folder is refused unless ``overwrite``; then only the files an export writes
    (manifest, card, state, ``data/train-*`` shards) are removed, nothing else.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out_dir}: {exc.strerror or exc}") from exc
    data = out_dir / DATA
    if data.is_symlink() or (data.exists() and not data.is_dir()):
        raise ExportError(f"{data} is not a directory of OUT_DIR (a link or a file): refused")
    state = _load_state(out_dir)
    if state is not None and state.key == key:
        lost = next(
            (
                out_dir / shard.file
                for shard in state.shards
                if not (out_dir / shard.file).is_file()
                or (out_dir / shard.file).stat().st_size != shard.bytes
            ),
            None,
        )
        if lost is None:
            finished = {Path(s.file).name for s in state.shards}
            for path in _export_files(out_dir):
                if path.parent == data and path.name not in finished:
                    path.unlink()  # an unfinished shard, or one written after the last state
            data.mkdir(exist_ok=True)
            return state
        if not overwrite:
            raise ExportError(
                f"{lost}: a finished shard of this export is missing or changed: add "
                "--overwrite to export again from the start"
            )
    if any(out_dir.iterdir()):
        if not overwrite:
            if state is not None:
                raise ExportError(
                    f"{out_dir} holds an export made with other arguments or from another state "
                    "of the catalog: rerun it as it was to finish it, or add --overwrite to "
                    "replace it"
                )
            raise ExportError(
                f"{out_dir} is not empty: choose a new or empty directory, or add --overwrite "
                "to replace an export there"
            )
        for path in _export_files(out_dir):
            path.unlink()
    data.mkdir(exist_ok=True)
    return ExportState(key=key, arguments=arguments)


# -- the pipeline ------------------------------------------------------------------------------


def sampled(text_sha256: str, rate: float, seed: int) -> bool:
    """Whether ``--sample-rate rate --seed seed`` keeps the text with this hash."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"{seed}:{text_sha256}".encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") < rate * 2**64


def texts_of(
    sources: Iterator[ExportSource],
    wanted: Callable[[ExportSource], bool],
    *,
    catalog: Catalog | None = None,
    remote: RemoteOptions | None = None,
) -> Generator[tuple[ExportSource, RecordText | None], None, None]:
    """Each source with its record's text read back from its WARC (None when not ``wanted``).

    Sources come in (file, offset) order: each file is opened once and read front to back. A
    remote file's records are fetched one by one with a Range request each (or read from the
    cache, or from one download of the whole file when it cannot be entered in the middle).
    A file that is gone, has another size, or no longer holds the recorded payload at an
    offset raises (SourceError, SourceChangedError): it is never silently skipped.
    """
    for _, group in groupby(sources, key=lambda s: s.file_id):
        yield from _texts_of_file(group, wanted, catalog, remote or RemoteOptions())


def _texts_of_file(
    sources: Iterator[ExportSource],
    wanted: Callable[[ExportSource], bool],
    catalog: Catalog | None,
    remote: RemoteOptions,
) -> Generator[tuple[ExportSource, RecordText | None], None, None]:
    """`texts_of` for the sources of one file (the file is opened only if one is wanted)."""
    pending: deque[tuple[ExportSource, bool]] = deque()

    def offsets() -> Iterator[int]:
        for source in sources:
            keep = wanted(source)
            pending.append((source, keep))
            if keep:
                yield source.offset

    offset_iter = offsets()
    first = next(offset_iter, None)
    if first is not None:
        source = pending[-1][0]
        where = source.file_location
        compression: Any = source.file_compression or "none"
        with contextlib.ExitStack() as stack:
            try:
                records: Iterator[ArchiveRecord]
                if not is_remote_location(where):
                    path = _checked_source(source)
                    records = open_records(path, compression, chain([first], offset_iter))
                else:
                    is_arc = catalog is not None and is_arc_file(catalog, source.file_sha256)
                    stored = stored_record(source, is_arc=is_arc)
                    if reads_whole_file(stored, remote):
                        path, _ = stack.enter_context(local_copy_of(stored, remote))
                        records = open_records(path, compression, chain([first], offset_iter))
                    else:
                        records = _ranged_records(
                            pending, chain([first], offset_iter), is_arc, remote
                        )
                for record in records:
                    while not pending[0][1]:
                        yield pending.popleft()[0], None
                    current = pending.popleft()[0]
                    text = record_text(record)
                    if text.payload_sha256 != current.payload_sha256:
                        raise SourceChangedError(
                            f"{where} @ {current.offset}: payload SHA-256 is "
                            f"{text.payload_sha256}, the catalog recorded "
                            f"{current.payload_sha256}: the file changed since it was ingested"
                        )
                    yield current, text
            except WarcFormatError as exc:
                shown = str(exc) if not is_remote_location(where) else f"{where}: {exc.reason}"
                raise SourceChangedError(
                    f"{shown}: the file changed since it was ingested"
                ) from exc
            except OSError as exc:
                raise SourceError(f"{where}: cannot read ({exc.strerror or exc})") from exc
    while pending:
        yield pending.popleft()[0], None


def _ranged_records(
    pending: deque[tuple[ExportSource, bool]],
    offsets: Iterator[int],
    is_arc: bool,
    remote: RemoteOptions,
) -> Iterator[ArchiveRecord]:
    """The records at ``offsets`` of a remote file, each fetched alone by one Range request.

    The source of each offset is the last one `offsets` put in ``pending``.
    """
    for _ in offsets:
        stored = stored_record(pending[-1][0], is_arc=is_arc)
        with local_copy_of(stored, remote) as (path, offset):
            yield from open_records(path, stored.compression, [offset])  # type: ignore[arg-type]


def is_remote_location(location: str) -> bool:
    """Whether the catalog's location of a file is a URL (a file ingested over HTTP)."""
    return location.lower().startswith(("http://", "https://"))


def _checked_source(source: ExportSource) -> Path:
    """The (local) WARC file of ``source``, once its size is checked against the catalog."""
    path = Path(source.file_location)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(
            f"{path}: cannot open the WARC file ({exc.strerror or exc}); "
            "was it moved or deleted since it was ingested?"
        ) from exc
    if size != source.file_size:
        raise SourceChangedError(
            f"{path}: file is {size} bytes, the catalog recorded {source.file_size}: "
            "it changed since it was ingested"
        )
    return path


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote, and what it left out and why."""

    out_dir: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    registered: ExportRef
    # Shards found finished in OUT_DIR and kept (an interrupted export resumed).
    resumed_shards: int

    @property
    def counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = self.manifest["counts"]
        return counts


def export_dataset(
    catalog: Catalog,
    out_dir: Path,
    options: ExportOptions = ExportOptions(),
    *,
    overwrite: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    remote: RemoteOptions | None = None,
) -> ExportResult:
    """Export the selected captures' texts from ``catalog`` to shards, manifest and card.

    ``on_progress(done, total)`` is called as texts are consumed; ``remote`` says how records
    of files ingested over HTTP are fetched. Raises ArchiveError
    subclasses: ExportError (arguments, OUT_DIR), SourceError / SourceChangedError (a WARC
    file moved or changed; finished shards are kept and a rerun resumes).
    """
    out_dir = Path(os.path.abspath(out_dir))
    cutoff = _check_cutoff(catalog, options.cutoff)
    selection = _selection(options)
    # Every candidate needs its text hash: finish the text stage (as `archivist text` does).
    text_report = extract_catalog_texts(catalog)
    statuses = export_text_statuses(catalog, selection)
    if statuses.get("pending"):
        problem = text_report.problems[0] if text_report.problems else "unknown reason"
        raise ExportError(
            f"{statuses['pending']} selected captures have no text hash: their WARC files "
            f"could not be read ({problem})"
        )
    identity = catalog_identity(catalog)
    arguments = options.arguments(cutoff)
    versions = _versions()
    key = hashlib.sha256(
        json.dumps(
            {"arguments": arguments, "catalog": identity.fingerprint, "versions": versions},
            sort_keys=True,
        ).encode()
    ).hexdigest()
    state = prepare_out_dir(out_dir, key, arguments, overwrite)
    resumed = len(state.shards)
    if not state.complete:
        _write_shards(catalog, out_dir, options, selection, state, on_progress, remote)
    manifest = build_manifest(arguments, identity, versions, statuses, state)
    manifest_bytes = _json_bytes(manifest)
    write_atomically(out_dir / MANIFEST, manifest_bytes)
    write_atomically(out_dir / CARD, dataset_card(manifest).encode("utf-8"))
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    registered = register_export(
        catalog,
        out_dir=str(out_dir),
        arguments=arguments,
        arguments_sha256=key,
        manifest_sha256=manifest_sha256,
        cutoff=cutoff.name,
        rows=state.counts.documents,
        shards=len(state.shards),
        archivist_version=__version__,
        record_ids=shard_record_ids(out_dir, state.shards, options.format),
    )
    return ExportResult(out_dir, manifest, manifest_sha256, registered, resumed)


def _write_shards(
    catalog: Catalog,
    out_dir: Path,
    options: ExportOptions,
    selection: ExportSelection,
    state: ExportState,
    on_progress: Callable[[int, int], None] | None,
    remote: RemoteOptions | None = None,
) -> None:
    counts = state.counts
    total = count_export_documents(catalog, selection)
    writer = ShardWriter(out_dir, options.format, options.shard_size, len(state.shards))
    languages = set(options.languages)

    def wanted(source: ExportSource) -> bool:
        assert source.text_sha256 is not None
        return sampled(source.text_sha256, options.sample_rate, options.seed)

    def finished(shard: ShardInfo | None, position: tuple[int, int] | None) -> None:
        if shard is not None:
            state.shards.append(shard)
            state.position = position
            _save_state(out_dir, state)

    if options.limit is not None and counts.documents >= options.limit:
        counts.limit_reached = True
    sources = export_sources(catalog, selection, after=state.position)
    documents = texts_of(sources, wanted, catalog=catalog, remote=remote)
    try:
        with contextlib.closing(sources), contextlib.closing(documents):
            for source, text in documents:
                if counts.limit_reached:
                    break
                counts.consumed += 1
                if on_progress is not None:
                    on_progress(counts.consumed, total)
                row = _document(source, text, options, languages, counts)
                if row is None:
                    continue
                text_bytes = len(row["text"].encode("utf-8"))
                _count_row(counts, source, row, text_bytes)
                finished(writer.add(row, text_bytes), (source.file_id, source.offset))
                if options.limit is not None and counts.documents >= options.limit:
                    counts.limit_reached = True
                    break
        last = writer.close()
    except BaseException:
        writer.abandon()
        raise
    if last is not None:
        state.shards.append(last)
    state.complete = True
    _save_state(out_dir, state)


def _document(
    source: ExportSource,
    text: RecordText | None,
    options: ExportOptions,
    languages: set[str],
    counts: ExportCounts,
) -> dict[str, Any] | None:
    """The row for ``source``, or None (and the reason counted) when it is left out."""
    if text is None:
        counts.skip("sample")
        return None
    if text.status != "ok" or text.text is None or text.text_sha256 != source.text_sha256:
        counts.skip("text_changed")
        return None
    if len(text.text) < options.min_chars:
        counts.skip("min_chars")
        return None
    language = identify_language(text.text)
    if languages and language.code not in languages:
        counts.skip("language")
        return None
    return _row(source, text.text, language.code, language.score)


def _count_row(counts: ExportCounts, source: ExportSource, row: dict[str, Any], size: int) -> None:
    counts.documents += 1
    counts.text_bytes += size
    counts.duplicates_dropped += max(0, source.selected_with_text - 1)
    _tally(counts.by_label, row["label"] or "none")
    _tally(counts.by_evidence, row["evidence"]["kind"])
    _tally(counts.by_language, row["language"])
    when = source.capture_time
    _tally(counts.by_year, f"{when.year:04d}" if when is not None else "unknown")
    _tally(counts.by_mime, row["mime"] or "none")


def _check_cutoff(catalog: Catalog, wanted: Cutoff | None) -> Cutoff:
    """The catalog's cutoff; refuse another one (labels are stored for the catalog's)."""
    current = catalog_cutoff(catalog)
    if wanted is not None and wanted.instant != current.instant:
        raise ExportError(
            f"the catalog's labels are for cutoff {current}, not {wanted}: run "
            f"`archivist relabel --cutoff {wanted.name}` first"
        )
    return current


def _selection(options: ExportOptions) -> ExportSelection:
    """Check ``options`` and turn their catalog filters into an ExportSelection."""
    from archive.lookup import surt_prefixes

    unknown = sorted(set(options.labels) - set(LABELS))
    if unknown or not options.labels:
        raise ExportError(
            f"unknown label {unknown[0] if unknown else ''!r} (use {', '.join(LABELS)})"
        )
    mimes = sorted(set(options.mimes) - TEXT_MIMES)
    if mimes or not options.mimes:
        known = ", ".join(sorted(TEXT_MIMES))
        raise ExportError(
            f"cannot export {mimes[0] if mimes else 'nothing'!r}: text types are {known}"
        )
    if options.languages:
        known_languages = set(language_labels())
        bad = sorted(set(options.languages) - known_languages)
        if bad:
            raise ExportError(f"unknown language code {bad[0]!r} (ISO 639-1, e.g. en, de, fr)")
    if not 0 < options.sample_rate <= 1:
        raise ExportError(f"--sample-rate must be in (0, 1], not {options.sample_rate}")
    if options.limit is not None and options.limit < 1:
        raise ExportError("--limit must be at least 1")
    if options.min_chars < 0:
        raise ExportError("--min-chars cannot be negative")
    if options.shard_size < 1:
        raise ExportError("--shard-size must be at least one byte")
    if options.format not in FORMATS:
        raise ExportError(f"unknown format {options.format!r} (use {', '.join(FORMATS)})")
    if options.since and options.until and options.since >= options.until:
        raise ExportError("--from must be before --to")
    prefixes: list[str] = []
    for value, match in [(h, "host") for h in options.hosts] + [
        (d, "domain") for d in options.domains
    ]:
        url = value if "://" in value else f"http://{value.strip().strip('/')}/"
        prefixes += surt_prefixes(url, match)  # type: ignore[arg-type]
    return ExportSelection(
        labels=tuple(sorted(set(options.labels))),
        mimes=tuple(sorted(set(options.mimes))),
        surt_prefixes=tuple(sorted(set(prefixes))),
        since=options.since,
        until=options.until,
    )


def _versions() -> dict[str, str]:
    """Everything whose version changes the bytes of a shard."""
    return {
        "archivist": __version__,
        "extractor": EXTRACTOR,
        "language_model": language_model(),
        "pyarrow": version("pyarrow"),
        "zstandard": version("zstandard"),
    }


def shard_record_ids(out_dir: Path, shards: list[ShardInfo], export_format: str) -> Iterator[int]:
    """The catalog ids of the rows of ``shards``, streamed from the files."""
    for shard in shards:
        for batch in read_shard(out_dir / shard.file, export_format, columns=["record_id"]):
            for row in batch:
                yield int(row["record_id"])


def read_shard(
    path: Path, export_format: str, *, columns: list[str] | None = None, batch_rows: int = 1000
) -> Iterator[list[dict[str, Any]]]:
    """The rows of a shard in batches, as dicts (times as datetimes in Parquet, strings in
    JSONL). Raises OSError or ValueError when the file cannot be read as a shard.
    """
    if export_format == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
                yield batch.to_pylist()
        return
    rows: list[dict[str, Any]] = []
    for line in _jsonl_lines(path, export_format):
        row = json.loads(line)
        if not isinstance(row, dict):
            raise ValueError("a line is not a JSON object")
        rows.append({k: row.get(k) for k in columns} if columns else row)
        if len(rows) >= batch_rows:
            yield rows
            rows = []
    if rows:
        yield rows


def _jsonl_lines(path: Path, export_format: str) -> Iterator[bytes]:
    import io

    with path.open("rb") as raw:
        if export_format == "jsonl.zst":
            import zstandard

            stream: Any = zstandard.ZstdDecompressor().stream_reader(raw)
        else:
            stream = gzip.GzipFile(fileobj=raw, mode="rb")
        with io.BufferedReader(stream) as lines:
            yield from lines


# -- manifest and card -------------------------------------------------------------------------


def build_manifest(
    arguments: dict[str, Any],
    identity: CatalogIdentity,
    versions: dict[str, str],
    statuses: dict[str, int],
    state: ExportState,
) -> dict[str, Any]:
    """The manifest: how the export was made and what it holds (no clock: deterministic)."""
    counts = state.counts.to_dict()
    return {
        "format": EXPORT_FORMAT,
        "tool": {"name": "archivist", "version": versions["archivist"]},
        "cutoff": arguments["cutoff"],
        "arguments": arguments,
        "extractor": versions["extractor"],
        "language_model": versions["language_model"],
        "writers": {"pyarrow": versions["pyarrow"], "zstandard": versions["zstandard"]},
        "catalog": identity.to_dict(),
        "shards": [s.to_dict() for s in state.shards],
        "counts": {
            "rows": counts["documents"],
            "text_bytes": counts["text_bytes"],
            "duplicates_dropped": counts["duplicates_dropped"],
            "by_label": counts["by_label"],
            "by_evidence": counts["by_evidence"],
            "by_language": counts["by_language"],
            "by_year": counts["by_year"],
            "by_mime": counts["by_mime"],
            # Texts left out after the catalog's selection, by reason.
            "skipped": counts["skipped"],
            "limit_reached": counts["limit_reached"],
            # Every capture the catalog's filters selected, by what its text is (extraction
            # failures, empty pages and revisits are counted here, never exported).
            "selected_captures": sum(statuses.values()),
            "selected_by_text_status": statuses,
        },
    }


def dataset_card(manifest: dict[str, Any]) -> str:
    """A Hugging Face dataset card (README.md): YAML header, then provenance, method, limits."""
    counts = manifest["counts"]
    arguments = manifest["arguments"]
    rows = counts["rows"]
    extension = arguments["format"]
    languages = [code for code, _ in sorted(counts["by_language"].items()) if code != "und"]
    header = [
        "---",
        "pretty_name: archivist human-era web text",
        "license: other",
        "license_name: text-belongs-to-its-authors",
        "language:" + ("" if languages else " []"),
        *[f"- {code}" for code in languages],
        "size_categories:",
        f"- {_size_category(rows)}",
        "task_categories:",
        "- text-generation",
        "tags:",
        "- web-archive",
        "- warc",
        "- pre-ai",
        "- provenance",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        f"    path: {DATA}/train-*.{extension}",
        "---",
    ]
    cutoff = manifest["cutoff"]
    labels = ", ".join(f"`{label}`" for label in arguments["labels"])
    widened = (
        " **The label filter was widened beyond `pre`: rows labelled otherwise have no "
        "evidence of being human-era.**"
        if arguments["labels_widened"]
        else ""
    )
    filters = _filters_text(arguments)
    load = (
        'load_dataset("parquet", data_dir=".")'
        if extension == "parquet"
        else f'load_dataset("json", data_files="{DATA}/train-*.{extension}")'
    )
    body = f"""
# archivist human-era web text

{rows:,} documents ({counts["text_bytes"]:,} bytes of text) from web archives (WARC files),
each captured **before {cutoff["instant"]}** (cutoff `{cutoff["name"]}`) or proven to hold a text
that was, with the evidence for it in every row. Written by archivist {manifest["tool"]["version"]}.

| | |
|---|---|
| rows | {rows:,} |
| labels exported | {labels} |
| by evidence | {_inline(counts["by_evidence"])} |
| by language | {_inline(counts["by_language"], top=12)} |
| by capture year | {_inline(counts["by_year"])} |
| duplicates dropped | {counts["duplicates_dropped"]:,} |
| shards | {len(manifest["shards"])} (`{DATA}/train-*.{extension}`) |

## Provenance

Every row names the WARC file (`warc_file`, `warc_sha256`), the byte `offset` and `length` of
the record it was read from, its `warc_record_id`, its `capture_time` (WARC-Date, UTC), the
SHA-256 of its payload and of its text, and its `label` for the cutoff with the `evidence`
that put it there: the kind (`captured`: the record's own verified date is before the cutoff;
`same-payload`, `same-text`, `revisit`: another verified capture before the cutoff holds the
same payload or text) and the record that evidence rests on.{widened}

`manifest.json` records the cutoff, the arguments, the extractor and language model versions,
the catalog the export came from, every shard's rows, bytes and SHA-256, and the counts. With
access to the catalog and the WARC files, anyone can re-check every row:

```sh
archivist verify-export --deep .
```

## Method

- Selection: captures labelled {labels} for the cutoff; {filters}.
- Text: the main content of each page (resiliparse, `{manifest["extractor"]}`), normalised
  (NFC, invisible characters removed, whitespace folded), re-extracted from the WARC record
  and checked against the text hash the catalog stored.
- Deduplication: exact, by the SHA-256 of the normalised text; the earliest verified capture
  of a text is the row, and `duplicates` counts the other captures of that text in the catalog.
- Language: `{manifest["language_model"]}` on the first characters of each text; `language`
  is its ISO 639-1 code and `language_score` its confidence.
- Order: by WARC file and offset; the same catalog and arguments give byte-identical shards.

## Loading

```python
from datasets import load_dataset
ds = {load}
```

## Limits

- A capture date proves that a text existed before the cutoff, not who wrote it: spam, boiler-
  plate and machine-generated text older than the cutoff are not filtered out.
- Deduplication is exact: near-duplicates (the same article with another footer) remain.
- Main-content extraction is heuristic: some navigation may remain and some content may be lost.
- Language identification is unreliable on very short texts.

## Rights

The texts belong to their authors. This dataset points to where each was found and when; it
grants no licence to the texts themselves. Check the terms that apply to your use.
"""
    return "\n".join(header) + "\n" + body


def _filters_text(arguments: dict[str, Any]) -> str:
    parts = [f"media types {', '.join(arguments['mimes'])}"]
    for key, words in (
        ("languages", "languages"),
        ("hosts", "hosts"),
        ("domains", "domains"),
    ):
        if arguments[key]:
            parts.append(f"{words} {', '.join(arguments[key])}")
    if arguments["from"]:
        parts.append(f"captured from {arguments['from']}")
    if arguments["to"]:
        parts.append(f"captured before {arguments['to']}")
    if arguments["min_chars"]:
        parts.append(f"at least {arguments['min_chars']} characters")
    if arguments["sample_rate"] < 1:
        parts.append(f"a {arguments['sample_rate']} sample (seed {arguments['seed']})")
    if arguments["limit"]:
        parts.append(f"at most {arguments['limit']} documents")
    return "; ".join(parts)


def _inline(counts: dict[str, int], top: int | None = None) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = items[:top] if top else items
    text = ", ".join(f"{k}: {v:,}" for k, v in shown) or "-"
    return text + (f", … ({len(items) - len(shown)} more)" if len(shown) < len(items) else "")


_SIZE_CATEGORIES = (
    (10**3, "n<1K"),
    (10**4, "1K<n<10K"),
    (10**5, "10K<n<100K"),
    (10**6, "100K<n<1M"),
    (10**7, "1M<n<10M"),
    (10**8, "10M<n<100M"),
    (10**9, "100M<n<1B"),
)


def _size_category(rows: int) -> str:
    """The Hugging Face ``size_categories`` value for ``rows`` rows."""
    return next((name for bound, name in _SIZE_CATEGORIES if rows < bound), "n>1B")
