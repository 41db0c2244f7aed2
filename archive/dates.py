"""Where dates become UTC instants: WARC-Date, ARC record dates and HTTP Last-Modified."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Literal

Precision = Literal["year", "month", "day", "minute", "second", "fraction", "invalid"]

# W3C-DTF as WARC 1.0 §5.4 profiles it, with WARC 1.1 §5.4's fraction of any length, plus what
# real crawlers wrote: lower-case t/z, a space for T, a numeric offset, or no zone at all.
# re.ASCII: a bare \d or int() would accept non-ASCII digits ("٢٠١٦"), which no crawler writes.
_W3CDTF = re.compile(
    r"""
    (?P<year>[0-9]{4})
    (?:-(?P<month>[0-9]{2})
      (?:-(?P<day>[0-9]{2})
        (?:[Tt\ ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})
          (?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?)?
          (?P<zone>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?
        )?
      )?
    )?
    """,
    re.VERBOSE | re.ASCII,
)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)

# Compact YYYYMMDDhhmmss[SSS] dates, cut at a field boundary. Ten digits (an hour) is refused:
# no precision level names it, and calling it "day" or "minute" would be wrong.
_COMPACT_PRECISION: dict[int, Precision] = {
    4: "year",
    6: "month",
    8: "day",
    12: "minute",
    14: "second",
    17: "fraction",
}
# In a WARC, four digits are already a W3C-DTF year; six digits are not among the forms tools
# are known to write there, so they stay invalid rather than being read as YYYYMM.
_WARC_COMPACT_LENGTHS = frozenset({8, 12, 14, 17})
_ARC_COMPACT_LENGTHS = frozenset(_COMPACT_PRECISION)


@dataclass(frozen=True)
class ParsedDate:
    """A date as written in a record, and the UTC instant it names (None when unparseable)."""

    raw: str
    instant: datetime | None
    precision: Precision
    error: str | None = None

    @property
    def is_capture_grade(self) -> bool:
        """Whether the date is precise enough (to the second) to stand as a capture time."""
        return self.precision in ("second", "fraction")


def parse_warc_date(raw: str) -> ParsedDate:
    """Parse a WARC-Date or WARC-Refers-To-Date value (W3C-DTF, WARC 1.1 §5.4)."""
    text = raw.strip()
    if not text:
        return _invalid(raw, "empty date")
    match = _W3CDTF.fullmatch(text)
    if match is not None:
        fields = match.groupdict()
        return _build(
            raw,
            year=fields["year"],
            month=fields["month"],
            day=fields["day"],
            hour=fields["hour"],
            minute=fields["minute"],
            second=fields["second"],
            fraction=fields["fraction"],
            zone=fields["zone"],
        )
    if _DIGITS.fullmatch(text) and len(text) in _WARC_COMPACT_LENGTHS:
        # Some tools wrote ARC-style 14-digit dates into WARC-Date; they are UTC all the same.
        return _parse_compact(raw, text)
    return _invalid(raw, "not a W3C-DTF date")


def parse_arc_date(raw: str) -> ParsedDate:
    """Parse an ARC v1 record-line date: YYYYMMDDhhmmss in UTC, or a shorter or 17-digit form."""
    text = raw.strip()
    if not text:
        return _invalid(raw, "empty date")
    if _DIGITS.fullmatch(text) and len(text) in _ARC_COMPACT_LENGTHS:
        return _parse_compact(raw, text)
    return _invalid(raw, "not an ARC date (YYYYMMDDhhmmss)")


def parse_http_date(raw: str) -> datetime | None:
    """Parse an HTTP date (RFC 9110 §5.6.7) to an aware UTC datetime; None when unparseable."""
    text = raw.strip()
    if not text:
        return None
    # email.utils reads all three RFC 9110 forms (IMF-fixdate, RFC 850, asctime). Its fixed
    # two-digit-year pivot (69-99 → 19xx) stands in for RFC 9110's "more than 50 years in the
    # future" rule, which would make the parse depend on the clock of the machine ingesting.
    try:
        parsed = parsedate_to_datetime(text)
        if parsed.tzinfo is None:
            # asctime carries no zone and "-0000" parses naive; HTTP dates are always GMT.
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def format_utc(instant: datetime) -> str:
    """Format ``instant`` as ISO 8601 UTC ending in Z, with a fraction only when it is non-zero."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        utc = instant.replace(tzinfo=UTC)  # naive: taken as UTC, never as local time
    else:
        utc = instant.astimezone(UTC)
    # Not strftime: %Y does not zero-pad years before 1000 on every platform.
    text = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def _parse_compact(raw: str, digits: str) -> ParsedDate:
    """Build a date from YYYYMMDDhhmmss[SSS] cut at a field boundary; the caller checks length."""
    return _build(
        raw,
        year=digits[0:4],
        month=digits[4:6] or None,
        day=digits[6:8] or None,
        hour=digits[8:10] or None,
        minute=digits[10:12] or None,
        second=digits[12:14] or None,
        fraction=digits[14:] or None,
        zone=None,
    )


def _build(
    raw: str,
    *,
    year: str,
    month: str | None,
    day: str | None,
    hour: str | None,
    minute: str | None,
    second: str | None,
    fraction: str | None,
    zone: str | None,
) -> ParsedDate:
    """Turn matched fields into a ParsedDate, refusing out-of-range values instead of guessing."""
    precision: Precision
    if fraction is not None:
        precision = "fraction"
    elif second is not None:
        precision = "second"
    elif minute is not None:
        precision = "minute"
    elif day is not None:
        precision = "day"
    elif month is not None:
        precision = "month"
    else:
        precision = "year"
    # datetime holds microseconds: further digits are truncated, never rounded, so an instant
    # never moves past the one written (…59.9999999 must not become the next second).
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    offset = _utc_offset(zone)
    if offset is None:
        return _invalid(raw, f"UTC offset out of range: {zone}")
    try:
        instant = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            microsecond,
            tzinfo=timezone(offset),
        ).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        return _invalid(raw, f"out of range: {exc}")
    return ParsedDate(raw, instant, precision)


def _utc_offset(zone: str | None) -> timedelta | None:
    """The offset a zone designator names; no designator means UTC (WARC 1.1 §5.4 requires it)."""
    if zone is None or zone in ("Z", "z"):
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    # RFC 3339 §5.6 bounds time-numoffset to 23:59; anything beyond is not an offset.
    if hours > 23 or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if zone[0] == "-" else offset


def _invalid(raw: str, reason: str) -> ParsedDate:
    return ParsedDate(raw, None, "invalid", reason)
