"""The benchmark suite (`python -m bench`) runs end to end at a tiny size. No timing asserted."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is the repository's, not an installed package
    sys.path.insert(0, str(REPO))

from bench.floors import fastwarc_sha256, warcio_sha256  # noqa: E402
from bench.inputs import SHARED_WARCS, build_input  # noqa: E402
from bench.report import BEGIN, END, markdown_table, write_section  # noqa: E402
from bench.suite import Settings, Suite  # noqa: E402

ROWS = (
    "archivist ingest --no-text: file MB/s",
    "archivist ingest --no-text: records/s",
    "ingest vs FastWARC + SHA-256",
    "ingest vs warcio + SHA-256",
    "ingest vs cdxj-indexer",
    "ingest --jobs 2 vs --jobs 1",
    "ingest peak RSS, ",  # the main input
    "ingest peak RSS, ",  # the big input
    "text stage",
    "lookup by URL on 3k: p50",
    "lookup by URL on 3k: p99",
    "lookup by payload SHA-256 on 3k: p50",
    "lookup by payload SHA-256 on 3k: p99",
    "relabel of the whole 3k-record catalog (1 run)",
)


def test_suite_gives_every_row_with_positive_numbers(tmp_path: Path) -> None:
    settings = Settings(
        workdir=tmp_path / "work",
        warcs=SHARED_WARCS,
        size_mb=1,
        big_mb=2,
        pair_mb=0.5,
        records=3000,
        queries=20,
        repeat=1,
    )
    rows = Suite(settings).run()

    assert len(rows) == len(ROWS)
    for row, name in zip(rows, ROWS, strict=True):
        assert row.measurement.startswith(name)
        assert row.value is not None and row.value > 0, row
        assert row.ratio is None or row.ratio > 0, row
        assert row.verdict()
    assert [r.target is not None for r in rows].count(True) == 9
    table = markdown_table(rows)
    assert table.count("\n") == len(ROWS) + 1


def test_generated_input_when_shared_warcs_are_absent(tmp_path: Path) -> None:
    made = build_input(tmp_path, "main", 0.2, tmp_path / "no-such-dir")

    assert made.source == "generated"
    assert made.size > 100_000
    assert fastwarc_sha256(made.path) == warcio_sha256(made.path) > 0
    assert build_input(tmp_path, "main", 0.2, tmp_path / "no-such-dir").path == made.path


def test_docs_section_is_added_once_then_replaced(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n\n## Older section\n\ntext\n")

    write_section(doc, "## Suite\n\nfirst")
    write_section(doc, "## Suite\n\nsecond")

    text = doc.read_text()
    assert text.count(BEGIN) == text.count(END) == 1
    assert "first" not in text and "second" in text
    assert text.index("Intro.") < text.index(BEGIN) < text.index("## Older section")
