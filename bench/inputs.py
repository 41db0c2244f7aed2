"""The suite's input WARCs: real per-record gzip WARCs repeated to a size, cached in a work dir.

Per-record gzip WARCs (one gzip member per record, WARC 1.1 Annex D) concatenate into a valid
WARC, so a few real files from ../shared/data/warcs repeated end to end make an input of any
size whose records are real: real pages, real HTTP headers, real digests. Repeated payloads
are realistic too (every crawl refetches unchanged pages). Without the shared files the suite
falls back to generated article pages (bench/export_throughput.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.export_throughput import write_warc as write_generated_pages
from bench.processes import REPO

SHARED_WARCS = REPO.parent / "shared" / "data" / "warcs"
# Real per-record gzip WARCs. Not clipped.warc.gz: it is damaged on purpose (a record cut short).
REAL_SAMPLES = (
    "allenai-dolma/tests/data/warc/sample-0000.warc.gz",
    "chatnoir-eu-chatnoir-resiliparse/tests/data/warcfile.warc.gz",
)
MB = 1_000_000


@dataclass(frozen=True)
class Input:
    """One input file and where its records come from."""

    path: Path
    source: str  # "real" (repeated shared samples) or "generated"

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def describe(self) -> str:
        """Where the records come from, in a few words."""
        if self.source == "real":
            names = " and ".join(Path(name).name for name in REAL_SAMPLES)
            return f"{names} of ../shared/data/warcs repeated end to end"
        return "generated article pages (bench/export_throughput.py)"


def real_samples(warcs: Path) -> list[Path]:
    """The real sample WARCs under ``warcs``, or [] when any is missing."""
    paths = [warcs / name for name in REAL_SAMPLES]
    return paths if all(p.is_file() for p in paths) else []


def build_input(workdir: Path, name: str, size_mb: float, warcs: Path, variant: int = 0) -> Input:
    """A WARC of at least ``size_mb`` MB in ``workdir``, built once and reused.

    ``variant`` rotates the order of the samples, so that two inputs of the same size have
    different bytes (archivist skips a file whose SHA-256 it has already catalogued).
    """
    samples = real_samples(warcs)
    target = int(size_mb * MB)
    if samples:
        unit = [p.read_bytes() for p in samples]
        unit = unit[variant % len(unit) :] + unit[: variant % len(unit)]
        tag = hashlib.sha256(b"".join(unit)).hexdigest()[:8]
        path = workdir / f"{name}-{size_mb:g}MB-real-{tag}.warc.gz"
        if not path.exists():
            _write_repeated(path, unit, target)
        return Input(path, "real")
    path = workdir / f"{name}-{size_mb:g}MB-generated-{variant}.warc.gz"
    if not path.exists():
        _write_generated(path, target, seed=1 + variant)
    return Input(path, "generated")


def _write_repeated(path: Path, unit: Sequence[bytes], target: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    written = 0
    with partial.open("wb") as out:
        while written < target or written == 0:
            for member in unit:
                out.write(member)
                written += len(member)
    partial.replace(path)


def _write_generated(path: Path, target: int, seed: int) -> None:
    """Generated article pages, about as many as make ``target`` bytes compressed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    probe = path.with_suffix(".probe")
    write_generated_pages(probe, 200, seed=seed)
    per_page = probe.stat().st_size / 200
    probe.unlink()
    partial = path.with_suffix(".part")
    write_generated_pages(partial, max(1, round(target / per_page)), seed=seed)
    partial.replace(path)
