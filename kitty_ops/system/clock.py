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
