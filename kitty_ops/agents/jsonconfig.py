"""An agent's JSON configuration file, read and written with care: every key
and hook that is not kitty-ops' own is kept as it was, in its order; a file
that does not parse is never written.
"""
from __future__ import annotations

import os

from kitty_ops.errors import InvalidInput
from kitty_ops.system import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ConfigError(InvalidInput):
    """A configuration file kitty-ops cannot read: it is left untouched (exit 2)."""


def load(path: str) -> dict[str, Any] | None:
    """The JSON object in `path`, None when there is no such file; ConfigError
    when it is not a JSON object (comments, a syntax error, an array)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if not data.strip():
        return {}
    import json  # here: the hook, which never reads a configuration, does not pay for `re`

    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); left untouched") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: not a JSON object; left untouched")
    return doc


def render(doc: dict[str, Any]) -> bytes:
    import json

    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def save(path: str, doc: dict[str, Any] | None, before: dict[str, Any] | None) -> bool:
    """Write `doc` to `path` when it differs from `before` (what was read);
    None or an empty object removes a file that holds nothing else. True when
    the file changed."""
    if doc == before:
        return False
    if not doc:
        if before is not None:
            os.unlink(path)
        return before is not None
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        mode = 0o644
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    files.write_atomically(path, render(doc), mode)
    return True


def section(doc: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    """`doc[key]`, an object (made when absent); ConfigError when it is something else."""
    value = doc.setdefault(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{key}` is not an object; left untouched")
    return value
