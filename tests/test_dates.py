"""Tests for archive.dates: WARC, ARC and HTTP dates become UTC instants, or say why not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.dates import (
    ParsedDate,
    Precision,
    format_utc,
    parse_arc_date,
    parse_http_date,
    parse_warc_date,
)

PRECISIONS = {"year", "month", "day", "minute", "second", "fraction", "invalid"}


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# Years 2..9998 so that any offset can be applied without leaving datetime's range.
NAIVE = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59))
FIXED_OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
AWARE = st.datetimes(
    min_value=datetime(2, 1, 1),
    max_value=datetime(9998, 12, 31, 23, 59, 59),
    timezones=st.one_of(st.timezones(), FIXED_OFFSETS, st.just(UTC)),
)


def _offset_text(offset: timedelta, colon: bool) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


def _compact(dt: datetime) -> str:
    return f"{dt.year:04d}{dt.month:02d}{dt.day:02d}{dt.hour:02d}{dt.minute:02d}{dt.second:02d}"


# --- parse_warc_date: the forms of W3C-DTF (WARC 1.1 §5.4) ---------------------------------


@pytest.mark.parametrize(
    ("raw", "instant", "precision"),
    [
        ("2016", utc(2016, 1, 1), "year"),
        ("2016-01", utc(2016, 1, 1), "month"),
        ("2016-07", utc(2016, 7, 1), "month"),
        ("2016-01-02", utc(2016, 1, 2), "day"),
        ("2016-01-02T03:04Z", utc(2016, 1, 2, 3, 4), "minute"),
        ("2020-06-27T13:51:26Z", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("2020-06-27T13:51:26.5Z", utc(2020, 6, 27, 13, 51, 26, 500000), "fraction"),
        ("2020-06-27T13:51:26.123Z", utc(2020, 6, 27, 13, 51, 26, 123000), "fraction"),
        ("2020-06-27T13:51:26.123456Z", utc(2020, 6, 27, 13, 51, 26, 123456), "fraction"),
        ("2020-06-27T13:51:26.123456789Z", utc(2020, 6, 27, 13, 51, 26, 123456), "fraction"),
        ("2020-06-27T13:51:26.0Z", utc(2020, 6, 27, 13, 51, 26), "fraction"),
    ],
)
def test_warc_date_w3cdtf_forms(raw: str, instant: datetime, precision: Precision) -> None:
    parsed = parse_warc_date(raw)
    assert parsed == ParsedDate(raw, instant, precision, None)
    assert parsed.instant is not None
    assert parsed.instant.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("raw", "instant", "precision"),
    [
        ("2020-06-27t13:51:26z", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("2020-06-27T13:51:26z", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("  2020-06-27T13:51:26Z\r\n", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("\t2016\t", utc(2016, 1, 1), "year"),
        ("2020-06-27 13:51:26Z", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("2020-06-27 13:51Z", utc(2020, 6, 27, 13, 51), "minute"),
        ("2020-06-27T13:51:26+02:00", utc(2020, 6, 27, 11, 51, 26), "second"),
        ("2020-06-27T13:51:26-0500", utc(2020, 6, 27, 18, 51, 26), "second"),
        ("2020-06-27T13:51:26+00:00", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("2020-06-27T13:51:26-00:00", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("2020-06-27T13:51:26+05:30", utc(2020, 6, 27, 8, 21, 26), "second"),
        ("2020-06-27T13:51:26+02", utc(2020, 6, 27, 11, 51, 26), "second"),
        ("2020-06-27T13:51+01:00", utc(2020, 6, 27, 12, 51), "minute"),
        ("2020-06-27T13:51:26.25-01:00", utc(2020, 6, 27, 14, 51, 26, 250000), "fraction"),
        # An offset can move the instant across a day, month and year boundary.
        ("2021-01-01T01:00:00+02:00", utc(2020, 12, 31, 23), "second"),
        ("2020-12-31T22:00:00-0300", utc(2021, 1, 1, 1), "second"),
        # No zone designator: WARC requires UTC, so UTC it is, at the precision written.
        ("2020-06-27T13:51:26", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("2020-06-27T13:51", utc(2020, 6, 27, 13, 51), "minute"),
        ("2020-06-27 13:51:26.75", utc(2020, 6, 27, 13, 51, 26, 750000), "fraction"),
    ],
)
def test_warc_date_lenient_forms(raw: str, instant: datetime, precision: Precision) -> None:
    parsed = parse_warc_date(raw)
    assert parsed.instant == instant
    assert parsed.precision == precision
    assert parsed.error is None
    assert parsed.raw == raw


@pytest.mark.parametrize(
    ("raw", "instant", "precision"),
    [
        ("20200627135126", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("202006271351", utc(2020, 6, 27, 13, 51), "minute"),
        ("20200627", utc(2020, 6, 27), "day"),
        (" 20200627135126 ", utc(2020, 6, 27, 13, 51, 26), "second"),
    ],
)
def test_warc_date_compact_arc_style(raw: str, instant: datetime, precision: Precision) -> None:
    assert parse_warc_date(raw) == ParsedDate(raw, instant, precision)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "yesterday",
        "16-01-02",
        "2016-1-2",
        "2016-01-02T03Z",
        "2016-01-02T03:04:05.Z",
        "2016-01-02T03:04.5Z",
        "2016-01-02Z",
        "2016-01-02T03:04:05ZZ",
        "2016-01-02T03:04:05+00:00Z",
        "2016-01-02T03:04:05 Z",
        "2016-01-02T03:04:05UTC",
        "2016-01-02T03:04:05+2",
        "2016-01-02T03:04:05+02:0",
        "2016-01-02_03:04:05Z",
        "2016/01/02",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "201601",  # six digits are not among the compact forms written into WARC-Date
        "2016010203",  # ten digits: an hour, which no precision level names
        "2016010203040",
        "201601020304051",
        "２０１６-01-02",  # fullwidth digits
        "٢٠١٦",  # Arabic-Indic digits
    ],
)
def test_warc_date_rejects_malformed(raw: str) -> None:
    parsed = parse_warc_date(raw)
    assert parsed.instant is None
    assert parsed.precision == "invalid"
    assert parsed.error
    assert not parsed.is_capture_grade
    assert parsed.raw == raw


def test_warc_date_error_reasons() -> None:
    assert parse_warc_date("").error == "empty date"
    assert parse_warc_date("yesterday").error == "not a W3C-DTF date"
    assert "month" in (parse_warc_date("2016-13").error or "")
    assert "offset" in (parse_warc_date("2016-01-02T03:04:05+24:00").error or "")


@pytest.mark.parametrize(
    "raw",
    [
        "2016-13",
        "2016-00-01",
        "2016-13-01T00:00:00Z",
        "2016-02-30",
        "2016-04-31T00:00:00Z",
        "2016-01-00",
        "2016-01-32",
        "2016-01-02T25:00:00Z",
        "2016-01-02T24:00:00Z",
        "2016-01-02T23:60:00Z",
        "2016-01-02T23:59:60Z",  # no leap seconds: datetime cannot hold them, W3C-DTF stops at 59
        "0000-01-01",
        "2016-01-02T03:04:05+24:00",
        "2016-01-02T03:04:05+01:60",
        "20161301000000",
        "20160230000000",
        "20160102250000",
        # A valid offset that would carry the instant outside datetime's range.
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_warc_date_rejects_out_of_range(raw: str) -> None:
    parsed = parse_warc_date(raw)
    assert parsed.instant is None
    assert parsed.precision == "invalid"
    assert parsed.error


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("2016-02-29", True),
        ("2015-02-29", False),
        ("2000-02-29", True),  # divisible by 400: a leap year
        ("1900-02-29", False),  # divisible by 100 only: not a leap year
        ("2016-02-29T23:59:59Z", True),
        ("2015-02-29T00:00:00Z", False),
        ("20160229120000", True),
        ("20150229120000", False),
    ],
)
def test_warc_date_february_29(raw: str, valid: bool) -> None:
    parsed = parse_warc_date(raw)
    assert (parsed.instant is not None) is valid
    if valid:
        assert parsed.instant is not None
        assert (parsed.instant.month, parsed.instant.day) == (2, 29)


def test_warc_date_offset_across_leap_day() -> None:
    assert parse_warc_date("2016-03-01T01:00:00+02:00").instant == utc(2016, 2, 29, 23)
    assert parse_warc_date("2015-03-01T01:00:00+02:00").instant == utc(2015, 2, 28, 23)


def test_warc_date_fraction_is_truncated_not_rounded() -> None:
    assert parse_warc_date("2020-06-27T13:51:26.9999999Z").instant == utc(
        2020, 6, 27, 13, 51, 26, 999999
    )
    assert parse_warc_date("2020-12-31T23:59:59.99999999999Z").instant == utc(
        2020, 12, 31, 23, 59, 59, 999999
    )
    assert parse_warc_date("2020-06-27T13:51:26.0000009Z").instant == utc(2020, 6, 27, 13, 51, 26)


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("2020-06-27T13:51:26.5Z", "2020-06-27T13:51:26.51Z"),
        ("2020-06-27T13:51:26Z", "2020-06-27T13:51:26.000001Z"),
        ("2020-06-27T13:51:26.09Z", "2020-06-27T13:51:26.1Z"),
        ("2020-06-27T13:51:26.999999Z", "2020-06-27T13:51:27Z"),
        ("2020-06-27T13:51:26.123Z", "2020-06-27T13:51:26.123001Z"),
        ("2020-06-27T14:51:26+02:00", "2020-06-27T13:51:26Z"),
    ],
)
def test_sub_second_ordering(earlier: str, later: str) -> None:
    first, second = parse_warc_date(earlier).instant, parse_warc_date(later).instant
    assert first is not None
    assert second is not None
    assert first < second


def test_coarse_dates_are_first_instant_of_their_period() -> None:
    year, month, day = (parse_warc_date(raw) for raw in ("2016", "2016-02", "2016-02-03"))
    assert year.instant == utc(2016, 1, 1)
    assert month.instant == utc(2016, 2, 1)
    assert day.instant == utc(2016, 2, 3)
    assert [d.precision for d in (year, month, day)] == ["year", "month", "day"]


@pytest.mark.parametrize(
    ("raw", "capture_grade"),
    [
        ("2016", False),
        ("2016-01", False),
        ("2016-01-02", False),
        ("2016-01-02T03:04Z", False),
        ("2016-01-02T03:04:05Z", True),
        ("2016-01-02T03:04:05.1Z", True),
        ("20160102030405", True),
        ("nonsense", False),
    ],
)
def test_is_capture_grade(raw: str, capture_grade: bool) -> None:
    assert parse_warc_date(raw).is_capture_grade is capture_grade


def test_parsed_date_is_frozen() -> None:
    parsed = parse_warc_date("2016")
    with pytest.raises(AttributeError):
        parsed.precision = "day"  # type: ignore[misc]


# --- parse_arc_date: ARC v1 record-line dates ----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "instant", "precision"),
    [
        ("20200627135126", utc(2020, 6, 27, 13, 51, 26), "second"),
        ("19961231235959", utc(1996, 12, 31, 23, 59, 59), "second"),
        ("20200627135126123", utc(2020, 6, 27, 13, 51, 26, 123000), "fraction"),
        ("202006271351", utc(2020, 6, 27, 13, 51), "minute"),
        ("20200627", utc(2020, 6, 27), "day"),
        ("202006", utc(2020, 6, 1), "month"),
        ("2020", utc(2020, 1, 1), "year"),
        (" 20200627135126\n", utc(2020, 6, 27, 13, 51, 26), "second"),
    ],
)
def test_arc_date_forms(raw: str, instant: datetime, precision: Precision) -> None:
    assert parse_arc_date(raw) == ParsedDate(raw, instant, precision)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "2020062713",  # ten digits: an hour, which no precision level names
        "2020062713512",
        "202006271351261",
        "2020-06-27T13:51:26Z",  # W3C-DTF is a WARC form, not an ARC one
        "20200627 135126",
        "2020062713512a",
        "20201327135126",
        "20200631135126",
        "20200627245126",
        "20150229000000",
    ],
)
def test_arc_date_rejects(raw: str) -> None:
    parsed = parse_arc_date(raw)
    assert parsed.instant is None
    assert parsed.precision == "invalid"
    assert parsed.error


# --- parse_http_date: Last-Modified (RFC 9110 §5.6.7) --------------------------------------


@pytest.mark.parametrize(
    ("raw", "instant"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),  # IMF-fixdate
        ("Sunday, 06-Nov-94 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),  # obsolete RFC 850
        ("Sun Nov  6 08:49:37 1994", utc(1994, 11, 6, 8, 49, 37)),  # obsolete asctime
        ("  Sun, 06 Nov 1994 08:49:37 GMT  ", utc(1994, 11, 6, 8, 49, 37)),
        ("Sun, 06 Nov 1994 08:49:37 +0200", utc(1994, 11, 6, 6, 49, 37)),
        ("Sun, 06 Nov 1994 08:49:37 -0000", utc(1994, 11, 6, 8, 49, 37)),
        ("Sun, 06 Nov 1994 08:49:37 UTC", utc(1994, 11, 6, 8, 49, 37)),
        ("Thu, 29 Feb 2024 00:00:00 GMT", utc(2024, 2, 29)),
    ],
)
def test_http_date_forms(raw: str, instant: datetime) -> None:
    parsed = parse_http_date(raw)
    assert parsed == instant
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "0",
        "-1",
        "never",
        "2020",
        "2020-06-27",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Thu, 29 Feb 2023 00:00:00 GMT",
    ],
)
def test_http_date_rejects(raw: str) -> None:
    assert parse_http_date(raw) is None


# --- format_utc ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (utc(2020, 6, 27, 13, 51, 26), "2020-06-27T13:51:26Z"),
        (utc(2020, 6, 27, 13, 51, 26, 500000), "2020-06-27T13:51:26.5Z"),
        (utc(2020, 6, 27, 13, 51, 26, 120000), "2020-06-27T13:51:26.12Z"),
        (utc(2020, 6, 27, 13, 51, 26, 1), "2020-06-27T13:51:26.000001Z"),
        (utc(2020, 6, 27, 13, 51, 26, 999999), "2020-06-27T13:51:26.999999Z"),
        (datetime(2020, 6, 27, 13, 51, 26), "2020-06-27T13:51:26Z"),  # naive: taken as UTC
        (
            datetime(2020, 6, 27, 15, 51, 26, tzinfo=timezone(timedelta(hours=2))),
            "2020-06-27T13:51:26Z",
        ),
        (
            datetime(2020, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2021-01-01T01:00:00Z",
        ),
        (utc(999, 1, 2, 3, 4, 5), "0999-01-02T03:04:05Z"),
        (utc(1, 1, 1), "0001-01-01T00:00:00Z"),
    ],
)
def test_format_utc(instant: datetime, text: str) -> None:
    assert format_utc(instant) == text


# --- properties ------------------------------------------------------------------------------


@given(AWARE)
def test_format_then_parse_round_trips_any_aware_datetime(instant: datetime) -> None:
    text = format_utc(instant)
    parsed = parse_warc_date(text)
    # Compare in UTC: PEP 495 makes inter-zone equality false for times in a DST fold or gap.
    assert parsed.instant == instant.astimezone(UTC)
    assert parsed.precision == ("fraction" if instant.microsecond else "second")
    assert parsed.is_capture_grade
    assert format_utc(parsed.instant) == text


@given(NAIVE)
def test_format_then_parse_round_trips_naive_as_utc(instant: datetime) -> None:
    assert parse_warc_date(format_utc(instant)).instant == instant.replace(tzinfo=UTC)


@given(NAIVE, FIXED_OFFSETS, st.booleans(), st.sampled_from(["T", "t", " "]))
def test_numeric_offsets_convert_to_utc(
    local: datetime, zone: timezone, colon: bool, separator: str
) -> None:
    offset = zone.utcoffset(None)
    raw = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}{separator}"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}.{local.microsecond:06d}"
        f"{_offset_text(offset, colon)}"
    )
    assert parse_warc_date(raw).instant == local.replace(tzinfo=zone).astimezone(UTC)


@given(NAIVE)
def test_compact_forms_agree_with_w3cdtf(instant: datetime) -> None:
    whole = instant.replace(microsecond=0)
    expected = whole.replace(tzinfo=UTC)
    assert parse_warc_date(_compact(whole)) == ParsedDate(_compact(whole), expected, "second")
    assert parse_arc_date(_compact(whole)) == ParsedDate(_compact(whole), expected, "second")
    assert parse_warc_date(format_utc(whole)).instant == expected


@given(NAIVE, st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_any_fraction_length_truncates_to_microseconds(instant: datetime, digits: str) -> None:
    raw = format_utc(instant.replace(microsecond=0))[:-1] + "." + digits + "Z"
    parsed = parse_warc_date(raw)
    assert parsed.precision == "fraction"
    assert parsed.instant == instant.replace(microsecond=int(digits[:6].ljust(6, "0")), tzinfo=UTC)


@given(AWARE, AWARE)
def test_parsed_instants_keep_the_order_of_the_originals(a: datetime, b: datetime) -> None:
    first, second = parse_warc_date(format_utc(a)).instant, parse_warc_date(format_utc(b)).instant
    assert first is not None
    assert second is not None
    assert (first < second) == (a < b)
    assert (first == second) == (a.astimezone(UTC) == b.astimezone(UTC))


@given(st.dates())
def test_day_dates_parse_to_midnight(day: date) -> None:
    raw = str(day)  # date.__str__ is ISO YYYY-MM-DD
    parsed = parse_warc_date(raw)
    assert parsed.precision == "day"
    assert parsed.instant is not None
    assert parsed.instant.date() == day
    assert parsed.instant.time() == datetime.min.time()


@given(st.text())
def test_warc_and_arc_parsers_never_raise(raw: str) -> None:
    for parsed in (parse_warc_date(raw), parse_arc_date(raw)):
        assert parsed.raw == raw
        assert parsed.precision in PRECISIONS
        invalid = parsed.precision == "invalid"
        assert (parsed.instant is None) is invalid
        assert (parsed.error is not None) is invalid
        if parsed.instant is not None:
            assert parsed.instant.utcoffset() == timedelta(0)


@given(st.text())
def test_http_parser_never_raises(raw: str) -> None:
    parsed = parse_http_date(raw)
    assert parsed is None or parsed.utcoffset() == timedelta(0)


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(9999, 12, 31, 23, 59, 59),
        timezones=st.just(UTC),
    )
)
def test_http_date_round_trips_imf_fixdate(instant: datetime) -> None:
    # HTTP dates carry whole seconds only.
    whole = instant.replace(microsecond=0)
    assert parse_http_date(format_datetime(whole, usegmt=True)) == whole


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@given(st.datetimes(min_value=datetime(1969, 1, 1), max_value=datetime(2068, 12, 31, 23, 59, 59)))
def test_http_date_obsolete_forms_agree_with_imf_fixdate(instant: datetime) -> None:
    # Built by hand, not strftime, so the test does not depend on the locale. RFC 850's
    # two-digit year is read with a fixed pivot: 69-99 are 19xx, 00-68 are 20xx.
    d = instant.replace(microsecond=0)
    clock = f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    month = _MONTHS[d.month - 1]
    rfc850 = f"{_DAYS[d.weekday()]}, {d.day:02d}-{month}-{d.year % 100:02d} {clock} GMT"
    asctime = f"{_DAYS[d.weekday()][:3]} {month} {d.day:2d} {clock} {d.year}"
    expected = d.replace(tzinfo=UTC)
    assert parse_http_date(rfc850) == expected
    assert parse_http_date(asctime) == expected
