"""`python -m bench` (or `make bench`): archivist against reference floors and targets, one table.

    python -m bench [--quick] [--no-write] [--repeat N] [--size-mb MB] [--big-mb MB]
                    [--pair-mb MB] [--records N] [--queries N] [--relabel-repeat N]
                    [--workdir DIR] [--warcs DIR] [--doc FILE]

Inputs are built once and cached in the work dir (default bench/.work/): a WARC of real
records repeated to --size-mb (and --big-mb, and two of --pair-mb), and a generated catalog of
--records records for the lookups and the relabel. The table is printed and, unless
--no-write, written with the machine's description between the bench markers of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from bench.inputs import SHARED_WARCS
from bench.processes import REPO
from bench.report import Row, machine_description, markdown_table, text_table, write_section
from bench.suite import Settings, Suite

DOC = REPO / "docs" / "benchmarks.md"
WORKDIR = REPO / "bench" / ".work"
FULL = {"size_mb": 256, "big_mb": 1024, "pair_mb": 128, "records": 10_000_000, "queries": 2000}
QUICK = {"size_mb": 32, "big_mb": 64, "pair_mb": 16, "records": 200_000, "queries": 300}

EXPLAINED = """\
What each row includes (MB = 10^6 bytes of the input file as stored, compressed; RSS in MiB).
The real input repeats two small crawls, so each of its payloads recurs hundreds of times: far
more than in a crawl, which makes the same-payload labelling of ingest work harder than usual.

- **archivist ingest --no-text**: `archivist --db NEW.db ingest --no-text --no-progress FILE`,
  a child process on a new SQLite catalog, timed from fork to exit: the byte-level pass
  (reading, hashing the file, SHA-256 of every payload, verifying both declared digests,
  cataloguing, labelling). Median of the repeats; process start-up (interpreter, imports,
  migrations of the new catalog) included.
- **floors**, each a child process on the same file, start-up included like archivist's:
  FastWARC iterating with `parse_http=True` and hashing every record's payload with SHA-256 in
  64 KiB chunks (`python -m bench.floors fastwarc`); warcio hashing every record's
  `content_stream()` (`python -m bench.floors warcio`); `cdxj-indexer -o /dev/null FILE`.
  The ratio is archivist's MB/s divided by the floor's.
- **--jobs 2**: the same two files (different bytes) ingested by one process (`--jobs 1`) and
  by two (`--jobs 2`), each on a new catalog; the ratio is the speed-up.
- **peak RSS**: the ingest process's own maximum resident set (ru_maxrss from os.wait4, read
  by a small launcher so that the suite's own size cannot leak into it; see
  bench/processes.py), the largest of the repeats for the main input, one run for the big
  input; flat memory is a ratio near 1. Worker processes of `--jobs` are not in it.
- **text stage**: `archivist --db COPY text` (one process, so one core) on a copy of the
  ingested catalog: main-text extraction and hashing of every HTML and plain-text capture,
  and the labels that change; HTML documents divided by the whole run's time, start-up included.
- **lookups**: in-process `archive.lookup.lookup_url` and `lookup_payload` (what
  `archivist lookup URL` and `--sha256` call, captures with their evidence, at most 100 each)
  on a generated catalog (bench/synthetic_catalog.py), random URLs and payload hashes of
  captured responses, after a warm-up of 20 queries (the catalog is not forced into memory).
- **relabel**: in-process `archive.catalog.relabel_catalog` for the default cutoff (what
  `archivist relabel` calls) over the whole generated catalog, commit included; one run
  unless `--relabel-repeat`.
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    parser.add_argument("--repeat", type=int, help="runs of each measurement (default 3)")
    parser.add_argument("--size-mb", type=float, help="main input size (default 256)")
    parser.add_argument("--big-mb", type=float, help="big input for memory; 0 skips (1024)")
    parser.add_argument("--pair-mb", type=float, help="each of the --jobs files (128)")
    parser.add_argument("--records", type=int, help="records of the lookup catalog (10M)")
    parser.add_argument("--queries", type=int, help="lookups timed per kind (2000)")
    parser.add_argument("--relabel-repeat", type=int, default=1, help="relabels timed (1)")
    parser.add_argument("--workdir", type=Path, default=WORKDIR, help="cache of inputs")
    parser.add_argument("--warcs", type=Path, default=SHARED_WARCS, help="real sample WARCs")
    parser.add_argument("--doc", type=Path, default=DOC, help="where the table is written")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    sizes = QUICK if args.quick else FULL
    chosen = {k: v if getattr(args, k) is None else getattr(args, k) for k, v in sizes.items()}
    repeat = args.repeat if args.repeat is not None else 1 if args.quick else 3
    return Settings(
        workdir=args.workdir,
        warcs=args.warcs,
        repeat=max(1, repeat),
        relabel_repeat=max(1, args.relabel_repeat),
        **chosen,
    )


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def section(
    rows: list[Row], suite: Suite, machine: dict[str, str], command: str, minutes: float
) -> str:
    """The docs section: command, machine, table, inputs, and what each row includes."""
    facts = suite.facts
    inputs = [
        f"main input {facts.get('main', '?')}: {facts.get('records', '?')} records, "
        f"{facts.get('html', '?')} HTML captures",
        f"--jobs input {facts.get('pair', '?')}",
    ]
    if "big" in facts:
        inputs.append(f"big input {facts['big']}")
    lookups = [facts[k] for k in ("found URL", "found payload SHA-256") if k in facts]
    if lookups:
        inputs.append(f"lookup catalog of {suite.s.records:,} records, " + " and ".join(lookups))
    if "generated" in facts:
        inputs.append(facts["generated"] + " (first run only; cached)")
    if "problems" in facts:
        inputs.append(facts["problems"])
    return "\n".join(
        [
            "## Benchmark suite (`make bench`)",
            "",
            "Written by `python -m bench` (bench/__main__.py); rerunning it replaces this section.",
            "",
            "```sh",
            command,
            "```",
            "",
            f"Machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}; "
            f"run {machine['date']} (load average at the start {machine['load']}), "
            f"archivist {machine['commit']}; each figure the median of {_runs(suite.s.repeat)} "
            f"(the big input's RSS and the relabel: {_runs(suite.s.relabel_repeat)}), "
            f"{minutes:.1f} minutes in all.",
            "",
            markdown_table(rows),
            "",
            "Inputs: " + "; ".join(inputs) + ".",
            "",
            EXPLAINED,
        ]
    )


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    settings = settings_from(args)
    machine = machine_description()  # before the run: its load average is the other work's
    start = time.perf_counter()
    suite = Suite(settings)
    rows = suite.run()
    minutes = (time.perf_counter() - start) / 60
    print(text_table(rows))
    print(f"\n{minutes:.1f} minutes; load average at the start {machine['load']}")
    if not args.no_write:
        command = shlex.join(["python", "-m", "bench", *argv])
        write_section(args.doc, section(rows, suite, machine, command, minutes))
        print(f"written to {args.doc}")


if __name__ == "__main__":
    main(sys.argv[1:])
