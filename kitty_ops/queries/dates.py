"""Dates given on the command line (`--since`), read by git's own careful
date parser, so that they mean what they mean to `git log --since`.

`git log --since` accepts anything and quietly reads what it cannot parse as
"now"; git's stricter parser (the one behind `--type=expiry-date`) refuses
it. Standard library only.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from kitty_ops.errors import InvalidInput
from kitty_ops.gitio import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

_NOW = 2**64 - 1  # what git's expiry parser says for "now"


def since_timestamp(text: str, cwd: Path | str = ".", option: str = "--since") -> float:
    """Seconds since the epoch for a date as git reads it ('2 weeks ago',
    2026-11-01, yesterday); InvalidInput with one line when git cannot."""
    if not text.strip() or "\n" in text:
        raise InvalidInput(f"{option} {text!r}: not a date (try '2 weeks ago' or 2026-11-01)")
    result = git.run(["-c", f"kitty-ops.since={text}", "config", "--type=expiry-date", "kitty-ops.since"],
                     cwd, check=False)
    value = result.stdout.decode(errors="replace").strip()
    if result.returncode != 0 or not value.isdigit():
        raise InvalidInput(f"{option} {text!r}: not a date git understands (try '2 weeks ago' or 2026-11-01)")
    return time.time() if int(value) == _NOW else float(value)


def since_datetime(text: str, cwd: Path | str = ".", option: str = "--since") -> datetime:
    """`since_timestamp` as an aware UTC datetime."""
    return datetime.fromtimestamp(since_timestamp(text, cwd, option), timezone.utc)
