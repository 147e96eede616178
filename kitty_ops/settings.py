"""The environment variables kitty-ops reads, each checked with a one-line error.

| variable | means | default |
|---|---|---|
| KITTY_OPS_GIT_TIMEOUT | seconds any one git call may take | 60 |
| KITTY_OPS_HOOK_TIMEOUT | seconds a post-completion hook may take | 120 |
| KITTY_OPS_DEBUG | 1: a bug's traceback instead of its one line | 0 |
| KITTY_OPS_POST_COMPLETE_HOOK | the executable run after completion | the Op commit |

Standard library only, and nothing of kitty-ops but its errors: the hooks and
the CLI check the environment (`check_environment`) before they import
anything that reads it.
"""
from __future__ import annotations

import os
import sys

from kitty_ops.errors import EXIT_USAGE, InvalidInput

GIT_TIMEOUT = "KITTY_OPS_GIT_TIMEOUT"
HOOK_TIMEOUT = "KITTY_OPS_HOOK_TIMEOUT"
DEBUG = "KITTY_OPS_DEBUG"
POST_COMPLETE_HOOK = "KITTY_OPS_POST_COMPLETE_HOOK"
DEFAULT_GIT_TIMEOUT = 60.0
DEFAULT_HOOK_TIMEOUT = 120.0
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def seconds_from_env(name: str, default: float) -> float:
    """The number of seconds in `$name` (`default` when unset or empty);
    InvalidInput when it is not a number greater than 0."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise InvalidInput(f"{name}={os.environ[name]!r}: not a number of seconds greater than 0 (default {default:g})")
    return seconds


def flag_from_env(name: str) -> bool:
    """`$name` as on/off: 1, true, yes, on / 0, false, no, off or empty; InvalidInput otherwise."""
    text = os.environ.get(name, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"{name}={os.environ[name]!r}: not 1 or 0 (true/false, yes/no, on/off)")


def debug_enabled() -> bool:
    """KITTY_OPS_DEBUG is on (never raises: asked while reporting a bug)."""
    try:
        return flag_from_env(DEBUG)
    except InvalidInput:
        return False


def git_timeout() -> float:
    return seconds_from_env(GIT_TIMEOUT, DEFAULT_GIT_TIMEOUT)


def hook_timeout() -> float:
    return seconds_from_env(HOOK_TIMEOUT, DEFAULT_HOOK_TIMEOUT)


def post_complete_hook() -> str | None:
    """The executable KITTY_OPS_POST_COMPLETE_HOOK names, or None when unset."""
    return os.environ.get(POST_COMPLETE_HOOK) or None


def check_hook_command(hook: str, source: str = POST_COMPLETE_HOOK) -> None:
    """InvalidInput unless `hook` is an executable file (a path) or a command on PATH."""
    if os.sep in hook or (os.altsep and os.altsep in hook):
        runnable = os.path.isfile(hook) and os.access(hook, os.X_OK)
    else:
        import shutil  # only when a hook is named: the hooks' start-up stays light

        runnable = shutil.which(hook) is not None
    if not runnable:
        raise InvalidInput(f"{source}={hook!r}: no such executable (a path to one, or a command on PATH)")


def check_environment() -> None:
    """Check every variable whose value must parse; InvalidInput names the first bad one."""
    git_timeout()
    hook_timeout()
    flag_from_env(DEBUG)


def exit_on_bad_environment(program: str) -> None:
    """For a console script: one line on stderr and exit 2 when the environment is bad."""
    try:
        check_environment()
    except InvalidInput as exc:
        print(f"{program}: error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
