"""Alertmanager's `time_intervals`: validated once at load, then asked "active at t?".

A named interval is a list of ranges; a range matches when every field it gives matches
(times, weekdays, days_of_month, months, years, evaluated in its location); the interval is
active when any range matches. Ranges are inclusive except `times`, whose end is exclusive.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core_alerts.domain.errors import ConfigError
from core_alerts.routing.config import TimeInterval

Span = tuple[int, int]
"""An inclusive (begin, end) pair; for `times`, minutes of the day with the end exclusive."""

_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_WEEKDAYS = {
    name: number
    for number, name in enumerate(
        ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    )
}
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_FIELDS = frozenset({"times", "weekdays", "days_of_month", "months", "years", "location"})


class _Invalid(ValueError):
    """A field's value is wrong; compile_time_intervals adds which interval and field."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """One entry of a named interval; a field that is None was not given (matches anything)."""

    times: tuple[Span, ...] | None = None
    weekdays: tuple[Span, ...] | None = None
    days_of_month: tuple[Span, ...] | None = None
    months: tuple[Span, ...] | None = None
    years: tuple[Span, ...] | None = None
    location: tzinfo = UTC

    def contains(self, epoch: float) -> bool:
        moment = datetime.fromtimestamp(epoch, self.location)
        minute = moment.hour * 60 + moment.minute
        if self.times is not None and not any(b <= minute < e for b, e in self.times):
            return False
        if self.days_of_month is not None and not _day_matches(self.days_of_month, moment):
            return False
        if self.months is not None and not _within(self.months, moment.month):
            return False
        # Go numbers weekdays from Sunday = 0; Python from Monday = 0.
        if self.weekdays is not None and not _within(self.weekdays, (moment.weekday() + 1) % 7):
            return False
        return self.years is None or _within(self.years, moment.year)


@dataclass(frozen=True, slots=True)
class CompiledInterval:
    name: str
    ranges: tuple[TimeRange, ...]

    def active(self, epoch: float) -> bool:
        return any(r.contains(epoch) for r in self.ranges)


def compile_time_intervals(intervals: Sequence[TimeInterval]) -> dict[str, CompiledInterval]:
    """Validate and compile; a bad value raises ConfigError naming the interval and field."""
    compiled: dict[str, CompiledInterval] = {}
    for interval in intervals:
        ranges = []
        for entry in interval.time_intervals:
            ranges.append(_compile_range(interval, entry))
        compiled[interval.name] = CompiledInterval(interval.name, tuple(ranges))
    return compiled


def _compile_range(interval: TimeInterval, entry: Any) -> TimeRange:
    where = f"time interval {interval.name!r} (line {interval.line})"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: each entry of time_intervals must be a mapping")
    for key in entry:
        if key not in _FIELDS:
            raise ConfigError(f"{where}: field {key} not found in a time interval", field=key)
    parsers: dict[str, Callable[[Any], Any]] = {
        "times": _times,
        "weekdays": lambda v: _spans(v, _weekday_span),
        "days_of_month": lambda v: _spans(v, _day_span),
        "months": lambda v: _spans(v, _month_span),
        "years": lambda v: _spans(v, _year_span),
        "location": _location,
    }
    values: dict[str, Any] = {}
    for key, parse in parsers.items():
        if entry.get(key) is None:  # absent or `key:` with no value
            continue
        try:
            values[key] = parse(entry[key])
        except _Invalid as exc:
            raise ConfigError(f"{where}: {key}: {exc}", field=key) from None
    return TimeRange(**values)


