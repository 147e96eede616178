"""`datetime` and `timezone` for the modules every `start` and `complete` imports.

They are taken from `_datetime`, the C module that the `datetime` module
re-exports (they are the same types), where there is one: the Python half of
`datetime` costs about 1 ms to import, on every Op.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime, timezone
else:
    try:
        from _datetime import datetime, timezone
    except ImportError:  # not CPython
        from datetime import datetime, timezone

__all__ = ["datetime", "timezone"]


def age_text(hours: float | None) -> str:
    """An age as a person reads it, in one unit, rounded down: `<1 min`,
    `12 min`, `3 h`, `2 d`; `?` when unknown."""
    if hours is None:
        return "?"
    minutes = int(max(hours, 0.0) * 60)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"
