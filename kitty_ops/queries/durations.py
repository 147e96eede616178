"""Durations and ages as people read them, one way everywhere: `42s`, `17m`,
`5h05m`, `2d06h` (two units at most, whole numbers). Standard library only."""
from __future__ import annotations


def format_duration(seconds: float | None) -> str:
    """`42s`, `17m`, `5h05m`, `2d06h`; `?` when unknown."""
    if seconds is None:
        return "?"
    whole = round(max(seconds, 0))
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"
