"""Provenance verdicts: was this URL, payload or text on the web before the cutoff, and why?

A verdict sums up every capture of what was asked: the answer, the strongest evidence (the
evidence ladder's order, then the earliest evidence), the earliest capture, and the record to
re-check by hand. It reads the labels the catalog holds for its cutoff; it never relabels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from archive.catalog import (
    CaptureKey,
    Catalog,
    catalog_cutoff,
    evidence_summary,
    first_seen,
)
from archive.cutoffs import Cutoff
from archive.dates import format_utc
from archive.errors import ArchiveError
from archive.lookup import (
    Capture,
    digest_status,
    path_sha256,
    payload_sha256,
    surt_prefixes,
    text_sha256,
    with_evidence,
)

Answer = Literal["yes", "no", "unverified", "unknown"]
QueryKind = Literal["url", "sha256", "file", "text"]


class CutoffMismatch(ArchiveError):
    """The catalog's labels are for another cutoff than the one asked about."""


@dataclass(frozen=True)
class Verdict:
    """The answer for one URL, payload or text, with the evidence behind it."""

    query: QueryKind
    # What was asked: the URL, the SHA-256, the file's path, or the text's SHA-256.
    value: str
    # The catalog key it was looked up by: a SURT key, a payload or a text SHA-256.
    key: str
    cutoff: Cutoff
    by_label: dict[str, int]
    # The capture whose label rests on the strongest evidence; None when no capture has any.
    strongest: Capture | None
    earliest: Capture | None
    # Payload queries: the earliest verified capture of those bytes.
    first_seen: Capture | None = None

    @property
    def captures(self) -> int:
        """How many captures the catalog holds of what was asked."""
        return sum(self.by_label.values())

    @property
    def answer(self) -> Answer:
        """``yes`` (some capture is `pre`), ``no`` (some is `post`, none `pre`),
        ``unverified`` (every capture is unverified) or ``unknown`` (none at all)."""
        if self.by_label.get("pre"):
            return "yes"
        if self.by_label.get("post"):
            return "no"
        return "unverified" if self.captures else "unknown"

    @property
    def summary(self) -> str:
        """The answer as one line a person reads first."""
        return {
            "yes": f"yes: on the web before {self.cutoff}",
            "no": f"no: no evidence it was on the web before {self.cutoff}",
            "unverified": (
                f"unverified: only unverified captures, no evidence either way for {self.cutoff}"
            ),
            "unknown": "unknown: not in the catalog",
        }[self.answer]

    def recheck(self) -> dict[str, Any] | None:
        """The record to re-check by hand (the evidence record, else the earliest capture),
        its payload SHA-256, and the commands that show it and read its bytes back."""
        capture = self.strongest.evidence if self.strongest is not None else None
        if capture is None and self.earliest is not None:
            capture = self.earliest.row
        if capture is None:
            return None
        ident = capture.record.id
        commands = [f"archivist show {ident}"]
        if capture.record.payload_sha256 is not None:
            commands.insert(0, f"archivist cat {ident}")
        return {"id": ident, "payload_sha256": capture.record.payload_sha256, "commands": commands}

    def evidence_dict(self) -> dict[str, Any] | None:
        """The strongest evidence: its kind, the record it rests on, and the capture it labels."""
        if self.strongest is None:
            return None
        basis = self.strongest.evidence
        record = basis.record if basis is not None else None
        data: dict[str, Any] = {
            "kind": self.strongest.evidence_kind,
            "id": record.id if record else None,
            "url": record.target_uri if record else None,
            "capture_time": _iso(record.capture_time if record else None),
            "warc_file": basis.file_location if basis else None,
            "offset": record.offset if record else None,
            "digest_status": (
                digest_status(record.block_digest_status, record.payload_digest_status)
                if record
                else None
            ),
            "payload_sha256": record.payload_sha256 if record else None,
        }
        if self.strongest.evidence_kind == "claimed":
            claimed = self.strongest.row.record
            data["claimed_date"] = _iso(claimed.last_modified)
            data["claimed_by"] = "Last-Modified"
        data["capture"] = self.strongest.to_dict()
        return data

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (one object)."""
        data: dict[str, Any] = {
            "query": {"kind": self.query, "value": self.value, "key": self.key},
            "cutoff": self.cutoff.to_dict(),
            "answer": self.answer,
            "summary": self.summary,
            "captures": self.captures,
            "by_label": self.by_label,
            "evidence": self.evidence_dict(),
            "earliest": self.earliest.to_dict() if self.earliest is not None else None,
        }
        if self.query in ("sha256", "file"):
            data["first_seen"] = self.first_seen.to_dict() if self.first_seen else None
        data["recheck"] = self.recheck()
        return data


def provenance_of_url(catalog: Catalog, url: str, *, cutoff: Cutoff | None = None) -> Verdict:
    """The verdict on every capture of exactly ``url`` (its SURT key: any scheme, ``www.``)."""
    (key,) = surt_prefixes(url, "exact")
    return _verdict(catalog, "url", url.strip(), "surt", key, cutoff)


def provenance_of_payload(
    catalog: Catalog, sha256: str, *, cutoff: Cutoff | None = None
) -> Verdict:
    """The verdict on every capture of the payload with this SHA-256."""
    digest = payload_sha256(sha256)
    return _verdict(catalog, "sha256", digest, "payload", digest, cutoff)


def provenance_of_file(catalog: Catalog, path: Path, *, cutoff: Cutoff | None = None) -> Verdict:
    """The verdict on every capture whose payload is exactly the bytes of ``path``."""
    digest = path_sha256(path)
    return _verdict(catalog, "file", str(path), "payload", digest, cutoff)


def provenance_of_text(catalog: Catalog, text: str, *, cutoff: Cutoff | None = None) -> Verdict:
    """The verdict on every capture whose normalised main text is ``text`` normalised."""
    digest = text_sha256(text)
    return _verdict(catalog, "text", digest, "text", digest, cutoff)


def _verdict(
    catalog: Catalog,
    query: QueryKind,
    value: str,
    key_kind: CaptureKey,
    key: str,
    cutoff: Cutoff | None,
) -> Verdict:
    labelled_for = catalog_cutoff(catalog)
    if cutoff is not None and cutoff.instant != labelled_for.instant:
        raise CutoffMismatch(
            f"the catalog is labelled for {labelled_for}, not {cutoff}: "
            f"run `archivist relabel --cutoff {cutoff.name}` first"
        )
    facts = evidence_summary(catalog, key_kind, key)
    first = first_seen(catalog, key) if key_kind == "payload" and facts.by_label else None
    strongest = facts.strongest
    if strongest is not None and (strongest.record.evidence_kind or "none") == "none":
        strongest = None
    rows = [strongest, facts.earliest, first]
    captures = with_evidence(catalog, [r for r in rows if r is not None])
    found = iter(captures)
    resolved = [next(found) if r is not None else None for r in rows]
    return Verdict(
        query=query,
        value=value,
        key=key,
        cutoff=labelled_for,
        by_label=facts.by_label,
        strongest=resolved[0],
        earliest=resolved[1],
        first_seen=resolved[2],
    )


def _iso(value: datetime | None) -> str | None:
    return format_utc(value) if value is not None else None
