"""The suite's one table: rows with their floor or target, the verdict, and the docs section."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.processes import REPO

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
HEADERS = ("measurement", "value", "floor / target", "ratio", "met?")


@dataclass(frozen=True)
class Target:
    """A goal: ``value`` (or the ratio, when ``on_ratio``) at least / below ``threshold``."""

    threshold: float
    higher_is_better: bool
    on_ratio: bool = False

    def text(self, unit: str) -> str:
        sign = "≥" if self.higher_is_better else "<"
        return (
            f"{sign} {self.threshold:g}×" if self.on_ratio else f"{sign} {self.threshold:g} {unit}"
        )


@dataclass(frozen=True)
class Row:
    """One measurement. ``floor`` is the reference it is compared with, as text, if any."""

    measurement: str
    value: float | None  # None: not measured in this run (say why in ``note``)
    unit: str
    target: Target | None = None
    floor: str = ""
    ratio: float | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None without a target or a value)."""
        measured = self.ratio if self.target and self.target.on_ratio else self.value
        if self.target is None or measured is None:
            return None
        if self.target.higher_is_better:
            return measured >= self.target.threshold
        return measured < self.target.threshold

    def verdict(self) -> str:
        """``met``, ``missed by N×``, ``—`` without a target, or the note when not measured."""
        if self.value is None:
            return self.note or "not measured"
        met = self.met
        if met is None:
            return "—"
        if met:
            return "met"
        assert self.target is not None
        measured = self.ratio if self.target.on_ratio else self.value
        assert measured is not None
        if self.target.higher_is_better:
            factor = self.target.threshold / measured if measured > 0 else float("inf")
        else:
            factor = measured / self.target.threshold
        return f"missed by {factor:.2f}×"

    def cells(self) -> tuple[str, ...]:
        value = "—" if self.value is None else f"{_number(self.value)} {self.unit}".strip()
        wanted = [self.floor] if self.floor else []
        if self.target is not None:
            wanted.append("target " + self.target.text(self.unit))
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}×"
        return (self.measurement, value, "; ".join(wanted) or "—", ratio, self.verdict())


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown_table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|---|---:|---|---:|---|",
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def text_table(rows: list[Row]) -> str:
    """The rows as an aligned plain-text table, for the terminal."""
    cells = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells)


def machine_description() -> dict[str, str]:
    """CPU model, cores, Python, date, load and archivist's commit: what a reader needs."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": load,
        "commit": commit,
    }


def write_section(doc: Path, section: str) -> None:
    """Put ``section`` between the bench markers of ``doc``, adding them above its first ``##``."""
    text = doc.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{section.strip()}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        at = text.find("\n## ")
        at = len(text) if at < 0 else at + 1
        text = text[:at] + block + "\n\n" + text[at:]
    doc.write_text(text, encoding="utf-8")
