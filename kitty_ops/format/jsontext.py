"""`json.loads` and `json.dumps` for the lines kitty-ops reads and writes, run
by the C scanner and encoder (`_json`) that the `json` package itself uses,
without importing the package.

`json` imports `re` for its decoder's and encoder's regular expressions, and
`re` brings `enum`: 5 to 9 ms on every `kitty-ops start` and `complete`, as
much as the Op commit's own work. The results are the package's own (the same
C functions, called as `json.decoder` and `json.encoder` call them; a test holds
them to `json` on generated values and text), and anything unusual (no `_json`,
text that is not UTF-8 or has a BOM, an error to report) is handed to `json`.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:
    import _json
except ImportError:  # not CPython: the package does the work
    _json = None  # type: ignore[assignment]

_WHITESPACE = " \t\n\r"  # json.decoder.WHITESPACE
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # UTF-8, and UTF-16/32 in either order


class _Context:
    """What `_json.make_scanner` reads from a JSONDecoder."""

    def __init__(self, object_pairs_hook: Any, parse_float: Any, parse_constant: Any) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = object_pairs_hook
        self.parse_float = parse_float or float
        self.parse_int = int
        self.parse_constant = parse_constant or _CONSTANTS.__getitem__
        self.memo: dict[str, str] = {}


_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}
_scanners: dict[tuple[Any, ...], Any] = {}


def loads(
    text: str | bytes,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_float: Callable[[str], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """`json.loads(text, ...)` with these hooks."""
    hooks = (object_pairs_hook, parse_float, parse_constant)
    if isinstance(text, bytes):
        if _json is None or text.startswith(_BOMS) or b"\0" in text[:4]:
            return _package_loads(text, hooks)
        text = text.decode("utf-8", "surrogatepass")
    if _json is None or not isinstance(text, str) or text.startswith("\ufeff"):
        return _package_loads(text, hooks)
    scanner = _scanners.get(hooks)
    if scanner is None:
        scanner = _scanners[hooks] = _json.make_scanner(_Context(*hooks))  # type: ignore[arg-type]
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = scanner(text, start)
    except StopIteration:
        return _package_loads(text, hooks)  # "Expecting value": the package says where
    if text[end:].strip(_WHITESPACE):
        return _package_loads(text, hooks)  # "Extra data"
    return value


def _package_loads(text: str | bytes, hooks: tuple[Any, ...]) -> Any:
    import json

    return json.loads(text, object_pairs_hook=hooks[0], parse_float=hooks[1], parse_constant=hooks[2])


def _not_serializable(value: object) -> object:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def dumps(value: object, *, allow_nan: bool = True, sort_keys: bool = False,
          separators: tuple[str, str] = (", ", ": ")) -> str:
    """`json.dumps(value, allow_nan=..., sort_keys=..., separators=...)`, ASCII only."""
    if _json is None:
        import json

        return json.dumps(value, allow_nan=allow_nan, sort_keys=sort_keys, separators=separators)
    if isinstance(value, str):
        return _json.encode_basestring_ascii(value)
    # As json.encoder.JSONEncoder.iterencode makes it, with fresh markers (the circular check) each time.
    encoder = _json.make_encoder(
        {}, _not_serializable, _json.encode_basestring_ascii, None, separators[1], separators[0], sort_keys, False,
        allow_nan,
    )
    return "".join(encoder(value, 0))
