"""Warnings, logged at WARNING on the `kitty_ops` logger.

`logging` costs a tenth of a quick command's start-up, and most runs have
nothing to warn about, so it is imported when the first warning comes.
"""
from __future__ import annotations

LOGGER_NAME = "kitty_ops"
_cli_handler_wanted = False


def warn(message: str, *args: object) -> None:
    """Log a warning (printf-style `args`, as logging takes them)."""
    import logging

    logger = logging.getLogger(LOGGER_NAME)
    if _cli_handler_wanted and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("kitty-ops: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    logger.warning(message, *args)


def print_warnings_to_stderr() -> None:
    """For the command line: warnings go to stderr as `kitty-ops: WARNING: ...`."""
    global _cli_handler_wanted
    _cli_handler_wanted = True
