"""Cursor pagination for list queries, shared by the SQL backends.

Label matchers run in Python (RE2), not in SQL, so a page may need several SQL batches: the
backend asks `Pager` for the next batch's query and size, fetches newest-first rows, and
feeds them back until `feed` returns the page.
"""

from __future__ import annotations

from core_alerts.domain.matchers import matches_all
from core_alerts.domain.record import AlertRecord
from core_alerts.store.ports import AlertPage, AlertQuery

# Matchers drop rows after the fetch: read bigger batches so one page rarely needs many trips.
MATCHER_BATCH = 200


class Pager:
    """Collects one page: `query` is the next batch's filters, `batch` its LIMIT."""

    def __init__(self, query: AlertQuery) -> None:
        self._wanted = query
        self._items: list[AlertRecord] = []
        self.batch = max(query.limit, MATCHER_BATCH) if query.matchers else query.limit + 1
        self.query = query

    def feed(self, batch: list[AlertRecord]) -> AlertPage | None:
        """Take one batch (newest first); return the page once it is complete."""
        wanted, items = self._wanted, self._items
        for rec in batch:
            if wanted.matchers and not matches_all(wanted.matchers, rec.labels):
                continue
            if len(items) >= wanted.limit:
                # A further match exists, so there is a next page; it starts after our last.
                cursor = items[-1].seq if items else None
                return AlertPage(items=items, next_cursor=cursor)
            items.append(rec)
        if len(batch) < self.batch:
            return AlertPage(items=items, next_cursor=None)
        fields = {f: getattr(wanted, f) for f in wanted.__struct_fields__}
        self.query = AlertQuery(**{**fields, "after_seq": batch[-1].seq})
        return None
