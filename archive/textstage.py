"""The text stage: the normalised main text's SHA-256 for captures that lack it.

Extraction costs far more per record than hashing (about a millisecond per HTML page against
microseconds), so it is a stage of its own over the catalog rather than part of the byte-level
pass: `archivist ingest` runs it after that pass unless `--no-text`, `archivist text` runs it
alone. Work is per WARC file: the file is read once, sequentially, and only the wanted
records are extracted; the results and the labels they change are written in one transaction.
A failure to extract is a status on the capture, never an error that stops the stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from archive.catalog import Catalog, TextResult, files_needing_text, record_texts, text_candidates
from archive.errors import WarcFormatError
from archive.fastreader import open_reader
from archive.payload import digest_block, has_http_block
from archive.reader import ArchiveRecord
from archive.text import EXTRACTOR, extract_text

# Payloads larger than this are not read into memory for extraction (no article is this big).
MAX_TEXT_PAYLOAD = 16 << 20


@dataclass(frozen=True)
class TextReport:
    """What one run of the text stage did."""

    files: int = 0
    captures: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "captures": self.captures,
            "by_status": self.by_status,
            "problems": list(self.problems),
            "extractor": EXTRACTOR,
        }


def extract_catalog_texts(
    catalog: Catalog,
    *,
    file_ids: Iterable[int] | None = None,
    jobs: int = 1,
    on_file: Callable[[], None] | None = None,
) -> TextReport:
    """Extract and hash the text of every capture that lacks it (in ``file_ids`` when given)."""
    work = files_needing_text(catalog, None if file_ids is None else list(file_ids))
    by_status: dict[str, int] = {}
    problems: list[str] = []
    captures = 0

    def record(file_id: int, outcome: tuple[list[TextResult], str | None]) -> None:
        nonlocal captures
        results, problem = outcome
        if problem:
            problems.append(problem)
        record_texts(catalog, file_id, results)
        captures += len(results)
        for result in results:
            by_status[result.status] = by_status.get(result.status, 0) + 1
        if on_file is not None:
            on_file()

    tasks = [
        (file_id, location, compression, text_candidates(catalog, file_id))
        for file_id, location, compression in work
    ]
    if jobs <= 1 or len(tasks) <= 1:
        for file_id, location, compression, wanted in tasks:
            record(file_id, texts_of_file(location, compression, wanted))
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            futures = [
                (file_id, pool.submit(texts_of_file, location, compression, wanted))
                for file_id, location, compression, wanted in tasks
            ]
            for file_id, future in futures:
                record(file_id, future.result())
    return TextReport(len(tasks), captures, dict(sorted(by_status.items())), tuple(problems))


def texts_of_file(
    location: str, compression: str, wanted: dict[int, int]
) -> tuple[list[TextResult], str | None]:
    """Extract the records at the ``wanted`` offsets (offset -> record id) of one WARC file."""
    results: list[TextResult] = []
    path = Path(location)
    try:
        reader = open_reader(path)
        if reader.format.compression != compression:
            return results, f"{location}: changed since it was ingested; text not extracted"
        for record in reader:
            record_id = wanted.get(record.offset)
            if record_id is None:
                continue
            results.append(_text_of(record_id, record))
    except (OSError, WarcFormatError) as exc:
        return results, f"{location}: cannot read for text extraction ({exc})"
    return results, None


def _text_of(record_id: int, record: ArchiveRecord) -> TextResult:
    text = record_text(record)
    return TextResult(record_id, text.text_sha256, text.status)


@dataclass(frozen=True)
class RecordText:
    """A record's payload SHA-256 and the normalised main text of that payload, if any."""

    payload_sha256: str
    # ok | empty (no text) | error (extraction failed) | too-large
    status: str
    text: str | None
    text_sha256: str | None


def record_text(record: ArchiveRecord) -> RecordText:
    """Read ``record``'s block to its end: its payload's SHA-256 and its main text.

    The one place where a capture's text is made, for the text stage and for exports, so that
    a text exported later hashes as the text stage hashed it.
    """
    payload = bytearray()
    too_large = False

    def keep(data: bytes) -> None:
        nonlocal too_large
        if len(payload) + len(data) > MAX_TEXT_PAYLOAD:
            too_large = True
        elif not too_large:
            payload.extend(data)

    content_type = record.headers.get("Content-Type")
    digests = digest_block(
        record.block,
        http=has_http_block(record.record_type, record.target_uri, content_type),
        block_algorithms=set(),
        payload_algorithms={"sha256"},
        sink=keep,
    )
    payload_sha256 = digests.payload["sha256"].hex()
    if too_large:
        return RecordText(payload_sha256, "too-large", None, None)
    http = digests.http
    media = http.get("Content-Type") if http else content_type
    extracted = extract_text(
        bytes(payload),
        mime=(media or "").split(";", 1)[0].strip().lower() or None,
        content_type=media,
        content_encoding=http.get("Content-Encoding") if http else None,
    )
    if extracted.text_sha256 is None:
        status = "empty" if extracted.error == "no text" else "error"
        return RecordText(payload_sha256, status, None, None)
    return RecordText(payload_sha256, "ok", extracted.text, extracted.text_sha256)
