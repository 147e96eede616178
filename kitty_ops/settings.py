"""Every setting of kitty-ops, defined once: the `KITTY_OPS_*` environment
variables and the `kitty-ops.*` git config keys, each with its default, its
type, its one-line error and what it means (`ENVIRONMENT`, `CONFIG`). Every
reader takes the name, the default and the parsing from here.

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
# What kitty-ops sets for the programs it runs (a post-completion hook, `kitty-ops run`'s command).
OP_ID = "KITTY_OPS_OP_ID"
RECORD = "KITTY_OPS_RECORD"
REPO = "KITTY_OPS_REPO"
DEFAULT_GIT_TIMEOUT = 60.0
DEFAULT_HOOK_TIMEOUT = 120.0

MAX_AGE_HOURS_CONFIG = "kitty-ops.maxAgeHours"
POST_COMPLETE_HOOK_CONFIG = "kitty-ops.postCompleteHook"
TARGET_CONFIG = "kitty-ops.target"
REDACT_CONFIG = "kitty-ops.redact"
REDACT_ALLOW_CONFIG = "kitty-ops.redactAllow"
DEFAULT_MAX_AGE_HOURS = 24.0  # an open Op older than this is stale (hook, doctor, sweep)

# name: (type, default, meaning)
ENVIRONMENT = {
    GIT_TIMEOUT: ("seconds > 0", f"{DEFAULT_GIT_TIMEOUT:g}", "how long any one git call may take"),
    HOOK_TIMEOUT: ("seconds > 0", f"{DEFAULT_HOOK_TIMEOUT:g}", "how long a post-completion hook may take"),
    DEBUG: ("0 or 1", "0", "1: a bug's traceback instead of its one line"),
    POST_COMPLETE_HOOK: ("executable", "the Op commit", "what runs after a completion (before the git config)"),
    OP_ID: ("set by kitty-ops", "", "the Op's id, for a post-completion hook and `kitty-ops run`'s command"),
    RECORD: ("set by kitty-ops", "", "the Op's record file, for a post-completion hook"),
    REPO: ("set by kitty-ops", "", "the repository, for a post-completion hook"),
}
CONFIG = {
    MAX_AGE_HOURS_CONFIG: ("hours >= 0", f"{DEFAULT_MAX_AGE_HOURS:g}",
                           "an open Op whose owner is unknown is stale after this (hook, doctor, sweep)"),
    POST_COMPLETE_HOOK_CONFIG: ("executable", "the Op commit", "what runs after a completion"),
    TARGET_CONFIG: ("branch or ref", "branch", "where Op commits go: the branch, or refs/kitty-ops/records"),
    REDACT_CONFIG: ("true or false", "true", "replace secrets by [REDACTED:<rule>] before a line is written,"
                    " and block staged ones"),
    REDACT_ALLOW_CONFIG: ("regex, multi-valued", "", "a secret any of these patterns finds is kept as it is"),
}
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


def parse_max_age_hours(text: str) -> float:
    """`kitty-ops.maxAgeHours` as hours (the default when empty); InvalidInput when it is not a number >= 0."""
    if not text:
        return DEFAULT_MAX_AGE_HOURS
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not hours >= 0 or hours == float("inf"):
        raise InvalidInput(f"git config {MAX_AGE_HOURS_CONFIG}: {text!r} is not a number of hours (>= 0)")
    return hours


def is_ref_target(text: str | None) -> bool:
    """`kitty-ops.target` says ref mode (`ref`); anything else is the branch."""
    return (text or "").strip().lower() == "ref"


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
