"""Time intervals as Alertmanager evaluates them (timeinterval package tables), and validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from core_alerts.domain.errors import ConfigError
from core_alerts.routing import CompiledInterval, TimeInterval, compile_time_intervals, load_config


def _at(text: str) -> float:
    """Alertmanager's test time format, e.g. `04 May 20 15:04 +0000`."""
    return datetime.strptime(text, "%d %b %y %H:%M %z").timestamp()


def _compile(*ranges: dict[str, Any]) -> CompiledInterval:
    return compile_time_intervals([TimeInterval("x", tuple(ranges), 1)])["x"]


# (ranges, times when active, times when not) -- the cases of Alertmanager's timeinterval tests.
TABLE = [
    pytest.param([{}], ["02 Jan 06 15:04 +0000", "03 Jan 07 10:04 +0000"], [], id="empty-range"),
    pytest.param(
        [{"times": [{"start_time": "09:00", "end_time": "17:00"}], "weekdays": ["monday:friday"]}],
        ["04 May 20 15:04 +0000", "05 May 20 10:04 +0000", "09 Jun 20 09:04 +0000"],
        ["03 May 20 15:04 +0000", "04 May 20 08:59 +0000", "05 May 20 05:00 +0000"],
        id="office-hours",
    ),
    pytest.param(
        [{"days_of_month": ["4:6"], "months": ["april"], "years": ["2020"]}],
        ["04 Apr 20 15:04 +0000", "05 Apr 20 00:00 +0000", "06 Apr 20 23:05 +0000"],
        [
            "03 May 18 15:04 +0000",
            "03 Apr 20 23:59 +0000",
            "04 Jun 20 23:59 +0000",
            "06 Apr 19 23:59 +0000",
            "07 Apr 20 00:00 +0000",
        ],
        id="easter-2020-inclusive-days",
    ),
    pytest.param(
        [{"days_of_month": ["-3:-1"]}],
        [
            "31 Jan 20 15:04 +0000",
            "30 Jan 20 15:04 +0000",
            "29 Jan 20 15:04 +0000",
            "30 Jun 20 00:00 +0000",
            "29 Feb 20 23:05 +0000",
        ],
        ["27 Jan 20 15:04 +0000", "03 Apr 20 23:59 +0000", "01 Mar 20 00:00 +0000"],
        id="negative-days-from-month-end",
    ),
    pytest.param(
        [{"months": ["6"], "days_of_month": ["1:31"]}],
        ["30 Jun 20 00:00 +0000", "01 Jun 20 00:00 +0000"],
        ["31 May 20 00:00 +0000", "01 Jul 20 00:00 +0000"],
        id="days-clamped-to-month",
    ),
    pytest.param(
        [{"days_of_month": ["30:31"]}],
        ["30 Jan 21 12:00 +0000", "31 Jan 21 12:00 +0000"],
        ["28 Feb 21 12:00 +0000", "01 Mar 21 12:00 +0000"],
        id="days-past-a-short-month",
    ),
    pytest.param(
        [
            {
                "times": [{"start_time": "09:00", "end_time": "17:00"}],
                "weekdays": ["monday:friday"],
                "location": "Australia/Sydney",
            }
        ],
        # In November Sydney is at +11: 08:30 at +10 is 09:30 there, 16:30 at +10 is 17:30.
        ["06 Apr 21 13:00 +1000", "11 Nov 21 09:00 +1100", "11 Nov 21 08:30 +1000"],
        ["06 Apr 21 13:00 +0000", "11 Nov 21 08:59 +1100", "11 Nov 21 16:30 +1000"],
        id="location-with-and-without-dst",
    ),
    pytest.param(
        [{"times": [{"start_time": "00:00", "end_time": "24:00"}], "weekdays": ["Saturday"]}],
        ["02 May 20 00:00 +0000", "02 May 20 23:59 +0000"],
        ["03 May 20 00:00 +0000", "01 May 20 23:59 +0000"],
        id="24:00-end-and-case-insensitive-day",
    ),
    pytest.param(
        [{"times": [{"start_time": "09:00", "end_time": "10:00"}]}],
        ["04 May 20 09:00 +0000", "04 May 20 09:59 +0000"],
        ["04 May 20 10:00 +0000", "04 May 20 08:59 +0000"],
        id="end-time-exclusive",
    ),
    pytest.param(
        [{"weekdays": ["saturday", "sunday"]}, {"months": ["december"], "days_of_month": ["24"]}],
        ["02 May 20 12:00 +0000", "24 Dec 20 12:00 +0000"],
        ["04 May 20 12:00 +0000", "25 Dec 20 12:00 +0000"],
        id="any-range-matches",
    ),
    pytest.param(
        [{"months": ["1:3", "november:december"], "years": ["2019:2020"]}],
        ["15 Feb 19 12:00 +0000", "15 Dec 20 12:00 +0000"],
        ["15 Apr 20 12:00 +0000", "15 Jan 21 12:00 +0000"],
        id="month-number-and-name-ranges",
    ),
    pytest.param([{"weekdays": []}], [], ["02 May 20 12:00 +0000"], id="empty-list-matches-none"),
]


