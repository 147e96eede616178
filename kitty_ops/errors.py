"""The errors kitty-ops reports to its users, each with the exit code it maps to."""
from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEM = 1  # the command ran and found a problem
EXIT_USAGE = 2  # bad usage or bad input


class KittyOpsError(Exception):
    """A failure a user can act on; its message is one line."""

    exit_code = EXIT_PROBLEM


class InvalidInput(KittyOpsError, ValueError):
    """Bad input: an id that is not a ULID, a hostile profile, a missing directory."""

    exit_code = EXIT_USAGE


class UnsafePath(InvalidInput):
    """A record path kitty-ops refuses to write through (a symbolic link)."""


class UnknownOp(KittyOpsError, LookupError):
    """No record exists for this Op id."""


class AlreadyCompleted(KittyOpsError):
    """The Op already has its `completed` event."""


class OpExists(KittyOpsError, FileExistsError):
    """A record with this id already exists (a ULID collision)."""


class CommitSkipped(KittyOpsError):
    """The Op commit could not be made now; the record stays pending."""


class WriteFailed(KittyOpsError):
    """A record line could not be written whole (a full disk, a file-size limit);
    what was written of it is cut off again."""
