"""The measurements of `python -m bench`, each repeated, each a row of the table.

Every timing of a command is a child process measured alone (bench/processes.py), interpreter
start-up and imports included, so archivist and the floors pay the same fixed cost. Lookups
and the relabel are library calls timed in this process, as the CLI makes them.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from archive.catalog import Catalog, relabel_catalog
from archive.cutoffs import DEFAULT_CUTOFF, parse_cutoff
from archive.lookup import lookup_payload, lookup_url
from bench.inputs import MB, Input, build_input
from bench.processes import ChildRun, run_child
from bench.report import Row, Target
from bench.synthetic_catalog import ensure_catalog

# archivist ingest exits 1 when a file had problems; the suite still times it (and says so).
INGEST_OK = (0, 1)


@dataclass(frozen=True)
class Settings:
    """Sizes and repeats of one run of the suite."""

    workdir: Path
    warcs: Path
    size_mb: float = 256
    big_mb: float = 1024  # 0: skip the big-input memory point
    pair_mb: float = 128
    records: int = 10_000_000
    queries: int = 2000
    repeat: int = 3
    # Each relabel rewrites every row (about 100 s for 10M on 2 busy cores): once by default.
    relabel_repeat: int = 1


@dataclass(frozen=True)
class Inputs:
    main: Input
    pair: tuple[Input, Input]
    big: Input | None


def _tool(name: str) -> str:
    """A console script of this environment (beside the interpreter), else from PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: run `make bench` (pip install -e '.[bench]')")
    return found


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Suite:
    """One run: builds the inputs, measures, and returns the table's rows."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.runs = settings.workdir / "runs"
        self.archivist = _tool("archivist")
        # Facts about the inputs, for the docs; the catalog the text stage starts from.
        self.facts: dict[str, str] = {}
        self.ingested = self.runs / "ingest.db"
        self.ingest_rss = 0.0

    def inputs(self) -> Inputs:
        s = self.s
        _log("building inputs (cached in the work dir)")
        main = build_input(s.workdir, "main", s.size_mb, s.warcs)
        pair = (
            build_input(s.workdir, "pair", s.pair_mb, s.warcs, variant=0),
            build_input(s.workdir, "pair", s.pair_mb, s.warcs, variant=1),
        )
        big = build_input(s.workdir, "big", s.big_mb, s.warcs) if s.big_mb > 0 else None
        return Inputs(main, pair, big)

    def _new_db(self, name: str) -> Path:
        self.runs.mkdir(parents=True, exist_ok=True)
        db = self.runs / f"{name}.db"
        for leftover in self.runs.glob(f"{name}.db*"):
            leftover.unlink()
        return db

    def _ingest(self, db: Path, files: Sequence[Path], jobs: int = 1) -> ChildRun:
        args = [self.archivist, "--db", str(db), "ingest", "--no-text", "--no-progress"]
        if jobs > 1:
            args += ["--jobs", str(jobs)]
        return run_child([*args, *map(str, files)], ok=INGEST_OK)

    def _repeat(self, what: str, measure: Callable[[int], ChildRun]) -> list[ChildRun]:
        results = []
        for i in range(self.s.repeat):
            result = measure(i)
            _log(f"  {what} #{i + 1}: {result.seconds:.2f} s, {result.peak_rss_mb:.0f} MB RSS")
            results.append(result)
        return results

    def run(self) -> list[Row]:
        inputs = self.inputs()
        rows: list[Row] = []
        rows += self.ingest_and_floors(inputs.main)
        rows.append(self.parallel(inputs.pair))
        rows += self.memory(inputs.main, inputs.big)
        rows.append(self.text_stage())
        rows += self.lookups_and_relabel()
        # The catalogs of the timed runs are not reused; the inputs and the big catalog are.
        shutil.rmtree(self.runs, ignore_errors=True)
        return rows

    # -- byte-level ingest and the floors -------------------------------------------------------

    def ingest_and_floors(self, main: Input) -> list[Row]:
        size, path = main.size, main.path
        self.facts["main"] = f"{path.name} ({size / MB:.0f} MB, {main.describe()})"
        _log(f"ingest of {path.name} ({size / MB:.0f} MB)")
        ingests = self._repeat(
            "archivist ingest", lambda i: self._ingest(self._new_db("ingest"), [path])
        )
        # The last run's catalog (self.ingested) is kept for the text stage.
        records = _count(self.ingested, "SELECT count(*) FROM records")
        problems = _count(self.ingested, "SELECT count(*) FROM ingest_errors")
        self.facts["records"] = f"{records:,}"
        if problems:
            self.facts["problems"] = f"{problems} problems reported by ingest"
        self.ingest_rss = max(r.peak_rss_mb for r in ingests)
        seconds = _median([r.seconds for r in ingests])
        ingest_mbs = size / MB / seconds
        rows = [
            Row("archivist ingest --no-text: file MB/s", ingest_mbs, "MB/s"),
            Row("archivist ingest --no-text: records/s", records / seconds, "rec/s"),
        ]
        floors: list[tuple[str, list[str], Target | None]] = [
            (
                "FastWARC + SHA-256",
                [sys.executable, "-m", "bench.floors", "fastwarc", str(path)],
                Target(0.75, True, on_ratio=True),
            ),
            (
                "warcio + SHA-256",
                [sys.executable, "-m", "bench.floors", "warcio", str(path)],
                None,
            ),
            (
                "cdxj-indexer",
                [_tool("cdxj-indexer"), "-o", "/dev/null", str(path)],
                Target(3, True, on_ratio=True),
            ),
        ]
        for name, args, target in floors:
            _log(f"floor: {name}")
            runs = self._repeat(name, lambda i, a=args: run_child(a))
            floor_mbs = size / MB / _median([r.seconds for r in runs])
            rss = max(r.peak_rss_mb for r in runs)
            rows.append(
                Row(
                    f"ingest vs {name}",
                    ingest_mbs,
                    "MB/s",
                    target,
                    floor=f"{name} {floor_mbs:.1f} MB/s ({rss:.0f} MB RSS)",
                    ratio=ingest_mbs / floor_mbs,
                )
            )
        return rows

    # -- parallel ingest ----------------------------------------------------------------------

    def parallel(self, pair: tuple[Input, Input]) -> Row:
        files = [p.path for p in pair]
        total = sum(p.size for p in pair) / MB
        self.facts["pair"] = f"2 files of {pair[0].size / MB:.0f} MB"
        _log(f"ingest of 2 files ({total:.0f} MB): --jobs 1, then --jobs 2")
        serial = self._repeat("--jobs 1", lambda i: self._ingest(self._new_db("jobs1"), files))
        parallel = self._repeat(
            "--jobs 2", lambda i: self._ingest(self._new_db("jobs2"), files, jobs=2)
        )
        one, two = _median([r.seconds for r in serial]), _median([r.seconds for r in parallel])
        return Row(
            "ingest --jobs 2 vs --jobs 1, 2 files: MB/s",
            total / two,
            "MB/s",
            Target(1.7, True, on_ratio=True),
            floor=f"--jobs 1 {total / one:.1f} MB/s",
            ratio=one / two,
        )

    # -- memory ---------------------------------------------------------------------------------

    def memory(self, main: Input, big: Input | None) -> list[Row]:
        limit = Target(150, False)
        small = Row(
            f"ingest peak RSS, {_size(main.size)} input",
            self.ingest_rss,
            "MB",
            limit,
            ratio=self.ingest_rss / limit.threshold,
        )
        if big is None:
            return [small, Row("ingest peak RSS, big input", None, "MB", limit, note="skipped")]
        _log(f"ingest of {big.path.name} ({big.size / MB:.0f} MB), once, for its peak RSS")
        result = self._ingest(self._new_db("big"), [big.path])
        _log(f"  {result.seconds:.1f} s, {result.peak_rss_mb:.0f} MB RSS")
        self.facts["big"] = f"{big.size / MB:.0f} MB in {result.seconds:.0f} s"
        return [
            small,
            Row(
                f"ingest peak RSS, {_size(big.size)} input",
                result.peak_rss_mb,
                "MB",
                limit,
                floor=f"{self.ingest_rss:.0f} MB at {_size(main.size)} (flat: ratio ≈ 1)",
                ratio=result.peak_rss_mb / self.ingest_rss,
            ),
        ]

    # -- text stage -----------------------------------------------------------------------------

    def text_stage(self) -> Row:
        _log("text stage: archivist text on a copy of the ingested catalog")
        html: list[int] = []

        def once(i: int) -> ChildRun:
            db = self._new_db("text")
            with (
                closing(sqlite3.connect(self.ingested)) as source,
                closing(sqlite3.connect(db)) as copy,
            ):
                source.backup(copy)
            result = run_child([self.archivist, "--db", str(db), "text"])
            html.append(
                _count(
                    db,
                    "SELECT count(*) FROM records WHERE mime = 'text/html' "
                    "AND text_status IS NOT NULL AND text_status != 'skipped'",
                )
            )
            return result

        runs = self._repeat("archivist text", once)
        seconds = _median([r.seconds for r in runs])
        self.facts["html"] = f"{html[-1]:,}"
        return Row(
            "text stage (archivist text, 1 process): HTML docs/s per core",
            html[-1] / seconds,
            "docs/s",
            Target(500, True),
            ratio=html[-1] / seconds / 500,
        )

    # -- lookups and relabel on a large catalog -------------------------------------------------

    def lookups_and_relabel(self) -> list[Row]:
        s = self.s
        path, generated = ensure_catalog(s.workdir, s.records)
        if generated:
            self.facts["generated"] = f"{s.records:,} records generated in {generated:.0f} s"
        scale = _scale(s.records)
        catalog = Catalog.open(str(path))
        try:
            urls, hashes = _query_sample(path, s.queries)
            rows = []
            for name, call, sample in (
                ("URL", lambda q: lookup_url(catalog, q), urls),
                ("payload SHA-256", lambda q: lookup_payload(catalog, q), hashes),
            ):
                _log(f"lookup by {name}: {len(sample)} queries on {scale} records")
                p50, p99, found = _latencies(call, sample)
                self.facts[f"found {name}"] = f"{found:.1f} captures per lookup by {name}"
                rows.append(Row(f"lookup by {name} on {scale}: p50", p50, "ms"))
                target = Target(5, False)
                rows.append(
                    Row(
                        f"lookup by {name} on {scale}: p99",
                        p99,
                        "ms",
                        target,
                        ratio=p99 / target.threshold,
                    )
                )
            cutoff = parse_cutoff(DEFAULT_CUTOFF)
            times = []
            for i in range(self.s.relabel_repeat):
                start = time.perf_counter()
                result = relabel_catalog(catalog, cutoff)
                times.append(time.perf_counter() - start)
                _log(f"  relabel #{i + 1}: {times[-1]:.1f} s ({result.captures:,} captures)")
        finally:
            catalog.close()
        target = Target(60, False)
        rows.append(
            Row(
                f"relabel of the whole {scale}-record catalog ({_runs(len(times))})",
                _median(times),
                "s",
                target,
                ratio=_median(times) / target.threshold,
            )
        )
        return rows


def _count(db: Path, sql: str) -> int:
    with closing(sqlite3.connect(db)) as connection:
        return int(connection.execute(sql).fetchone()[0])


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"median of {count} runs"


def _size(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 100 * MB else f"{size / MB:.0f} MB"


def _scale(records: int) -> str:
    if records >= 1_000_000:
        return f"{records / 1_000_000:g}M"
    if records >= 1000:
        return f"{records / 1000:g}k"
    return str(records)


def _query_sample(path: Path, count: int) -> tuple[list[str], list[str]]:
    """Random captured URLs and payload hashes of the catalog (responses picked by random id)."""
    rng = random.Random(11)
    with closing(sqlite3.connect(path)) as db:
        (top,) = db.execute("SELECT max(id) FROM records").fetchone()
        urls: list[str] = []
        hashes: list[str] = []
        for _ in range(100):
            if len(urls) >= count:
                break
            ids = [rng.randint(1, top) for _ in range(count * 3)]
            marks = ",".join("?" * len(ids))
            for url, sha in db.execute(
                f"SELECT target_uri, payload_sha256 FROM records WHERE id IN ({marks}) "
                "AND record_type = 'response'",
                ids,
            ):
                urls.append(url)
                hashes.append(sha)
    if not urls:
        raise SystemExit(f"{path} holds no responses to look up")
    rng.shuffle(urls)
    rng.shuffle(hashes)
    return urls[:count], hashes[:count]


def _latencies(
    call: Callable[[str], list[object]], queries: list[str]
) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, captures found per query) over ``queries``, after a short warm-up."""
    for query in queries[:20]:
        call(query)
    times = []
    found = 0
    for query in queries:
        start = time.perf_counter()
        found += len(call(query))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return _percentile(times, 50), _percentile(times, 99), found / len(queries)


def _percentile(ordered: list[float], pct: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
