"""Whether a group's flush is news for one integration (Alertmanager's DedupStage)."""

from __future__ import annotations

from collections.abc import Set


def needs_notify(
    *,
    previous_firing: Set[str] | None,
    previous_resolved: Set[str],
    previous_at: float,
    firing: Set[str],
    resolved: Set[str],
    send_resolved: bool,
    repeat_interval: float,
    now: float,
) -> bool:
    """`previous_firing` is None when the log has no entry for this group and integration.

    1. Never notified: only if something fires (fired-and-resolved within group_wait is silent).
    2. Something fires that the last notification did not carry: notify.
    3. Nothing fires any more: notify iff the last one had firing alerts ("all resolved"),
       whatever send_resolved says, so the log forgets them.
    4. send_resolved and a resolved alert not yet reported: notify.
    5. Otherwise only when repeat_interval has passed since the last notification.
    """
    if previous_firing is None:
        return bool(firing)
    if not firing <= previous_firing:
        return True
    if not firing:
        return bool(previous_firing)
    if send_resolved and not resolved <= previous_resolved:
        return True
    return previous_at < now - repeat_interval
