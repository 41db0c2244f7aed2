"""Cutoffs: the UTC instant that separates human-era captures from the rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from archive.dates import format_utc, parse_warc_date
from archive.errors import ArchiveError

# Public releases that changed how much text on the web was machine-written. "chatgpt" is the
# usual line and the default; the others suit stricter corpora.
PRESETS: dict[str, datetime] = {
    "chatgpt": datetime(2022, 11, 30, tzinfo=UTC),
    "gpt3": datetime(2020, 6, 11, tzinfo=UTC),
    "gpt2": datetime(2019, 2, 14, tzinfo=UTC),
}
DEFAULT_CUTOFF = "chatgpt"


@dataclass(frozen=True)
class Cutoff:
    """A named or literal cutoff. A capture is before it only if strictly earlier."""

    name: str
    instant: datetime

    def __str__(self) -> str:
        stamp = format_utc(self.instant)
        return stamp if self.name == stamp else f"{self.name} ({stamp})"

    def to_dict(self) -> dict[str, str]:
        """The JSON form: the name and the instant as ISO 8601 UTC."""
        return {"name": self.name, "instant": format_utc(self.instant)}

    def is_before(self, when: datetime) -> bool:
        """Whether ``when`` is strictly before the cutoff (the cutoff instant itself is not)."""
        return when < self.instant


def parse_cutoff(text: str) -> Cutoff:
    """A preset name (``chatgpt``, ``gpt3``, ``gpt2``) or an ISO 8601 date or instant (UTC)."""
    key = text.strip().lower()
    if key in PRESETS:
        return Cutoff(key, PRESETS[key])
    parsed = parse_warc_date(text.strip())
    if parsed.instant is None or parsed.precision in ("year", "month"):
        names = ", ".join(PRESETS)
        raise ArchiveError(
            f"not a cutoff: {text!r} (use {names}, a date like 2022-11-30, or an ISO instant)"
        )
    return Cutoff(format_utc(parsed.instant), parsed.instant)
