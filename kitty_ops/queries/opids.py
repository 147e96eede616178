"""Finding an Op by its id: the whole ULID, or any unique prefix of 8 or more characters.

Case does not matter (ids are upper-case Crockford base 32). The first 10
characters of a ULID are its millisecond, so Ops started together share them:
the subject's `[id8]` can be ambiguous, and then more characters are asked for.
Candidates are the record files in `kitty-ops/`, plus any ids the caller found
elsewhere (the `Op-Id:` trailers of history, for `kitty-ops log`).
"""
from __future__ import annotations

import os

from kitty_ops.errors import InvalidInput, UnknownOp
from kitty_ops.format.layout import EVENTS_DIR, op_id_from_name
from kitty_ops.format.ulid import CROCKFORD, ULID_LENGTH, is_ulid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

MIN_PREFIX = 8
_SHOWN_CANDIDATES = 5


def normalize(text: str) -> str:
    """`text` upper-cased, checked to be a ULID or a prefix of one at least 8 long."""
    value = text.strip().upper()
    if len(value) > ULID_LENGTH or not set(value) <= set(CROCKFORD):
        raise InvalidInput(f"{text!r} is not an Op id (a 26-character ULID) or a prefix of one")
    if len(value) < MIN_PREFIX:
        raise InvalidInput(f"{text}: give at least {MIN_PREFIX} characters of the Op id")
    return value


def record_ids(repo_root: Path | str) -> Iterable[str]:
    """The Op ids of the record files in `kitty-ops/` (none when it is missing)."""
    try:
        with os.scandir(os.path.join(repo_root, EVENTS_DIR)) as entries:
            for entry in entries:
                op_id = op_id_from_name(entry.name)
                if op_id:
                    yield op_id
    except (FileNotFoundError, NotADirectoryError):
        return


def resolve(repo_root: Path | str, text: str, known: Iterable[str] = ()) -> str:
    """The one Op id `text` names. A whole ULID is returned as it is (upper-cased),
    without looking; a prefix must match exactly one id among the records and `known`.
    InvalidInput (exit 2) when it is too short or ambiguous, UnknownOp when nothing matches."""
    prefix = normalize(text)
    if is_ulid(prefix):
        return prefix
    from kitty_ops.store import refstore

    copies = refstore.elsewhere(repo_root)  # ref mode: ids on the records refs count too
    sources = (record_ids(repo_root), known, copies.records if copies else ())
    candidates = sorted({op_id for source in sources for op_id in source if op_id and op_id.startswith(prefix)})
    if not candidates:
        raise UnknownOp(f"{text}: no Op id begins with {prefix} (in {EVENTS_DIR}/)")
    if len(candidates) > 1:
        shown = ", ".join(candidates[:_SHOWN_CANDIDATES])
        more = f" and {len(candidates) - _SHOWN_CANDIDATES} more" if len(candidates) > _SHOWN_CANDIDATES else ""
        raise InvalidInput(f"{text} is ambiguous: {shown}{more}; give more characters")
    return candidates[0]
