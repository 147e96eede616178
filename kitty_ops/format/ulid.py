"""ULIDs: the ids of Ops, and the only gate an id passes before it names a file."""
from __future__ import annotations

import os
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_LENGTH = 26
_CROCKFORD_SET = frozenset(CROCKFORD)


_last = 0  # the last ULID made by this process, as an integer


def new_ulid() -> str:
    """A new ULID: 48 bits of milliseconds since the epoch, then 80 random bits.

    Monotonic within a process: a second ULID in the same millisecond is the
    previous one plus one, so ids sort in the order they were made.
    """
    global _last
    milliseconds = time.time_ns() // 1_000_000
    value = milliseconds << 80 | int.from_bytes(os.urandom(10), "big")
    if value >> 80 <= _last >> 80:
        value = _last + 1
    _last = value
    chars = []
    for _ in range(ULID_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return "".join(reversed(chars))


def is_ulid(value: object) -> bool:
    """True for an exact canonical ULID: 26 upper-case Crockford characters.

    The first character is at most 7: anything above overflows 128 bits.
    """
    return (
        isinstance(value, str)
        and len(value) == ULID_LENGTH
        and value[0] <= "7"
        and _CROCKFORD_SET.issuperset(value)
    )


def require_ulid(value: object) -> str:
    """Return `value` if it is an exact ULID, else raise ValueError."""
    if not is_ulid(value):
        raise ValueError(f"{value!r} is not an Op id (a 26-character ULID)")
    return value  # type: ignore[return-value]
