"""When the PostgreSQL store refreshes the planner's statistics of a new table."""

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


def test_a_table_never_analyzed_is_analyzed_once_after_the_floor():
    assert due_points(GrowthWatch(-1, floor=1000), [100] * 50) == [1000]


def test_a_small_table_is_analyzed_once_a_large_batch_passes_the_floor():
    assert due_points(GrowthWatch(20, floor=1000), [10, 5000, 5000]) == [5010]


def test_a_table_that_was_large_enough_is_left_to_autovacuum():
    assert due_points(GrowthWatch(1000, floor=1000), [1000] * 10) == []
