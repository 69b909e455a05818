"""When the PostgreSQL store refreshes the planner's statistics of a growing table."""

from __future__ import annotations

from core_alerts.store.postgres.growth import GrowthWatch


def due_points(watch: GrowthWatch, batches: list[int]) -> list[int]:
    """Rows inserted so far at each point an ANALYZE became due."""
    total, due = 0, []
    for n in batches:
        total += n
        if watch.inserted(n):
            due.append(total)
    return due


def test_a_new_table_is_analyzed_after_the_floor_then_at_each_doubling():
    assert due_points(GrowthWatch(-1, floor=1000), [100] * 79) == [1000, 2000, 4000]


def test_a_large_table_waits_until_it_has_doubled():
    watch = GrowthWatch(50_000, floor=1000)
    assert due_points(watch, [1000] * 49) == []
    assert watch.inserted(1000) is True


def test_one_large_batch_counts_whole():
    watch = GrowthWatch(0, floor=1000)
    assert watch.inserted(5000) is True
    assert due_points(watch, [1000] * 5) == [5000]  # the table now holds 5,000 rows
