"""How long a stretch without whitespace every match of a rule holds: a gate
the engine tests before it runs the rule (build time only: `secret_build`).

A rule's keywords can be short (`:` for Telegram's bot tokens, `ac` for
Twilio's): they occur in a timestamp or in prose, and the rule's regex would
then be compiled and run (and Python's `re` imported) for nothing. But a
Telegram token is 44 characters with no whitespace in them, and prose has
no such word. So the builder works out, from the parsed pattern, the longest
run of characters no whitespace can be part of that every match holds, and
the engine runs the rule only on a text whose longest whitespace-free
stretch (`str.split()`) is at least that long. Where the pattern does not
say, the run is 0 and the gate always opens.
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Run = tuple[bool, int, int]  # (never takes whitespace, least length, longest solid run held)

_SPACES = tuple(code for code in range(0x3100) if chr(code).isspace())  # what str.split() splits on


def _class_is_solid(members: list[tuple[Any, Any]], c: Any) -> bool:
    """Whether a character class (its parsed members) takes no whitespace."""
    negated = any(op is c.NEGATE for op, _ in members)
    spaces = {c.CATEGORY_SPACE, c.CATEGORY_UNI_SPACE}
    if negated:  # [^...]: solid when it leaves out every space
        return any(op is c.CATEGORY and av in spaces for op, av in members)
    solid_categories = {c.CATEGORY_DIGIT, c.CATEGORY_WORD, c.CATEGORY_NOT_SPACE, c.CATEGORY_UNI_DIGIT,
                        c.CATEGORY_UNI_WORD, c.CATEGORY_UNI_NOT_SPACE}
    for op, av in members:
        if op is c.LITERAL and chr(av).isspace():
            return False
        if op is c.RANGE and any(av[0] <= code <= av[1] for code in _SPACES):
            return False
        if op is c.CATEGORY and av not in solid_categories:
            return False
        if op not in (c.LITERAL, c.RANGE, c.CATEGORY):
            return False
    return True


def _sequence(items: Any, c: Any) -> Run:
    solid, least, best, current = True, 0, 0, 0
    for op, av in items:
        item_solid, item_least, item_best = _item(op, av, c)
        least += item_least
        if item_solid:
            current += item_least
        else:
            solid, best, current = False, max(best, current, item_best), 0
    return solid, least, max(best, current)


def _item(op: Any, av: Any, c: Any) -> Run:
    if op is c.LITERAL:
        return not chr(av).isspace(), 1, 0 if chr(av).isspace() else 1
    if op is c.IN:
        solid = _class_is_solid(av, c)
        return solid, 1, int(solid)
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return True, 0, 0  # zero-width
    if op is c.SUBPATTERN:
        return _sequence(av[3], c)
    if op is c.ATOMIC_GROUP:
        return _sequence(av, c)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        low, _, body = av
        solid, least, best = _sequence(body, c)
        return solid, low * least, (low * least if solid else best) if low else 0
    if op is c.BRANCH:
        branches = [_sequence(branch, c) for branch in av[1]]
        return (all(solid for solid, _, _ in branches), min(least for _, least, _ in branches),
                min(best for _, _, best in branches))
    return False, 0, 0  # any character, a negated literal, a back reference: may be whitespace


def solid_run(pattern: str, flags: int) -> int:
    """The longest run of non-whitespace characters every match of `pattern` holds."""
    parser = importlib.import_module("re._parser")
    constants = importlib.import_module("re._constants")
    return _sequence(parser.parse(pattern, flags), constants)[2]