@pytest.mark.parametrize(("ranges", "active", "inactive"), TABLE)
def test_alertmanager_table(
    ranges: list[dict[str, Any]], active: list[str], inactive: list[str]
) -> None:
    interval = _compile(*ranges)
    assert [t for t in active if not interval.active(_at(t))] == []
    assert [t for t in inactive if interval.active(_at(t))] == []


def test_location_dst_edges() -> None:
    # Berlin skips 02:00-03:00 on 2021-03-28 and has it twice on 2021-10-31.
    night = _compile(
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"}
    )
    spring = datetime.fromisoformat("2021-03-28T00:00:00+00:00").timestamp()
    assert not any(night.active(spring + m * 60) for m in range(0, 24 * 60, 5))
    autumn = datetime.fromisoformat("2021-10-31T00:00:00+00:00").timestamp()
    active = [m for m in range(0, 24 * 60, 30) if night.active(autumn + m * 60)]
    assert active == [0, 30, 60, 90]  # 02:00-03:00 CEST, then 02:00-03:00 CET
    # A weekday boundary moves with the zone: Monday 00:30 in Sydney is Sunday in UTC.
    monday = _compile({"weekdays": ["monday"], "location": "Australia/Sydney"})
    assert monday.active(_at("05 Apr 20 14:30 +0000"))
    assert not monday.active(_at("05 Apr 20 12:30 +0000"))


def test_loaded_from_yaml_including_unquoted_colons() -> None:
    # YAML 1.1 reads unquoted 17:30 and 1:3 as base-60 numbers; they still mean what they say.
    config = load_config(
        """
route: {receiver: r}
receivers: [{name: r}]
time_intervals:
- name: office
  time_intervals:
  - times: [{start_time: 09:00, end_time: 17:30}]
    weekdays: [monday:friday]
    days_of_month: [1:10, '-3:-1', 15]
    months: [1:3]
    years: [2020]
"""
    )
    office = compile_time_intervals(config.time_intervals)["office"]
    assert office.active(_at("03 Feb 20 17:29 +0000"))
    assert office.active(_at("28 Feb 20 09:00 +0000"))  # -3 of a leap February
    assert not office.active(_at("03 Feb 20 17:30 +0000"))
    assert not office.active(_at("12 Feb 20 12:00 +0000"))
    assert not office.active(_at("03 Apr 20 12:00 +0000"))


BAD = [
    ({"weekdays": ["mon:fri"]}, "weekdays", "mon is not a valid weekday"),
    ({"weekdays": ["friday:monday"]}, "weekdays", "start day cannot be before end day"),
    ({"weekdays": ["monday:tuesday:friday"]}, "weekdays", "invalid format"),
    ({"times": [{"start_time": "25:00", "end_time": "26:00"}]}, "times", "25:00"),
    ({"times": [{"start_time": "9:00", "end_time": "17:00"}]}, "times", "9:00"),
    ({"times": [{"start_time": "10:00", "end_time": "10:00"}]}, "times", "equal or greater"),
    ({"times": [{"start_time": "00:00", "end_time": "24:01"}]}, "times", "24:01"),
    ({"times": [{"start_time": "10:00"}]}, "times", "both start and end times"),
    ({"days_of_month": ["0:5"]}, "days_of_month", "0 is not a valid day of the month"),
    ({"days_of_month": ["1:32"]}, "days_of_month", "32 is not a valid day"),
    ({"days_of_month": ["10:5"]}, "days_of_month", "end day 5 is always before start day 10"),
    ({"days_of_month": ["-10:-20"]}, "days_of_month", "always before"),
    ({"days_of_month": ["-5:3"]}, "days_of_month", "end day must be negative"),
    ({"days_of_month": ["1_0"]}, "days_of_month", "1_0 is not a valid day"),
    ({"months": ["december:january"]}, "months", "is before start month"),
    ({"months": ["13"]}, "months", "13 is not a valid month"),
    ({"months": ["smarch"]}, "months", "smarch is not a valid month"),
    ({"years": ["2020:2019"]}, "years", "end year 2019 is before start year 2020"),
    ({"location": "Mars/Olympus_Mons"}, "location", "unknown time zone"),
    ({"weekdays": "monday"}, "weekdays", "must be a list"),
    ({"hours": ["1"]}, "hours", "field hours not found"),
]


@pytest.mark.parametrize(("entry", "field", "message"), BAD)
def test_invalid_ranges_name_interval_and_field(
    entry: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_time_intervals([TimeInterval("on-call", (entry,), 7)])
    assert caught.value.field == field
    assert "'on-call'" in caught.value.message
    assert message in caught.value.message


def test_several_intervals_compile_by_name() -> None:
    compiled = compile_time_intervals(
        [
            TimeInterval("weekend", ({"weekdays": ["saturday", "sunday"]},), 1),
            TimeInterval("never", (), 2),
        ]
    )
    assert sorted(compiled) == ["never", "weekend"]
    assert compiled["weekend"].active(_at("02 May 20 12:00 +0000"))
    assert not compiled["never"].active(_at("02 May 20 12:00 +0000"))