def _items(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid("must be a list")
    return value


def _times(value: Any) -> tuple[Span, ...]:
    spans = []
    for item in _items(value):
        if not isinstance(item, Mapping) or set(item) - {"start_time", "end_time"}:
            raise _Invalid("each entry must be a mapping of start_time and end_time")
        start, end = item.get("start_time"), item.get("end_time")
        if start in (None, "") or end in (None, ""):
            raise _Invalid("both start and end times must be provided")
        begin, finish = _minute(start), _minute(end)
        if begin >= finish:
            raise _Invalid("start time cannot be equal or greater than end time")
        spans.append((begin, finish))
    return tuple(spans)


def _minute(value: Any) -> int:
    text = _text(value, sexagesimal=lambda v: True)
    if not _TIME.fullmatch(text):
        raise _Invalid(f"couldn't parse timestamp {text}, invalid format")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _spans(value: Any, parse: Callable[[Any], Span]) -> tuple[Span, ...]:
    # An empty list is "given" and matches nothing, as Go's non-nil empty slice does.
    return tuple(parse(item) for item in _items(value))


def _weekday_span(value: Any) -> Span:
    text = _text(value, sexagesimal=lambda v: v >= 60)
    begin, end = _bounds(text, lambda part: _named(part, _WEEKDAYS, "a valid weekday"))
    if begin > end:
        raise _Invalid(f"start day cannot be before end day in {text!r}")
    return begin, end


def _month_span(value: Any) -> Span:
    text = _text(value, sexagesimal=lambda v: v > 12)
    begin, end = _bounds(text, _month)
    if begin > end:
        raise _Invalid(f"end month {end} is before start month {begin} in {text!r}")
    return begin, end


def _month(part: str) -> int:
    if _INTEGER.fullmatch(part):
        number = int(part)
        if not 1 <= number <= 12:
            raise _Invalid(f"{part} is not a valid month: out of range")
        return number
    return _named(part, _MONTHS, "a valid month")


def _year_span(value: Any) -> Span:
    text = _text(value, sexagesimal=lambda v: False)
    begin, end = _bounds(text, lambda part: _number(part, "year"))
    if begin > end:
        raise _Invalid(f"end year {end} is before start year {begin}")
    return begin, end


def _day_span(value: Any) -> Span:
    text = _text(value, sexagesimal=lambda v: abs(v) > 31)
    begin, end = _bounds(text, lambda part: _number(part, "day of the month"))
    for day in (begin, end):
        if day == 0 or not -31 <= day <= 31:
            raise _Invalid(f"{day} is not a valid day of the month: out of range")
    if begin < 0 < end:
        raise _Invalid("end day must be negative if start day is negative")
    # Alertmanager's check of a range that is always empty: a negative day d counts as 28 + d.
    if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
        raise _Invalid(f"end day {end} is always before start day {begin}")
    return begin, end


def _day_matches(spans: tuple[Span, ...], moment: datetime) -> bool:
    length = calendar.monthrange(moment.year, moment.month)[1]
    for begin, end in spans:
        first = length + begin + 1 if begin < 0 else begin
        last = length + end + 1 if end < 0 else end
        if first > length:  # e.g. 30:31 in February: no day of this month
            continue
        if first <= moment.day <= min(last, length):
            return True
    return False


def _within(spans: tuple[Span, ...], value: int) -> bool:
    return any(begin <= value <= end for begin, end in spans)


def _location(value: Any) -> tzinfo:
    if not isinstance(value, str):
        raise _Invalid("must be a time zone name")
    if value in ("", "UTC"):
        return UTC
    if value == "Local":
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(f"unknown time zone {value}") from None


def _bounds(text: str, member: Callable[[str], int]) -> Span:
    """`a:b` or a single `a` (meaning `a:a`), case-insensitive like Alertmanager."""
    parts = text.lower().split(":")
    if len(parts) > 2:
        raise _Invalid(f"couldn't parse range {text!r}, invalid format")
    return member(parts[0]), member(parts[-1])


def _named(part: str, names: Mapping[str, int], what: str) -> int:
    if part not in names:
        raise _Invalid(f"{part} is not {what}")
    return names[part]


def _number(part: str, what: str) -> int:
    if not _INTEGER.fullmatch(part):  # Go's Atoi: ASCII digits and a sign only
        raise _Invalid(f"{part} is not a valid {what}")
    return int(part)


def _text(value: Any, *, sexagesimal: Callable[[int], bool]) -> str:
    """The scalar as Go's YAML decoder hands it over: a string.

    PyYAML (YAML 1.1) reads unquoted `17:30` or `1:5` as base-60 integers (1050, 65), which
    Go's decoder never does; an integer that cannot be a plain value of the field is turned
    back into its `a:b` form.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Invalid(f"invalid value {value!r}")
    if isinstance(value, str):
        return value
    if sexagesimal(value):
        sign = "-" if value < 0 else ""
        high, low = divmod(abs(value), 60)
        return f"{sign}{high}:{low:02d}"
    return str(value)
